"""The word sets the rules compare mentions' values with must be words the scan finds: a
word in one of them that no lexicon category lists is never seen, and its rule never runs."""

from __future__ import annotations

import pytest

from monitor.extract import wordsets
from monitor.extract.lexicon import CATEGORIES

# the sets looked up as ``mention.value in SET``
LOOKED_UP = [
    "PRESENT_LIVE",
    "UNVEILING",
    "TENSELESS_LIVE",
    "LEAKS",
    "PERFECTIVE_CJK",
    "STOPPING",
    "CANCELLING",
    "DENYING",
    "SCOPE_AFTER",
]
CUE_WORDS = {
    word for by_lang in CATEGORIES.values() for words in by_lang.values() for word in words
}


@pytest.mark.parametrize("name", LOOKED_UP)
def test_looked_up_words_are_cues_the_scan_finds(name: str) -> None:
    unseen = sorted(word for word in getattr(wordsets, name) if word not in CUE_WORDS)
    assert unseen == [], f"{name}: no lexicon category lists {unseen}"
