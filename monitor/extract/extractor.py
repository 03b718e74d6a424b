"""The extractor: an item's title and text to FACTS.md facts with evidence."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from monitor.extract.lexicon import (
    CANCELLING,
    LIST_JOINERS,
    LOCATIVE_CJK,
    LOCATIVE_LATIN,
    PLACE_MODIFIERS,
)
from monitor.extract.mentions import Mention, MentionMatcher, drop_nested
from monitor.extract.names import NameMatch, NameMatcher
from monitor.extract.sentences import clause_spans, sentence_spans
from monitor.extract.textfold import fold, fold_chinese, has_cjk
from monitor.extract.watchlist import Watchlist
from monitor.types import Evidence, Fact, Item, value_key

MAX_CHARS = 200_000  # untrusted text: read at most this much of a field
STATUS_CUES = ("planned", "live")
CUE_CATEGORIES = {
    "infra",
    "not_infra",
    "planned",
    "planned_weak",
    "live",
    "negation",
    "hypothetical",
    "neutral",
}
NAME_CUE_REACH = 60  # characters: status cues further from a model/chip name are ignored
MODAL_REACH = 12  # characters between "will"/"计划" and the verb it governs


@dataclass(slots=True)
class _Field:
    name: str  # "title" or "text"
    text: str
    folded: str
    mentions: list[Mention]
    names: list[NameMatch]
    starts: list[int] = field(default_factory=list)  # mention starts, for bisect


class _Collector:
    """Facts of one item: one per key, the most firmly stated status kept. A fact that
    any sentence denies ("has no plans to release GPT-5") is dropped from the item."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str, str], _Found] = {}
        self._denied: set[tuple[str, str, str]] = set()

    def record(self, fact: Fact, strength: int) -> None:
        """Keep the first mention, unless a later one states the status more firmly."""
        known = self._found.get(fact.key)
        if known is None or strength > known.strength:
            self._found[fact.key] = _Found(fact, strength)

    def deny(self, key: tuple[str, str, str]) -> None:
        self._denied.add(key)

    def facts(self) -> list[Fact]:
        return [f.fact for key, f in self._found.items() if key not in self._denied]


@dataclass(slots=True)
class _Found:
    fact: Fact
    strength: int  # 2: status from a strong cue, 1: from a weak cue, 0: the default


def detect_lang(item: Item) -> str:
    """The item's language: its own when given, else zh / fr / en from the text."""
    if item.lang:
        return item.lang
    sample = f"{item.title} {item.text[:2000]}"
    if has_cjk(sample):
        return "zh"
    words = sample.lower().split()
    french = sum(w in {"le", "la", "les", "des", "du", "est", "une", "et", "dans"} for w in words)
    english = sum(w in {"the", "a", "of", "is", "and", "in", "to", "its"} for w in words)
    return "fr" if french > english else "en"


