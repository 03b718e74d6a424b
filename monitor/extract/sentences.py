"""Sentence and clause splitting for English, French and Chinese, as offset spans."""

from __future__ import annotations

import itertools
import re

# End of a sentence: . ! ? followed by space and an upper-case letter, digit or quote
# (so "3.5 billion" stays whole), or Chinese 。！？, or a newline. One regex, one pass.
# Every match starts with one of [.!?。！？\n], written first as a set so that the regex
# engine skips to those characters in C (6x faster than trying each alternative at every
# position); the look-behinds then pick the alternative that character starts.
_END = re.compile(
    r"[.!?。！？\n](?:(?<=[.!?])(?P<latin>[.!?]*[\"'”»)]*\s+(?=[\"“«(A-ZÀ-ÖØ-Þ0-9]))|"
    r"(?<=[。！？!?])[”」』）)]*|(?<=\n)\n*)"
)
# A full stop after these is an abbreviation, not the end of a sentence ("U.S. firms").
_ABBREVIATIONS = frozenset(
    ["u.s", "inc", "corp", "ltd", "co", "mr", "mrs", "ms", "dr", "st", "no", "vs", "jr", "m"]
)
# Clause boundaries inside a sentence: semicolons, and contrast or new-subject joints.
# The first character is a set (the regex engine skips to it in C). Most candidates are
# spaces before an ordinary word: the alternatives after a space start with a letter
# (skipped at once when it differs) and check the space by a look-behind only then.
# ... per language: "and a second zone" is no new clause (the French "a" is a verb)
_JOINT_VERB_EN = (
    r"(?=(?:will|plans|would|expects|is|are|has|also|intends|aims|opened|"
    r"launched|unveiled|released|announced|began|started|signed|said|says)\b)"
)
_JOINT_VERB_FR = (
    r"(?=(?:va|prévoit|compte|prépare|envisage|a|annonce|ouvre|lance|commencera|ouvrira|"
    r"lancera|sera|devrait|entend|vise|annoncé|ouvert|lancé|inauguré|signé|dit|indique|"
    r"précise)\b)"
)
_CLAUSE = re.compile(
    r"[;；:：,，\s](?:b(?<=\sb)ut\s|w(?<=\sw)h(?:ile|ereas)\s|m(?<=\sm)ais\s|"  # \s but \s
    rf"a(?<=\sa)nd\s+{_JOINT_VERB_EN}|e(?<=\se)t\s+{_JOINT_VERB_FR}|"  # \s and \s+ will
    r"\s(?<=:\s)|"  # :\s
    r"\s(?<=,\s)\s*(?:while|whereas|but|although|though|and\s+(?=it|its|the)|"  # ,\s+ which
    r"which|where|qui|dont|où|tandis que|alors que|mais|et\s+(?=il|elle|son|sa))\b|"
    r"(?<=[;；：，])(?:(?<=，)(?:而|但|并|同时|此前|另外|其中|但是))?)"  # ; ； ： ，而
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        if match.group("latin") and text[match.start()] == ".":
            before = text[max(0, match.start() - 12) : match.start()].split()
            word = before[-1].lower() if before else ""
            if (word in _ABBREVIATIONS or len(word) == 1) and "\n" not in match.group("latin"):
                continue  # "U.S. firms", "Mr. Wu", initials; a line break still ends it
                # ("l'université de Yaoundé I.\n\n« Jusqu'ici ...")
        end = match.end()
        # _add_span inlined (a call per sentence): whitespace trimmed
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# A relative clause inserted after the subject, and the comma that closes it before the
# subject's own verb: "Tencent Cloud, which already operates in Seoul, plans to ...".
_RELATIVE_START = re.compile(r",\s+(?:which|who|qui|dont|lequel|laquelle)\b")
_RELATIVE_CLOSE = re.compile(
    r",\s+(?=(?:plans|will|is|has|had|said|says|expects|aims|intends|wants|opened|opens|"
    r"launched|launches|unveiled|released|announced|began|started|operates|prepares|readies|"
    r"builds|invests|targets|prévoit|va|compte|entend|est|a|ouvre|lance|annonce|prépare|"
    r"s'apprête|construit|investit|vise|veut|mise|déploie)\s)"
)


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the clauses of the sentence text[start:end]."""
    cuts = [start]
    for match in _CLAUSE.finditer(text, start, end):
        cuts.append(match.start())
        if _RELATIVE_START.match(text, match.start()):
            close = _RELATIVE_CLOSE.search(text, match.end(), end)
            if close is not None:
                cuts.append(close.start())
    cuts.append(end)
    cuts.sort()
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
