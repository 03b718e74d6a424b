"""Model and chip names: one compiled regex for every family, and canonical values.

FACTS.md: a value is the family plus the version as the developer writes it; parameter
counts, checkpoint and build suffixes are dropped (``-7B``, ``-235B-A22B``, ``-Instruct``,
``-0528``), named editions are kept (``-Max``, ``-VL``, ``Opus``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.extract.watchlist import Family, Watchlist

# Suffixes a value drops: sizes, mixture-of-experts activations, tuning and build tags.
_DROP = (
    r"(?:[\s-](?:\d+(?:\.\d+)?[BbMmKk](?:-A\d+(?:\.\d+)?[Bb])?|A\d+[Bb]|Instruct|Chat|Base|"
    r"Preview|Thinking|\d{4}|\d{6}|\d{8}|FP8|AWQ|GGUF|Distill))*"
)
_LEFT = r"(?<![A-Za-z0-9_.\-])"
_RIGHT = r"(?![A-Za-z0-9])"
# Words Chinese text puts between a family and its version ("盘古大模型5.5").
_FILLER = r"(?:[\s-]?(?:大模型|模型))?"


@dataclass(frozen=True, slots=True)
class NameSpec:
    """One family of one company, with the regex of its named and bare mentions."""

    entity: str
    kind: str  # "model" or "chip"
    family: Family
    named: re.Pattern[str] | None  # family name [+ version] [+ editions]
    bare: re.Pattern[str] | None  # version alone


@dataclass(frozen=True, slots=True)
class NameMatch:
    spec: NameSpec
    value: str
    start: int
    end: int
    bare: bool
    versioned: bool  # a version or an edition was given
    numbered: bool  # a version was given ("Ascend 910C", not "Rubin Ultra")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"[\s-]?") for w in sorted(words, key=len)[::-1])


def _named_pattern(fam: Family) -> str | None:
    if not fam.names:
        return None
    names = _alternation(fam.names)
    editions = (
        rf"(?P<ed>(?:[\s-](?:{_alternation(fam.editions)}){_RIGHT})*)" if fam.editions else ""
    )
    version = rf"{_FILLER}[\s-]?(?P<ver>{fam.version})" if fam.version else ""
    if version and fam.alone:
        version = f"(?:{version})?"
    body = rf"{_LEFT}(?P<name>{names}){version}{editions}{_DROP}{_RIGHT}"
    return body if fam.case_sensitive else f"(?i:{body})"


def _bare_pattern(fam: Family) -> str | None:
    if not fam.bare:
        return None
    editions = (
        rf"(?P<ed>(?:[\s-](?:{_alternation(fam.editions)}){_RIGHT})*)" if fam.editions else ""
    )
    return rf"{_LEFT}(?P<ver>{fam.bare}){editions}{_DROP}{_RIGHT}"


class NameMatcher:
    """Finds every model and chip mention of a watchlist in one regex pass."""

    def __init__(self, watchlist: Watchlist):
        self.specs: list[NameSpec] = []
        alternatives: list[tuple[int, str]] = []
        for entity, company in watchlist.companies.items():
            for kind, families in (("model", company.models), ("chip", company.chips)):
                for fam in families:
                    named, bare = _named_pattern(fam), _bare_pattern(fam)
                    spec = NameSpec(
                        entity,
                        kind,
                        fam,
                        re.compile(named) if named else None,
                        re.compile(bare) if bare else None,
                    )
                    index = len(self.specs)
                    self.specs.append(spec)
                    longest = max((len(n) for n in fam.names), default=0)
                    if named:
                        alternatives.append((longest + 100, f"(?P<n{index}>{named})"))
                    if bare:
                        alternatives.append((0, f"(?P<b{index}>{bare})"))
        # longer family names first, so "Vera Rubin" wins over "Rubin" at one position
        alternatives.sort(key=lambda pair: -pair[0])
        # group names inside each alternative repeat; strip them for the combined regex
        combined = "|".join(
            re.sub(r"\(\?P<(?:name|ver|ed)>", "(?:", alt) for _, alt in alternatives
        )
        self._combined = re.compile(combined) if combined else None

    def find(self, text: str) -> list[NameMatch]:
        if self._combined is None:
            return []
        found: list[NameMatch] = []
        for match in self._combined.finditer(text):
            group = match.lastgroup
            if group is None:
                continue
            spec = self.specs[int(group[1:])]
            is_bare = group[0] == "b"
            pattern = spec.bare if is_bare else spec.named
            assert pattern is not None
            detail = pattern.fullmatch(text, match.start(), match.end())
            if detail is None:  # cannot happen: the same pattern matched this span
                continue
            if _excluded(spec.family, text, match.start()):
                continue
            value, numbered, edition = canonical_value(spec.family, detail, is_bare)
            found.append(
                NameMatch(
                    spec, value, match.start(), match.end(), is_bare, numbered or edition, numbered
                )
            )
        return found


def _excluded(fam: Family, text: str, start: int) -> bool:
    """True when the text at ``start`` is one of the family's look-alikes ("Ascend Mate")."""
    for form in fam.exclude:
        end = start + len(form)
        if text[start:end].lower() == form.lower() and not text[end : end + 1].islower():
            return True
    return False


def canonical_value(fam: Family, match: re.Match[str], is_bare: bool) -> tuple[str, bool, bool]:
    """(value as FACTS.md writes it, whether a version was given, whether an edition was)."""
    groups = match.groupdict()
    version = (groups.get("ver") or "").strip()
    editions = [e for e in re.split(r"[\s-]+", groups.get("ed") or "") if e]
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
    return parts, bool(version), bool(canon_editions)