class Extractor:
    """Build once per watchlist (automata are compiled here); ``extract`` is thread-safe."""

    def __init__(self, watchlist: Watchlist):
        self.watchlist = watchlist
        self._names = NameMatcher(watchlist)
        self._mentions = MentionMatcher(watchlist, self._names.family_keys)
        self._family_owner = watchlist.owner_of()

    # -- reading ------------------------------------------------------------------
    def _read(self, name: str, text: str) -> _Field:
        simplified = fold_chinese(text)
        folded = simplified.lower()
        if len(folded) != len(text):  # rare characters lower-case to two; keep offsets
            folded = fold(text)
        raw = self._mentions.find(text, folded)
        family_hits = [(m.start, int(m.value)) for m in raw if m.category == "family"]
        raw = [m for m in raw if m.category != "family"]
        mentions = drop_nested(raw, {"company"})
        mentions = drop_nested(mentions, CUE_CATEGORIES)
        mentions = drop_nested(mentions, {"place", "blocker"})
        blocked = [(m.start, m.end) for m in mentions if m.category == "blocker"]
        mentions = [
            m
            for m in mentions
            if m.category != "place" or not any(a <= m.start and m.end <= b for a, b in blocked)
        ]
        mentions.sort(key=lambda m: m.start)
        result = _Field(name, text, folded, mentions, self._names.find(simplified, family_hits))
        result.starts = [m.start for m in mentions]
        return result

    @staticmethod
    def _within(fld: _Field, start: int, end: int) -> list[Mention]:
        lo = bisect_left(fld.starts, start)
        hi = bisect_left(fld.starts, end)
        return [m for m in fld.mentions[lo:hi] if m.end <= end]

    # -- status -------------------------------------------------------------------
    @staticmethod
    def _status(cues: list[Mention], start: int, end: int) -> tuple[str, int]:
        """Status from the cue nearest to the span [start, end); ('live', False) if none.

        Weak cues (announce, invest, build) count only when no other cue is there. A
        future or modal cue just before a live verb governs it: "计划下月发布" and
        "expected to go live" are planned.
        """
        strong = [c for c in cues if c.category in STATUS_CUES]
        pool = strong or [c for c in cues if c.category == "planned_weak"]
        if not pool:
            return "live", 0
        strength = 2 if strong else 1
        nearest = min(pool, key=lambda c: _gap_span(c, start, end))
        if nearest.category == "live":
            for cue in strong:
                if cue.category == "planned" and 0 <= nearest.start - cue.end <= MODAL_REACH:
                    return "planned", strength
            return "live", strength
        return "planned", strength

    # -- extraction ---------------------------------------------------------------
    def extract(self, item: Item) -> list[Fact]:
        # Title and text are read as one string (title, newline, text): one pass of each
        # matcher instead of two. Evidence offsets are then made relative to each field.
        title = (item.title or "")[:MAX_CHARS]
        text = (item.text or "")[:MAX_CHARS]
        text_offset = len(title) + 1
        fld = self._read("item", f"{title}\n{text}")
        companies_in_item = {m.value for m in fld.mentions if m.category == "company"}
        lead = self._lead_company([fld])
        found = _Collector()
        versioned_families = {
            (n.spec.entity, n.spec.family.family) for n in fld.names if n.numbered
        }
        has_places = any(m.category == "place" for m in fld.mentions)
        if not fld.names and not has_places:
            return []  # nothing to attribute: skip sentence splitting
        name_starts = [n.start for n in fld.names]
        for s_start, s_end in sentence_spans(fld.text):
            sentence = self._within(fld, s_start, s_end)
            with_names = bisect_left(name_starts, s_end) > bisect_left(name_starts, s_start)
            if not with_names and not any(m.category == "place" for m in sentence):
                continue
            if s_start < text_offset:
                evidence = Evidence(title[s_start:s_end], s_start, s_end, "title")
            else:
                start, end = s_start - text_offset, s_end - text_offset
                evidence = Evidence(text[start:end], start, end, "text")
            clauses = clause_spans(fld.text, s_start, s_end)
            self._regions(fld, s_start, s_end, sentence, clauses, lead, evidence, found)
            if with_names:
                self._named(
                    fld,
                    s_start,
                    s_end,
                    clauses,
                    companies_in_item,
                    versioned_families,
                    evidence,
                    found,
                )
        return _drop_umbrella_chips(found.facts())

    def _lead_company(self, fields: list[_Field]) -> str | None:
        for fld in fields:
            for m in fld.mentions:
                if m.category == "company":
                    return m.value
        return None

    def _clause_cues(
        self, fld: _Field, clauses: list[tuple[int, int]], start: int
    ) -> list[Mention]:
        for c_start, c_end in clauses:
            if c_start <= start < c_end:
                return self._within(fld, c_start, c_end)
        return []

    def _relative_clause_cues(
        self, fld: _Field, clauses: list[tuple[int, int]], end: int
    ) -> list[Mention]:
        """Cues of a relative clause right after a name ("X, which began shipping")."""
        for index, (c_start, c_end) in enumerate(clauses):
            if c_start < end <= c_end:
                if index + 1 == len(clauses):
                    return []
                if len(_TOKEN.findall(fld.folded[end:c_end])) > 2:  # name not at clause end
                    return []
                n_start, n_end = clauses[index + 1]
                if not _RELATIVE.match(fld.folded, n_start):
                    return []
                return self._within(fld, n_start, n_end)
        return []

    def _regions(
        self,
        fld: _Field,
        s_start: int,
        s_end: int,
        sentence: list[Mention],
        clauses: list[tuple[int, int]],
        lead: str | None,
        evidence: Evidence,
        found: _Collector,
    ) -> None:
        places = [m for m in sentence if m.category == "place"]
        if not places:
            return
        categories = {m.category for m in sentence}
        if "infra" not in categories:
            return
        denied = bool(categories & {"negation", "hypothetical"})
        companies = _region_companies(fld, sentence)
        if not companies:
            # no company named: the sentence must refer back to the item's company
            refers_back = _ANAPHORA.search(fld.folded, s_start, s_end)
            companies = [lead] if lead and refers_back else []
        located: dict[int, bool] = {}
        for place in places:
            located[place.start] = _is_located(fld, place, sentence, located)
            if not located[place.start] or _closer_to_not_infra(place, sentence):
                continue
            cues = self._clause_cues(fld, clauses, place.start)
            if not any(c.category in STATUS_CUES for c in cues):
                cues = sentence  # the clause says nothing about status: read the sentence
            status, strength = self._status(cues, place.start, place.end)
            for entity in companies:
                fact = Fact(entity, "region", place.value, status, evidence)
                if denied:
                    found.deny(fact.key)
                else:
                    found.record(fact, strength)

    def _named(
        self,
        fld: _Field,
        s_start: int,
        s_end: int,
        clauses: list[tuple[int, int]],
        companies_in_item: set[str],
        versioned_families: set[tuple[str, str]],
        evidence: Evidence,
        found: _Collector,
    ) -> None:
        for name in fld.names:
            if not (s_start <= name.start < s_end):
                continue
            spec = name.spec
            needs_context = name.bare or not name.versioned
            if needs_context and spec.family.context and spec.entity not in companies_in_item:
                continue
            if not name.versioned and (spec.entity, spec.family.family) in versioned_families:
                continue
            cues = self._clause_cues(fld, clauses, name.start)
            negations = [c for c in cues if c.category in ("negation", "hypothetical")]
            if negations:
                # "no plans to release X" denies X for the whole item; "denies its model
                # copied X" only makes this mention no evidence
                if any(c.value in CANCELLING for c in negations):
                    found.deny((spec.entity, spec.kind, value_key(name.value)))
                continue
            relative = self._relative_clause_cues(fld, clauses, name.end)
            if any(c.category in (*STATUS_CUES, "planned_weak") for c in relative):
                cues = relative  # "the Ascend 910D, which the company is still developing"
            # a cue far from a name in a long clause is usually about something else
            near = [c for c in cues if _gap_span(c, name.start, name.end) <= NAME_CUE_REACH]
            status, strength = self._status(near, name.start, name.end)
            fact = Fact(spec.entity, spec.kind, name.value, status, evidence)
            found.record(fact, strength)


