"""Fact extraction: pure functions from an item's text to facts with evidence.

The names below are loaded on first use (PEP 562): the configuration imports
``monitor.extract.watchlist`` for its model, and must not pay for compiling the
extractor's modules on a pass that extracts nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from monitor.extract import native

native.install()  # the mypyc-compiled hot modules, when built and current

if TYPE_CHECKING:
    from monitor.extract.extractor import Extractor, detect_lang
    from monitor.extract.watchlist import Watchlist, default_watchlist

__all__ = ["Extractor", "Watchlist", "default_watchlist", "detect_lang"]

_MODULE_OF = {
    "Extractor": "extractor",
    "detect_lang": "extractor",
    "Watchlist": "watchlist",
    "default_watchlist": "watchlist",
}


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"monitor.extract.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
