"""The extractor's hot modules compiled by mypyc, used only while they match their source.

``python -m monitor.extract.build_native`` (run by ``make compile``) compiles the modules in
``COMPILED`` into ``monitor/extract/_native/`` with a manifest of their sources' SHA-256.
Importing ``monitor.extract`` calls ``install()``, which only puts a finder on the import
path: the hashes are checked when the first of those modules is imported (a command that
extracts nothing pays nothing). If every hash still matches, the finder serves the
modules from the compiled files; otherwise (a source edited since, no C compiler at
install time, ``MONITOR_PURE_PYTHON=1``) it serves nothing and the plain modules load.
All or nothing, because compiled modules call each other natively: a compiled module
beside the plain version of another would run stale code.

The compiled files sit in their own folder, not beside the sources: Python prefers an
extension module to a ``.py`` of the same name, so one left beside an edited source would
silently run the old code.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "monitor.extract"
HERE = Path(__file__).resolve().parent
NATIVE_DIR = HERE / "_native"
MANIFEST = NATIVE_DIR / "manifest.json"
# The per-item path: scanning, names, rules, the extractor loop. The build-time modules
# (lexicon, places, watchlist) and the corpus/evaluation code stay plain Python.
COMPILED = (
    "textfold",
    "sentences",
    "mentions",
    "names",
    "rules",
    "location",
    "place_mentions",
    "cues",
    "region_scope",
    "regions",
    "site_lists",
    "linker_model",
    "linker",
    "extractor",
)
GROUP = "monitor_extract"  # mypyc's shared library is the top-level module GROUP__mypyc
PURE_ENV = "MONITOR_PURE_PYTHON"

_state: dict[str, str] = {"status": "not checked"}


def source_hashes(folder: Path = HERE) -> dict[str, str]:
    """SHA-256 of each compiled module's source in ``folder``."""
    import hashlib

    return {
        name: hashlib.sha256((folder / f"{name}.py").read_bytes()).hexdigest() for name in COMPILED
    }


def expected_manifest(folder: Path = HERE) -> dict[str, object]:
    """The manifest a build of the sources in ``folder`` writes for this interpreter."""
    return {
        "cache_tag": sys.implementation.cache_tag,
        "suffix": importlib.machinery.EXTENSION_SUFFIXES[0],
        "sources": source_hashes(folder),
    }


def check() -> tuple[dict[str, Path] | None, str]:
    """The compiled files to use (module name -> path), or None and why not."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None, f"pure Python ({PURE_ENV} is set)"
    if not MANIFEST.is_file():
        return None, "pure Python (not compiled: make compile)"
    import json

    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "pure Python (compiled manifest unreadable: make compile)"
    expected = expected_manifest()
    if not isinstance(manifest, dict) or any(manifest.get(k) != v for k, v in expected.items()):
        return None, "pure Python (compiled files older than the sources: make compile)"
    suffix = str(expected["suffix"])
    paths = {f"{PACKAGE}.{name}": NATIVE_DIR / f"{name}{suffix}" for name in COMPILED}
    paths[f"{GROUP}__mypyc"] = NATIVE_DIR / f"{GROUP}__mypyc{suffix}"
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        return None, f"pure Python (compiled file missing: {missing[0]}; make compile)"
    return paths, "compiled (mypyc)"


class _NativeFinder:
    """A meta-path finder for the compiled modules: imports stay lazy, as for plain ones,
    and the sources are hashed once, when the first compiled module is asked for."""

    def __init__(self) -> None:
        self.paths: dict[str, Path] | None = None
        self.checked = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _NAMES:
            return None
        if not self.checked:
            self.checked = True
            self.paths, _state["status"] = check()
            already = [name for name in _NAMES if name in sys.modules]
            if self.paths is not None and already:  # mixing the two is not safe
                self.paths = None
                _state["status"] = f"pure Python ({already[0]} was imported first)"
        if self.paths is None:
            return None
        return importlib.util.spec_from_file_location(fullname, self.paths[fullname])


_NAMES = frozenset([*(f"{PACKAGE}.{name}" for name in COMPILED), f"{GROUP}__mypyc"])


def install() -> None:
    """Put the finder of the compiled modules on the import path (once)."""
    if _state["status"] != "not checked" or any(
        isinstance(f, _NativeFinder) for f in sys.meta_path
    ):
        return
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        _state["status"] = f"pure Python ({PURE_ENV} is set)"
        return
    sys.meta_path.insert(0, _NativeFinder())


def status() -> str:
    """What the extractor runs on: 'compiled (mypyc)' or 'pure Python (why)'."""
    return _state["status"] if _state["status"] != "not checked" else check()[1]