# Words that refer back to the item's company ("the company", "its", "la société", "其").
_ANAPHORA = re.compile(
    r"\b(?:it|its|the company|the company's|the firm|the group|the provider|the facility|"
    r"the site|the data cent(?:re|er)|the region|the new region|"
    r"la société|le groupe|l'entreprise|son|sa|ses|il)\b|其|该公司|公司|该|新地域|新数据中心"
)
_RELATIVE = re.compile(r"[,，]\s*(?:which|that|qui|que|dont|lequel|laquelle)\b")
_TOKEN = re.compile(r"[\w'’]+|[^\w\s]", re.UNICODE)


_CONJUNCTION = re.compile(r"\s*(?:,|and|et|with|avec|与|和|及|、|携手|联合)\s*")


def _region_companies(fld: _Field, sentence: list[Mention]) -> list[str]:
    """The sentence's subject company (the first named) and those joined to it by a
    conjunction ("OpenAI and NVIDIA"); a company named later in the sentence ("which
    competes with Huawei Cloud") is not the one building."""
    named = [m for m in sentence if m.category == "company"]
    if not named:
        return []
    chosen = [named[0]]
    for m in named[1:]:
        if _CONJUNCTION.fullmatch(fld.folded, chosen[-1].end, m.start):
            chosen.append(m)
    return list(dict.fromkeys(m.value for m in chosen))


