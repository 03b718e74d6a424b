"""Model and chip names: one compiled regex for every family, and canonical values.

FACTS.md: a value is the family plus the version as the developer writes it; parameter
counts, checkpoint and build suffixes are dropped (``-7B``, ``-235B-A22B``, ``-Instruct``,
``-0528``), named editions are kept (``-Max``, ``-VL``, ``Opus``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from monitor.extract.textfold import fold_chinese
from monitor.extract.watchlist import Family, Watchlist

# Suffixes a value drops: sizes, mixture-of-experts activations, tuning and build tags.
_DROP = (
    r"(?:[\s-](?:\d+(?:\.\d+)?[BbMmKk](?:-A\d+(?:\.\d+)?[Bb])?|A\d+[Bb]|Instruct|Chat|Base|"
    r"Preview|Thinking|\d{4}|\d{6}|\d{8}|FP8|AWQ|GGUF|Distill|NVL\d+))*"
)
_LEFT = r"(?<![A-Za-z0-9_.\-])"
_RIGHT = r"(?![A-Za-z0-9])"
_PLURAL = r"(?:s(?![A-Za-z0-9]))?"  # "H100s", "GB300s": the plural is not part of the value
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
    if version and (fam.alone or fam.edition_alone):
        version = f"(?:{version})?"
    body = rf"(?P<name>{names}){version}{editions}{_DROP}{_RIGHT}"
    return body if fam.case_sensitive else f"(?i:{body})"


def _bare_pattern(fam: Family) -> str | None:
    if not fam.bare:
        return None
    editions = (
        rf"(?P<ed>(?:[\s-](?:{_alternation(fam.editions)}){_RIGHT})*)" if fam.editions else ""
    )
    return rf"(?P<ver>{fam.bare}){editions}{_DROP}(?:{_PLURAL}{_RIGHT})"


class NameMatcher:
    """Finds every model and chip mention of a watchlist.

    Family names are found in one Aho-Corasick pass over the folded text; only at
    those positions is the family's regex (version, editions, suffixes) run. Bare
    versions ("R2", "H20") are found by one combined regex. Both are built once.
    """

    def __init__(self, watchlist: Watchlist):
        self.specs: list[NameSpec] = []
        self._automaton = ahocorasick.Automaton()
        starts: dict[str, list[int]] = {}
        bare_alternatives: list[str] = []
        for entity, company in watchlist.companies.items():
            for kind, families in (("model", company.models), ("chip", company.chips)):
                for fam in families:
                    named, bare = _named_pattern(fam), _bare_pattern(fam)
                    spec = NameSpec(
                        entity,
                        kind,
                        fam,
                        re.compile(_LEFT + named) if named else None,
                        re.compile(_LEFT + bare) if bare else None,
                    )
                    index = len(self.specs)
                    self.specs.append(spec)
                    for name in fam.names:
                        starts.setdefault(fold_chinese(name).lower(), []).append(index)
                    if bare:
                        inner = re.sub(r"\(\?P<(?:ver|ed)>", "(?:", bare)
                        bare_alternatives.append(f"(?P<b{index}>{inner})")
        for key, indexes in starts.items():
            self._automaton.add_word(key, (key, indexes))
        self._has_names = bool(starts)
        if self._has_names:
            self._automaton.make_automaton()
        # No look-behind here: alternatives starting with a literal let the engine skip
        # ahead; the left boundary is checked by each family's own regex.
        self._bare = re.compile("|".join(bare_alternatives)) if bare_alternatives else None

    def find(self, text: str, folded: str) -> list[NameMatch]:
        """Mentions in ``text`` (traditional Chinese already folded to simplified; same
        offsets as ``folded``, its lower-case form)."""
        found: list[NameMatch] = []
        taken: list[tuple[int, int]] = []
        if self._has_names:
            hits: dict[int, list[int]] = {}
            for end_index, (key, indexes) in self._automaton.iter(folded):
                hits.setdefault(end_index - len(key) + 1, []).extend(indexes)
            for start in sorted(hits):
                if any(a <= start < b for a, b in taken):
                    continue  # "Rubin" inside an already matched "Vera Rubin"
                best: tuple[NameSpec, re.Match[str]] | None = None
                for index in hits[start]:
                    spec = self.specs[index]
                    assert spec.named is not None
                    detail = spec.named.match(text, start)
                    if detail and (best is None or detail.end() > best[1].end()):
                        best = (spec, detail)
                if (
                    best
                    and _edition_alone_ok(best[0].family, best[1])
                    and not _excluded(best[0].family, text, start)
                ):
                    found.append(_name_match(best[0], best[1], False))
                    taken.append((best[1].start(), best[1].end()))
        if self._bare is not None:
            for match in self._bare.finditer(text):
                if any(a <= match.start() < b for a, b in taken) or match.lastgroup is None:
                    continue
                spec = self.specs[int(match.lastgroup[1:])]
                assert spec.bare is not None
                detail = spec.bare.match(text, match.start())
                if detail is not None:
                    found.append(_name_match(spec, detail, True))
        found.sort(key=lambda m: m.start)
        return found


def _name_match(spec: NameSpec, detail: re.Match[str], is_bare: bool) -> NameMatch:
    value, numbered, edition = canonical_value(spec.family, detail, is_bare)
    return NameMatch(
        spec, value, detail.start(), detail.end(), is_bare, numbered or edition, numbered
    )


def _edition_alone_ok(fam: Family, detail: re.Match[str]) -> bool:
    """With ``edition_alone``, a mention needs a version or an edition ("Qwen-Max")."""
    if not fam.edition_alone or fam.alone:
        return True
    groups = detail.groupdict()
    return bool(groups.get("ver") or (groups.get("ed") or "").strip())


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
