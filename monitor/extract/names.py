"""Model and chip names: one compiled regex for every family, and canonical values.

FACTS.md: a value is the family plus the version as the developer writes it; parameter
counts, checkpoint and build suffixes are dropped (``-7B``, ``-235B-A22B``, ``-Instruct``,
``-0528``), named editions are kept (``-Max``, ``-VL``, ``Opus``).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from monitor.extract.textfold import fold_chinese
from monitor.extract.watchlist import Family, Watchlist
from monitor.extract.wordsets import (
    CJK_VERB_GOVERNORS,
    NOT_A_PRODUCT_AFTER,
    NOT_A_PRODUCT_BEFORE,
)

# Suffixes a value drops: sizes, mixture-of-experts activations, tuning and build tags.
_DROP = (
    r"(?:[\s\-‐‑‒–](?:\d+(?:\.\d+)?[BbMmKk](?:-A\d+(?:\.\d+)?[Bb])?|A\d+[Bb]|Instruct|Chat|Base|"
    r"Preview|Thinking|\d{4}|\d{6}|\d{8}|FP8|AWQ|GGUF|Distill|NVL\d+))*"
)
_LEFT = r"(?<![A-Za-z0-9_.\-])"
# "H200GPU": Chinese text writes the unit right after the name, without a space
_RIGHT = r"(?:(?![A-Za-z0-9])|(?=GPU))"
_RIGHT_CJK = r"(?![0-9])"  # after a Chinese name only a digit would continue a version
_PLURAL = r"(?:s(?![A-Za-z0-9]))?"  # "H100s", "GB300s": the plural is not part of the value
# A separator: space or any hyphen (news sites write "GPT‑5" with a non-breaking hyphen).
_SEP = r"[\s\-‐‑‒–]"
# Words Chinese text puts between a family and its version ("盘古大模型5.5").
_FILLER = r"(?:[\s\-‐‑‒–]?(?:大模型|模型))?"


@dataclass(frozen=True, slots=True)
class NameSpec:
    """One family of one company, with the regex of its named and bare mentions."""

    entity: str
    kind: str  # "model" or "chip"
    family: Family
    named: re.Pattern[str] | None  # family name [+ version] [+ editions]
    bare: re.Pattern[str] | None  # version alone


class NameMatch(NamedTuple):
    """A tuple, not a frozen dataclass: one is built per name found, and a frozen
    dataclass sets each of its seven fields through object.__setattr__ (4x slower)."""

    spec: NameSpec
    value: str
    start: int
    end: int
    bare: bool
    versioned: bool  # a version or an edition was given
    numbered: bool  # a version was given ("Ascend 910C", not "Rubin Ultra")


def _alternation(words: list[str]) -> str:
    return "|".join(
        re.sub(r"\\[ \-]", lambda _m: _SEP + "?", re.escape(w))
        for w in sorted(words, key=len)[::-1]
    )


# A model's named edition not in the watchlist, hyphenated after its version and written
# with a capital ("DeepSeek-V3.2-Speciale", "GPT-5-Codex"), unless it is a word that says
# what kind of thing follows ("Qwen3-Powered") or a suffix the value drops ("-Instruct").
_NOT_EDITIONS = (
    "Instruct|Chat|Base|Preview|Thinking|Distill|Powered|Based|Class|Like|Style|Level|Grade|Era|"
    "Series|Family|Model|Models|Generation|Compatible|Ready|Enabled|Driven|Backed|Sized|Scale|"
    "Size|Type|Only|Free|Maker|Rival|Killer|Version|Update|Release|Launch|Beta|Alpha|Weights"
)
_NEW_EDITION = rf"(?-i:[\-‐‑‒–](?!(?:{_NOT_EDITIONS})(?![a-z]))[A-Z][a-z]{{2,11}}){_RIGHT}"


def _named_pattern(fam: Family, model: bool = False) -> str | None:
    if not fam.names:
        return None
    names = _alternation(fam.names)
    known = rf"[\s\-‐‑‒–](?:{_alternation(fam.editions)}){_RIGHT}" if fam.editions else ""
    if model and fam.version:  # an edition of its own only after a version ("V3.2-Speciale")
        unknown = rf"(?(ver){_NEW_EDITION}|(?!))"
        editions = rf"(?P<ed>(?:{known}|{unknown})*)" if known else rf"(?P<ed>(?:{unknown})*)"
    else:
        editions = rf"(?P<ed>(?:{known})*)" if known else ""
    version = rf"{_FILLER}[\s\-‐‑‒–]?(?P<ver>{fam.version})" if fam.version else ""
    if version and (fam.alone or fam.edition_alone):
        version = f"(?:{version})?"
    # a Chinese name needs no boundary after it: "昇腾AI服务器"
    body = (
        rf"(?P<name>{names}){version}{editions}{_DROP}(?:(?<=[\u4e00-\u9fff]){_RIGHT_CJK}|{_RIGHT})"
    )
    return body if fam.case_sensitive else f"(?i:{body})"


def _bare_pattern(fam: Family) -> str | None:
    if not fam.bare:
        return None
    editions = (
        rf"(?P<ed>(?:[\s\-‐‑‒–](?:{_alternation(fam.editions)}){_RIGHT})*)" if fam.editions else ""
    )
    return rf"(?P<ver>{fam.bare}){editions}{_DROP}(?:{_PLURAL}{_RIGHT})"


# The next model of a list, written as a version alone: "the Ascend 960 in 2027 and the 970
# in 2028", "昇腾960、970". A short phrase of time or place may follow the previous name.
_LIST_NEXT = (
    r"(?:[ ](?:in|en|au|à|by|from)[ ][^,;.，、。]{0,20}?)?\s*(?:,|、|/|and|or|et|ou|和|与|及|以及)"
    r"\s*(?:the\s+|l'|le\s+|la\s+)?"
)


class NameMatcher:
    """Finds every model and chip mention of a watchlist.

    Family names are found by the MentionMatcher's Aho-Corasick pass (``family_keys``);
    only at those positions is the family's regex (version, editions, suffixes) run.
    Bare versions ("R2", "H20") are found by one combined regex. Both are built once.
    """

    def __init__(self, watchlist: Watchlist):
        self.specs: list[NameSpec] = []
        # chip families with a version: the next version of a list ("、970")
        self._list_next: dict[int, re.Pattern[str]] = {}
        # folded family name -> spec indexes; MentionMatcher puts these in its automaton
        self.family_keys: dict[str, list[int]] = {}
        self._values: dict[tuple[int, str | None, str | None], tuple[str, bool, bool]] = {}
        starts = self.family_keys
        bare_alternatives: list[str] = []
        for entity, company in watchlist.companies.items():
            for kind, families in (("model", company.models), ("chip", company.chips)):
                for fam in families:
                    named, bare = _named_pattern(fam, kind == "model"), _bare_pattern(fam)
                    spec = NameSpec(
                        entity,
                        kind,
                        fam,
                        re.compile(_LEFT + named) if named else None,
                        re.compile(_LEFT + bare) if bare else None,
                    )
                    index = len(self.specs)
                    self.specs.append(spec)
                    if kind == "chip" and fam.version and fam.names:
                        self._list_next[index] = re.compile(
                            rf"{_LIST_NEXT}(?P<ver>{fam.version})(?![A-Za-z0-9])"
                        )
                    for name in fam.names:
                        starts.setdefault(fold_chinese(name).lower(), []).append(index)
                    if bare:
                        inner = re.sub(r"\(\?P<(?:ver|ed)>", "(?:", bare)
                        bare_alternatives.append(f"(?P<b{index}>{inner})")
        # One regex for all bare versions, without named groups or look-behind (2-3x
        # faster), gated by the characters a bare version can start with; each hit is
        # confirmed by its family's own regex, which checks the left boundary.
        self._bare: re.Pattern[str] | None = None
        self._bare_specs = [s for s in self.specs if s.bare is not None]
        if bare_alternatives:
            plain = "|".join(re.sub(r"\(\?P<b\d+>", "(?:", a) for a in bare_alternatives)
            gate = first_chars(plain)
            if gate:
                # The gate as the pattern's first character set: the regex engine then
                # skips to those characters in C (a leading look-ahead tries every
                # position). The alternatives are matched in a look-ahead from the gate's
                # character, inside a one-character look-behind; group 1 is their match.
                chars = "".join(re.escape(c) for c in sorted(gate))
                plain = f"[{chars}](?<=(?=({plain}))(?s:.))"
            else:
                plain = f"({plain})"
            self._bare = re.compile(plain)

    def find(self, text: str, family_hits: list[tuple[int, int]]) -> list[NameMatch]:
        """Mentions in ``text`` (traditional Chinese already folded to simplified).

        ``family_hits`` are (start, spec index) of family names, found by the
        MentionMatcher's automaton in the same pass as companies, places and cues.
        """
        found: list[NameMatch] = []
        taken: list[tuple[int, int]] = []
        if family_hits:
            hits: dict[int, list[int]] = {}
            for hit_start, index in family_hits:
                hits.setdefault(hit_start, []).append(index)
            for start in sorted(hits):
                if taken and any(a <= start < b for a, b in taken):
                    continue  # "Rubin" inside an already matched "Vera Rubin"
                best: tuple[NameSpec, re.Match[str]] | None = None
                best_index = -1
                for index in hits[start]:
                    spec = self.specs[index]
                    assert spec.named is not None
                    detail = spec.named.match(text, start)
                    if detail and (best is None or detail.end() > best[1].end()):
                        best, best_index = (spec, detail), index
                if (
                    best
                    and _edition_alone_ok(best[0].family, best[1])
                    and not _excluded(best[0].family, text, start)
                    and not _not_a_product(best[1], text)
                ):
                    found.append(self._name_match(best[0], best[1], False))
                    taken.append((best[1].start(), best[1].end()))
                    following = self._list_next.get(best_index)
                    if following is not None and best[1].group("ver"):
                        self._versions_after(best[0], following, text, best[1].end(), found, taken)
        if self._bare is not None:
            after = 0  # as finditer over the alternatives: a hit starts where the last ended
            for match in self._bare.finditer(text):
                if match.start() < after:
                    continue
                after = match.end(1)
                if taken and any(a <= match.start() < b for a, b in taken):
                    continue
                for spec in self._bare_specs:
                    assert spec.bare is not None
                    detail = spec.bare.match(text, match.start())
                    if detail is not None:
                        found.append(self._name_match(spec, detail, True))
                        break
        found.sort(key=lambda m: m.start)
        return found

    def _name_match(self, spec: NameSpec, detail: re.Match[str], is_bare: bool) -> NameMatch:
        # canonical_value reads only the family and the version and edition groups, and
        # the same names come back item after item: remembered per matcher (whose specs
        # keep each family, so its id is not reused), and forgotten when it grows large
        groups = detail.groupdict()
        key = (id(spec.family), groups.get("ver"), groups.get("ed"))
        known = self._values.get(key)
        if known is None:
            if len(self._values) >= 10_000:
                self._values.clear()
            known = self._values[key] = canonical_value(spec.family, detail, is_bare)
        value, numbered, edition = known
        fields = (spec, value, detail.start(), detail.end(), is_bare, numbered or edition, numbered)
        return tuple.__new__(NameMatch, fields)  # NamedTuple's own __new__ is a Python call

    @staticmethod
    def _versions_after(
        spec: NameSpec,
        following: re.Pattern[str],
        text: str,
        end: int,
        found: list[NameMatch],
        taken: list[tuple[int, int]],
    ) -> None:
        """Versions listed after a named model of the family: "昇腾960、970" gives 970."""
        while (match := following.match(text, end)) is not None:
            value = f"{spec.family.family}{spec.family.separator}{match.group('ver')}"
            for pattern, replacement in spec.family.rewrites:
                value = re.sub(pattern, replacement, value)
            found.append(NameMatch(spec, value, match.start("ver"), match.end(), False, True, True))
            taken.append((match.start("ver"), match.end()))
            end = match.end()


def first_chars(pattern: str) -> set[str] | None:
    """The characters a match of ``pattern`` can start with, or None when unbounded.

    Uses the standard library's regex parser (``re._parser``); any construct it does
    not understand gives None, and the caller then simply does without the gate.
    """
    try:
        parser: Any = importlib.import_module("re._parser")
        consts: Any = importlib.import_module("re._constants")
        tree = parser.parse(pattern)
    except Exception:
        return None

    def first(seq: Any) -> set[str] | None:
        for op, arg in seq:
            if op is consts.LITERAL:
                return {chr(arg)}
            if op is consts.IN:
                chars: set[str] = set()
                for sub_op, sub_arg in arg:
                    if sub_op is consts.LITERAL:
                        chars.add(chr(sub_arg))
                    elif sub_op is consts.RANGE and sub_arg[1] - sub_arg[0] <= 300:
                        chars.update(chr(c) for c in range(sub_arg[0], sub_arg[1] + 1))
                    else:
                        return None
                return chars
            if op is consts.SUBPATTERN:
                return first(arg[3])
            if op is consts.BRANCH:
                union: set[str] = set()
                for alternative in arg[1]:
                    found = first(alternative)
                    if found is None:
                        return None
                    union |= found
                return union
            if op in (consts.ASSERT, consts.ASSERT_NOT, consts.AT):
                continue  # zero-width: look at what follows
            return None
        return None

    return first(tree)


def _edition_alone_ok(fam: Family, detail: re.Match[str]) -> bool:
    """With ``edition_alone``, a mention needs a version or an edition ("Qwen-Max")."""
    if not fam.edition_alone or fam.alone:
        return True
    groups = detail.groupdict()
    return bool(groups.get("ver") or (groups.get("ed") or "").strip())


# the word before a name, past one capitalised word ("architecture Vera Rubin")
_WORD_BEFORE = re.compile(r"(\w+)\s+(?:[A-Z]\w*\s+)?$")


def _not_a_product(detail: re.Match[str], text: str) -> bool:
    """A family name alone used as an architecture ("Rubin-based systems", "Blackwell
    架构"), as a rack system ("Vera Rubin NVL144") or, in Chinese, as the ordinary word it
    also is ("股价一路昇腾": soaring)."""
    groups = detail.groupdict()
    if groups.get("ver") or (groups.get("ed") or "").strip():
        return False
    after = text[detail.end() : detail.end() + 14].lower()
    if after.startswith(NOT_A_PRODUCT_AFTER):
        return True
    if "NVL" in detail.group():
        return True  # a rack system named after the family: "Vera Rubin NVL144"
    start = detail.start()
    word = _WORD_BEFORE.search(text, max(0, start - 32), start)
    if word is not None and word.group(1).lower() in NOT_A_PRODUCT_BEFORE:
        return True  # "l'architecture Rubin", "l'architecture Vera Rubin"
    if "\u4e00" <= text[start] <= "\u9fff":
        before = text[max(0, start - 3) : start]
        return any(before.endswith(w) for w in CJK_VERB_GOVERNORS)
    return False


def _excluded(fam: Family, text: str, start: int) -> bool:
    """True when the text at ``start`` is one of the family's look-alikes ("Ascend Mate")."""
    for form in fam.exclude:
        end = start + len(form)
        if text[start:end].lower() == form.lower() and not text[end : end + 1].islower():
            return True
    return False


_EDITION_SPLIT = re.compile(r"[\s\-‐‑‒–]+")


def canonical_value(fam: Family, match: re.Match[str], is_bare: bool) -> tuple[str, bool, bool]:
    """(value as FACTS.md writes it, whether a version was given, whether an edition was)."""
    groups = match.groupdict()
    version = (groups.get("ver") or "").strip()
    editions = [e for e in _EDITION_SPLIT.split(groups.get("ed") or "") if e]
    canon_editions = []
    for word in editions:
        for known in fam.editions:
            if word.lower() == known.lower():
                canon_editions.append(known)
                break
        else:
            canon_editions.append(word)
    parts = fam.family
    if version:
        parts = f"{parts}{fam.separator}{version}" if parts else version
    if canon_editions:
        tail = fam.edition_separator.join(canon_editions)
        parts = f"{parts}{fam.edition_separator}{tail}" if parts else tail
    for pattern, replacement in fam.rewrites:
        parts = re.sub(pattern, replacement, parts)
    return parts, bool(version), bool(canon_editions)