def _gap_span(cue: Mention, start: int, end: int) -> int:
    if cue.end <= start:
        return start - cue.end
    return max(0, cue.start - end)


def _gap(a: Mention, b: Mention) -> int:
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def _closer_to_not_infra(place: Mention, sentence: list[Mention]) -> bool:
    """An office, a conference or a regulator nearer the place than any infrastructure."""
    infra = min((_gap(place, m) for m in sentence if m.category == "infra"), default=10**9)
    other = min((_gap(place, m) for m in sentence if m.category == "not_infra"), default=10**9)
    return other < infra


def _is_located(
    fld: _Field, place: Mention, sentence: list[Mention], located: dict[int, bool]
) -> bool:
    """Is the place written as where something is: "in Mexico", "a Mexico data centre",
    "在墨西哥", "墨西哥地域", or listed after such a place ("in Brazil, France and ...")."""
    folded = fld.folded
    cjk = "\u4e00" <= folded[place.start] <= "\u9fff"
    infra_after = [m for m in sentence if m.category == "infra" and m.start >= place.end]
    infra_before = [m for m in sentence if m.category == "infra" and m.end <= place.start]
    if cjk:
        before = folded[max(0, place.start - 4) : place.start]
        if place.kind != "demonym" and any(w in before for w in LOCATIVE_CJK):
            return True
        if any(m.end == place.start for m in infra_before):  # "星际之门阿联酋"
            return True
        nxt = place.end
        for m in sentence:  # skip a following city or state ("墨西哥克雷塔罗州的数据中心")
            if m.category == "place" and m.start == nxt:
                nxt = m.end
        between = folded[nxt : nxt + 3]
        return any(m.start - nxt <= 1 + between.count("的") for m in infra_after)
    # Latin script: up to two words between the place and an infrastructure noun
    if any(len(_TOKEN.findall(folded[place.end : m.start])) <= 2 for m in infra_after):
        return True
    # a project named after its country: "Stargate UAE", "campus Stargate aux Émirats"
    if place.kind != "demonym" and any(
        not _TOKEN.findall(folded[m.end : place.start]) for m in infra_before
    ):
        return True
    if place.kind == "demonym":  # "centre de données malaisien"
        return any(not _TOKEN.findall(folded[m.end : place.start]) for m in infra_before)
    words = _TOKEN.findall(folded[max(0, place.start - 40) : place.start])
    while words and words[-1] in PLACE_MODIFIERS:  # "in northern Norway", "in the UAE"
        words.pop()
    if words and words[-1] in LOCATIVE_LATIN:
        return True
    for prev_start, ok in located.items():  # a list of places after a located one
        if ok and prev_start < place.start:
            gap_words = _TOKEN.findall(folded[prev_start : place.start])[1:]
            if all(w in LIST_JOINERS or (w.isalpha() and w[0].isupper()) for w in gap_words):
                return True
    return False


def _drop_umbrella_chips(facts: list[Fact]) -> list[Fact]:
    """Drop a chip series ("Ascend 950") when the item names its models ("Ascend 950DT")."""
    chips = [f for f in facts if f.kind == "chip"]
    keep: list[Fact] = []
    for fact in facts:
        key = fact.key[2]
        if fact.kind == "chip" and any(
            other.entity == fact.entity
            and other.key[2] != key
            and other.key[2].startswith(key)
            and key[-1:].isdigit()
            and other.key[2][len(key)].isalpha()
            for other in chips
        ):
            continue
        keep.append(fact)
    return keep
