"""Length-preserving text folding: traditional to simplified Chinese, and lower case.

Offsets must survive folding (evidence points into the original text), so folding is
character for character: OpenCC's single-character table (``TSCharacters.txt``)
applied with ``str.translate``, not OpenCC's phrase conversion (slow, and it may
change lengths). Measured: the OpenCC converter is ~100x slower than the table.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache


@lru_cache(maxsize=1)
def t2s_table() -> dict[int, str]:
    """Traditional -> simplified single-character table from the installed OpenCC data."""
    import opencc

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
    table: dict[int, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or len(parts[0]) != 1:
                continue
            target = parts[1].split(" ")[0]
            if len(target) == 1 and target != parts[0]:
                table[ord(parts[0])] = target
    for dash in "\u2010\u2011\u2012\u2013":  # typographic hyphens: one spelling of "GPT-5"
        table[ord(dash)] = "-"
    return table


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FOLDABLE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u2010-\u2013]")


def fold_chinese(text: str) -> str:
    """Traditional characters to simplified and hyphens to "-", same length."""
    # translate() looks up every character: skip it for text without Han characters
    # (isascii() reads a flag of the string: no scan at all for English text)
    if text.isascii() or _FOLDABLE.search(text) is None:
        return text
    return text.translate(t2s_table())


def fold(text: str) -> str:
    """Simplified-Chinese, lower-case form of ``text`` with the same length and offsets."""
    folded = fold_chinese(text).lower()
    if len(folded) != len(text):  # a few characters (e.g. 'İ') lower-case to two
        folded = "".join(
            c if len(c.lower()) != 1 else c.lower() for c in text.translate(t2s_table())
        )
    return folded


def has_cjk(text: str) -> bool:
    return not text.isascii() and _HAN.search(text) is not None
