"""Fact extraction: pure functions from an item's text to facts with evidence."""

from monitor.extract.extractor import Extractor, detect_lang
from monitor.extract.watchlist import Watchlist, default_watchlist

__all__ = ["Extractor", "Watchlist", "default_watchlist", "detect_lang"]
