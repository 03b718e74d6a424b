"""The text helpers' fast paths give what their regular expressions give, for every
character (they skip the regex on text where it could change nothing)."""

from __future__ import annotations

import re
import sys

from monitor.safetext import _CONTROLS, strip_controls
from monitor.sources.text import clean_text


def test_strip_controls_skips_only_text_without_controls() -> None:
    # The fast path returns printable text untouched: no character the regex removes may
    # be printable.
    removed = [cp for cp in range(sys.maxunicode + 1) if _CONTROLS.match(chr(cp))]
    assert removed and not any(chr(cp).isprintable() for cp in removed)
    assert strip_controls("Qwen 3\u202e\x1b[2J ok") == "Qwen 3[2J ok"
    assert strip_controls("plain, printable: é 中文") == "plain, printable: é 中文"


def test_clean_text_collapses_the_whitespace_the_regex_did() -> None:
    spaces = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if re.match(r"\s", chr(cp)))
    assert "\u3000" in spaces and "\x1c" in spaces and "\u200b" not in spaces
    text = f"{spaces}a{spaces}b \u200b c{spaces}"
    assert clean_text(text) == re.sub(r"\s+", " ", text).strip() == "a b \u200b c"
    assert clean_text("  x  y ", limit=3) == "x y"
