"""Sentence and clause splitting for English, French and Chinese, as offset spans."""

from __future__ import annotations

import itertools
import re

# End of a sentence: . ! ? followed by space and an upper-case letter, digit or quote
# (so "U.S. firms", "3.5 billion" and "Inc. said" stay whole), or Chinese 。！？ and newlines.
_LATIN_END = re.compile(r"[.!?]+[\"'”»)]*\s+(?=[\"“«(A-ZÀ-ÖØ-Þ0-9])")
# A full stop after these is an abbreviation, not the end of a sentence.
_ABBREVIATIONS = frozenset(
    ["u.s", "inc", "corp", "ltd", "co", "mr", "mrs", "ms", "dr", "st", "no", "vs", "jr", "m"]
)
_LAST_WORD = re.compile(r"([\w.]+)$")
_CJK_END = re.compile(r"[。！？!?][”」』）)]*|\n+")
# Clause boundaries inside a sentence: semicolons, and contrast or new-subject joints.
_CLAUSE = re.compile(
    r";|；|:\s|：|,\s+(?:while|whereas|but|although|though|and\s+(?=it|its|the)|"
    r"which|qui|dont|tandis que|alors que|mais|et\s+(?=il|elle|son|sa))\b|"
    r"\s(?:but|while|whereas|mais)\s|\s(?:and|et)\s+(?=(?:will|plans|would|expects|va|prévoit)\b)|，(?:而|但|并|同时|此前|另外|其中|但是)|，"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed."""
    cuts = [0]
    for match in _LATIN_END.finditer(text):
        if text[match.start()] == ".":
            word = _LAST_WORD.search(text, max(0, match.start() - 12), match.start())
            if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                continue  # "U.S. firms", "Mr. Wu", initials
        cuts.append(match.end())
    for match in _CJK_END.finditer(text):
        cuts.append(match.end())
    cuts.append(len(text))
    cuts = sorted(set(cuts))
    spans: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(cuts):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the clauses of the sentence text[start:end]."""
    cuts = [start]
    for match in _CLAUSE.finditer(text, start, end):
        cuts.append(match.start())
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
