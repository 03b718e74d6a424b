"""The extractor: an item's title and text to FACTS.md facts with evidence."""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter

from monitor.extract.lexicon import (
    CANCELLING,
    DENYING,
    PRESENT_LIVE,
    STOPPING,
    UNVEILING,
)
from monitor.extract.mentions import Mention, MentionMatcher, drop_nested
from monitor.extract.names import NameMatcher
from monitor.extract.rules import (
    ANAPHORA,
    APPOSITIVE,
    APPOSITIVE_END,
    COMPARED,
    COMPARED_GATE,
    COMPETED_AFTER,
    COMPETED_BEFORE,
    OTHER_ACTOR,
    OTHER_SUBJECT,
    PREDECESSOR,
    PREDECESSOR_GATE,
    RELATIVE,
    TOKEN,
    WHICH,
    Collector,
    ReadText,
    closer_to_not_infra,
    continues_here,
    drop_name_parts,
    drop_umbrella_chips,
    existing_infra,
    gap_span,
    in_scope,
    infra_next_clause,
    is_located,
    is_question,
    list_spans,
    possessor_of,
    region_companies,
    resolve_ambiguous_places,
    same_phrase,
    served_from,
    spread_over_lists,
    verb_homograph,
)
from monitor.extract.sentences import clause_spans, sentence_spans
from monitor.extract.textfold import fold, fold_chinese, has_cjk
from monitor.extract.watchlist import Watchlist, default_watchlist
from monitor.types import Evidence, Fact, Item, value_key

MAX_CHARS = 200_000  # untrusted text: read at most this much of a field
STATUS_CUES = ("planned", "live")
CLAUSE_STATUS = (*STATUS_CUES, "planned_weak")  # cues that make a relative clause about the name
# Within a group, a mention inside a longer one is dropped ("Alibaba" in "Alibaba Cloud",
# "Mexico" in "Gulf of Mexico", "开发" in "开发者"); family hits are kept apart.
NESTING_GROUPS = {
    "company": 0,
    "product": 7,
    "place": 1,
    "blocker": 1,
    **dict.fromkeys(
        [
            "infra",
            "not_infra",
            "planned",
            "planned_weak",
            "live",
            "negation",
            "hypothetical",
            "neutral",
        ],
        2,
    ),
    "regulatory": 5,
    "hardware": 3,  # these overlap status and infrastructure words ("installed")
    "deploy": 4,
    "existing": 6,
    "continuing": 10,
    "timed": 8,
    "serve": 9,
}
NAME_CUE_REACH = 60  # characters: status cues further from a model/chip name are ignored
MODAL_REACH = 12  # characters between "will"/"计划" and the verb it governs
CJK_MODAL_REACH = 30  # ... for a Chinese modal, whose verb ends the phrase
_QUESTION_TAIL = frozenset("?？\"'”»」』)）")  # last characters of a question
_YEAR = re.compile(r"20\d\d")  # a year when no digit touches it (checked in code)
_START = itemgetter(2)  # Mention.start, as a C key function
_LOCATING = frozenset(["place", "hardware"])  # a sentence without names needs one of these
_PLACED_INFRA = frozenset(["place", "infra"])
_INFRA_OR_SERVE = frozenset(["infra", "serve"])


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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building makes ~250,000 tuples, lists and strings that live as long as the
    extractor; the cyclic garbage collector, run every few hundred allocations, would walk
    them over and over (a quarter of the build's CPU). Reference counting still frees
    what the build drops; the collector runs again afterwards as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Extractor:
    """Build once per watchlist (automata are compiled here); ``extract`` is thread-safe."""

    def __init__(self, watchlist: Watchlist | None = None):
        watchlist = watchlist if watchlist is not None else default_watchlist()
        self.watchlist = watchlist
        with _collector_paused():
            self._names = NameMatcher(watchlist)
            self._mentions = MentionMatcher(watchlist, self._names.family_keys)
        self._chip_makers = {e for e, company in watchlist.companies.items() if company.chips}

    # -- reading ------------------------------------------------------------------
    def _read(self, name: str, text: str, year: int | None = None) -> ReadText:
        simplified = fold_chinese(text)
        folded = simplified.lower()
        if len(folded) != len(text):  # rare characters lower-case to two; keep offsets
            folded = fold(text)
        raw = self._mentions.find(text, folded)
        family_hits = [(m.start, int(m.value)) for m in raw if m.category == "family"]
        mentions = drop_nested(raw, NESTING_GROUPS)
        blocked = []
        places = []
        for m in mentions:
            if m.category == "place":
                places.append(m)
            elif m.category == "blocker":
                blocked.append((m.start, m.end))
        if blocked:
            mentions = [
                m
                for m in mentions
                if m.category != "place" or not any(a <= m.start and m.end <= b for a, b in blocked)
            ]
            places = [m for m in mentions if m.category == "place"]
        if places:
            # item text is "title\ntext": a headline's words are capitalised anyway
            mentions = drop_name_parts(text, mentions, places, text.find("\n") + 1)
            places = [m for m in mentions if m.category == "place"]
        if len(places) > 1:
            mentions = resolve_ambiguous_places(mentions, places)
        if year is not None:  # a later year than the item's is a future date: planned
            for found in _YEAR.finditer(text):
                before = text[found.start() - 1 : found.start()]
                after = text[found.end() : found.end() + 1]
                if int(found.group()) > year and not before.isdigit() and not after.isdigit():
                    mentions.append(Mention("planned", "later year", found.start(), found.end()))
        mentions.sort(key=_START)  # stable: ties keep drop_nested's order
        result = ReadText(name, text, folded, mentions, self._names.find(simplified, family_hits))
        result.starts = [m.start for m in mentions]
        result.name_starts = [n.start for n in result.names]
        return result

    @staticmethod
    def _within(fld: ReadText, start: int, end: int) -> list[Mention]:
        lo = bisect_left(fld.starts, start)
        hi = bisect_left(fld.starts, end)
        return [m for m in fld.mentions[lo:hi] if m.end <= end]

    # -- status -------------------------------------------------------------------
    @staticmethod
    def _status(cues: list[Mention], start: int, end: int) -> tuple[str, int]:
        """(status, strength) from the cue nearest to [start, end); ('live', 0) if none.

        Weak cues (announce, invest, build) count only when no other cue is there. A
        future or modal cue just before a live verb governs it: "计划下月发布" and
        "expected to go live" are planned.
        """
        strong = [c for c in cues if c.category in STATUS_CUES]
        pool = strong or [c for c in cues if c.category == "planned_weak"]
        if not pool:
            return "live", 0
        strength = 2 if strong else 1
        nearest = min(pool, key=lambda c: gap_span(c, start, end))
        if nearest.category == "live":
            if nearest.value in UNVEILING and any(c.category == "planned" for c in strong):
                return "planned", strength  # unveiled now, due later
            if nearest.value in PRESENT_LIVE and any(
                c.category == "timed" or c.value == "later year" for c in cues
            ):
                return "planned", strength  # "ships in the second half": a schedule
            for cue in strong:
                if cue.category != "planned":
                    continue
                # "计划下月发布", "will go live"; "deliveries are expected", "livraisons attendues"
                if 0 <= nearest.start - cue.end <= MODAL_REACH or (
                    0 <= cue.start - nearest.end <= MODAL_REACH
                ):
                    return "planned", strength
                # a Chinese modal governs the verb that ends its phrase, however long the
                # places between: "将在未来一年于巴西、法国与荷兰启用"
                if (
                    0 <= nearest.start - cue.end <= CJK_MODAL_REACH
                    and "\u4e00" <= cue.value[0] <= "\u9fff"
                    and not any(
                        c.category == "live" and cue.end <= c.start < nearest.start for c in strong
                    )
                ):
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
        year = item.published.year if item.published else None
        fld = self._read("item", f"{title}\n{text}", year)
        # one walk over the mentions: the item's companies, products and first company
        companies_in_item: set[str] = set()
        products: set[str] = set()
        has_places = False
        lead = None  # the first company named
        lead_end = 0
        for category, value, _start, end, _kind in fld.mentions:
            if category == "company":
                companies_in_item.add(value)
                if lead is None:
                    lead, lead_end = value, end
            elif category == "product":
                products.add(value)
            elif category == "place":
                has_places = True
        if not fld.names and not (has_places and companies_in_item):
            return []  # no model, chip, or company with a place: skip sentence splitting
        # FACTS.md: a short name (o2, R1, V3) counts where the item ties it to its
        # developer: the company, one of its products, or one of its models in full
        tied = companies_in_item | products
        tied |= {n.spec.entity for n in fld.names if n.versioned and not n.bare}
        found = Collector()
        versioned_families = {
            (n.spec.entity, n.spec.family.family) for n in fld.names if n.numbered
        }
        name_starts = fld.name_starts
        starts = fld.starts
        mentions = fld.mentions
        full_text = fld.text
        deployments: list[tuple[str, str, int, Evidence]] = []
        for s_start, s_end in sentence_spans(full_text):
            if full_text[s_end - 1] in _QUESTION_TAIL and is_question(full_text, s_start, s_end):
                continue  # FACTS.md: a question asserts nothing
            # the sentence's mentions (as _within, inlined: this runs for every sentence)
            lo = bisect_left(starts, s_start)
            hi = bisect_left(starts, s_end, lo)
            sentence = [m for m in mentions[lo:hi] if m.end <= s_end]
            with_names = bisect_left(name_starts, s_end) > bisect_left(name_starts, s_start)
            categories = {m.category for m in sentence}
            if not with_names and categories.isdisjoint(_LOCATING):
                continue
            if s_start < text_offset:
                evidence = Evidence(title[s_start:s_end], s_start, s_end, "title")
            else:
                start, end = s_start - text_offset, s_end - text_offset
                evidence = Evidence(text[start:end], start, end, "text")
            wants_clauses = with_names or categories >= _PLACED_INFRA
            clauses = clause_spans(full_text, s_start, s_end) if wants_clauses else []
            located: bool = False
            placed: set[str] = set()
            if not categories.isdisjoint(_INFRA_OR_SERVE):
                located, placed = self._regions(
                    fld,
                    s_start,
                    s_end,
                    sentence,
                    categories,
                    clauses,
                    lead,
                    lead_end <= s_start,
                    evidence,
                    found,
                )
            if "deploy" in categories:
                deployed = self._deployments(fld, s_start, s_end, sentence, evidence)
                if not located:
                    deployments.extend(deployed)
                elif len(placed) == 1:
                    # chips put into the site this sentence places: "... is now running in
                    # Abu Dhabi, on NVIDIA GB300 systems" gives the maker a region there
                    country = next(iter(placed))
                    for entity, status, strength, ev in deployed:
                        found.record(Fact(entity, "region", country, status, ev), strength)
            if with_names:
                self._named(
                    fld,
                    s_start,
                    s_end,
                    sentence,
                    clauses,
                    tied,
                    versioned_families,
                    evidence,
                    found,
                )
        if deployments:
            self._deployed_regions(fld, text_offset, deployments, found)
        return drop_umbrella_chips(found.facts())

    def _clause_cues(
        self, fld: ReadText, clauses: list[tuple[int, int]], start: int
    ) -> list[Mention]:
        for c_start, c_end in clauses:
            if c_start <= start < c_end:
                return self._within(fld, c_start, c_end)
        return []

    def _relative_clause_cues(
        self, fld: ReadText, clauses: list[tuple[int, int]], end: int
    ) -> list[Mention]:
        """Cues of a relative clause right after a name ("X, which began shipping")."""
        for index, (c_start, c_end) in enumerate(clauses):
            if c_start < end <= c_end:
                if index + 1 == len(clauses):
                    return []
                n_start, n_end = clauses[index + 1]
                if not RELATIVE.match(fld.folded, n_start):  # the cheaper test first
                    return []
                if len(TOKEN.findall(fld.folded[end:c_end])) > 2:  # name not at clause end
                    return []
                return self._within(fld, n_start, n_end)
        return []

    def _regions(
        self,
        fld: ReadText,
        s_start: int,
        s_end: int,
        sentence: list[Mention],
        categories: set[str],
        clauses: list[tuple[int, int]],
        lead: str | None,
        lead_before: bool,
        evidence: Evidence,
        found: Collector,
    ) -> tuple[bool, set[str]]:
        """Record the sentence's region facts; return whether it names a located place and
        the countries of the infrastructure it places (both for a "deploy" cue).
        ``categories``: the mentions' categories; ``lead_before``: the item's first company
        was named before this sentence."""
        if "place" not in categories or "regulatory" in categories:
            return False, set()
        places = [m for m in sentence if m.category == "place"]
        negations = [m for m in sentence if m.category in ("negation", "hypothetical")]
        companies = region_companies(fld, sentence)
        if not companies:
            # a company's own programme or product named instead: "Stargate UAE", "Model
            # Studio ... from Frankfurt"
            companies = list(dict.fromkeys(m.value for m in sentence if m.category == "product"))
        if not companies:
            # no company named: the sentence must refer back to the item's company
            refers_back = ANAPHORA.search(fld.folded, s_start, s_end) or (
                lead_before
                and not OTHER_ACTOR.search(fld.folded, s_start, s_end)
                and not self._other_subject(fld, s_start, sentence)
            )
            companies = [lead] if lead and refers_back else []
            if not companies and "deploy" not in categories:
                return False, set()  # no owner: nothing to record; the caller asks for "deploy"
        located: dict[int, bool] = {}
        serving = (
            {p.start for p in places if served_from(fld, p, sentence)}
            if "serve" in categories  # served_from needs a "serve" cue in the sentence
            else set()
        )
        for place in places:
            located[place.start] = place.start in serving or (
                "infra" in categories and is_located(fld, place, sentence, located)
            )
        spread_over_lists(fld, places, located)
        placed: set[str] = set()  # countries of infrastructure in this sentence
        for place in places:
            if not located[place.start]:
                continue
            if place.start not in serving and closer_to_not_infra(place, sentence):
                continue
            if not companies:
                placed.add(place.value)
                continue
            cues = self._clause_cues(fld, clauses, place.start)
            # a clause with its own subject ("，華為雲泰國資料中心已營運") overrides the sentence
            # ... but a company inside "X, which competes with Y in Thailand," is an object
            in_relative = False
            for a, b in clauses:  # clauses do not overlap: one holds the place, or none
                if a <= place.start < b:
                    in_relative = WHICH.match(fld.folded, a) is not None
                    break
            owners = (not in_relative and region_companies(fld, cues)) or companies
            possessor = possessor_of(fld, sentence, place)
            if possessor and possessor not in owners:
                owners = [*owners, possessor]  # "... in Tencent Cloud's Frankfurt region"
            if (
                place.start not in serving
                and not any(c.category == "infra" for c in cues)
                and not infra_next_clause(fld, clauses, place.start, self._within)
            ):
                continue  # the infrastructure belongs to another clause ("..., where AWS ...")
            placed.add(place.value)
            clause = cues
            if not any(c.category in STATUS_CUES for c in cues):
                cues = sentence  # the clause says nothing about status: read the sentence
            status, strength = self._status(cues, place.start, place.end)
            if status == "planned" and (
                existing_infra(fld, clause, place) or continues_here(clause, place)
            ):
                status, strength = "live", 2
            # "without" and "sans" deny only what follows them ("..., sans préciser le pays")
            # a Chinese negation reaches its own clause ("，请求和数据不会离开日本" denies no
            # Tokyo data centre); a denial (否认) and other languages' negations the sentence
            denied = any(
                in_scope(fld.folded, c, place.start)
                and (
                    c.value in DENYING or not has_cjk(c.value) or same_phrase(fld.folded, c, place)
                )
                for c in negations
            )
            for entity in owners:
                fact = Fact(entity, "region", place.value, status, evidence)
                if denied:
                    found.deny(fact.key)
                else:
                    found.record(fact, strength)
        return any(located.values()), placed

    @staticmethod
    def _other_subject(fld: ReadText, s_start: int, sentence: list[Mention]) -> bool:
        """The sentence opens on a name that none of its mentions reads (an untracked
        company, a person): what follows is that actor's, not the item's company's."""
        found = OTHER_SUBJECT.match(fld.text, s_start)
        if found is None:
            return False
        return not any(m.start < found.end() and m.end > s_start for m in sentence)

    def _deployments(
        self, fld: ReadText, s_start: int, s_end: int, sentence: list[Mention], evidence: Evidence
    ) -> list[tuple[str, str, int, Evidence]]:
        """(entity, status, strength, evidence) for chips put into an unnamed site here:
        "NVIDIA GPUs will fill the sites", "18,000 GB300 chips to be installed"."""
        if not any(m.category == "deploy" for m in sentence):
            return []
        owners = {
            n.spec.entity for n in fld.names if s_start <= n.start < s_end and n.spec.kind == "chip"
        }
        if any(m.category == "hardware" for m in sentence):
            owners |= {
                m.value
                for m in sentence
                if m.category == "company" and m.value in self._chip_makers
            }
        if not owners or any(m.category in ("negation", "hypothetical") for m in sentence):
            return []
        deploy = next(m for m in sentence if m.category == "deploy")
        status, strength = self._status(sentence, deploy.start, deploy.end)
        return [(entity, status, strength, evidence) for entity in sorted(owners)]

    def _deployed_regions(
        self,
        fld: ReadText,
        text_offset: int,
        deployments: list[tuple[str, str, int, Evidence]],
        found: Collector,
    ) -> None:
        """Chips deployed at a site the item places in one country count for their maker
        (FACTS.md): the country is the item's only region, or its title's only place."""
        countries = {f.value for f in found.facts() if f.kind == "region"}
        if not countries:
            countries = {
                m.value for m in fld.mentions if m.category == "place" and m.start < text_offset
            }
        if len(countries) != 1:
            return
        country = countries.pop()
        for entity, status, strength, evidence in deployments:
            found.record(Fact(entity, "region", country, status, evidence), strength)

    def _named(
        self,
        fld: ReadText,
        s_start: int,
        s_end: int,
        sentence: list[Mention],
        clauses: list[tuple[int, int]],
        tied: set[str],
        versioned_families: set[tuple[str, str]],
        evidence: Evidence,
        found: Collector,
    ) -> None:
        lo = bisect_left(fld.name_starts, s_start)
        in_sentence = fld.names[lo : bisect_left(fld.name_starts, s_end)]
        if not in_sentence:
            return
        # "denies reports that it will deploy Ascend chips": a denial governs the sentence
        denying = any(c.category == "negation" and c.value in DENYING for c in sentence)
        spans = list_spans(fld.folded, in_sentence) if len(in_sentence) > 1 else None
        for index, name in enumerate(in_sentence):
            g_start, g_end = spans[index] if spans else (name.start, name.end)
            spec = name.spec
            needs_context = name.bare or not name.versioned
            if needs_context and spec.family.context and spec.entity not in tied:
                continue
            if not name.versioned and (spec.entity, spec.family.family) in versioned_families:
                continue
            if not name.versioned and verb_homograph(fld, name.start, name.end):
                continue  # "Sales Ascend as Apple Slips": the verb, not the chip
            if denying:
                continue
            cues = self._clause_cues(fld, clauses, name.start)
            negations = [
                c
                for c in cues
                if c.category in ("negation", "hypothetical")
                and c.value not in STOPPING
                and in_scope(fld.folded, c, name.start)
            ]
            if negations:
                # "no plans to release X" denies X for the whole item; "denies its model
                # copied X" only makes this mention no evidence
                if any(c.value in CANCELLING for c in negations):
                    found.deny((spec.entity, spec.kind, value_key(name.value)))
                continue
            relative = self._relative_clause_cues(fld, clauses, name.end)
            about_name = any(c.category in CLAUSE_STATUS for c in relative)
            appositive = None if about_name else APPOSITIVE.match(fld.folded, name.end)
            if appositive is not None:
                stop = APPOSITIVE_END.search(fld.folded, appositive.end(), s_end)
                relative = self._within(fld, name.end, stop.start() if stop else s_end)
                # only a verb decides ("the first chip from the roadmap it announced": no)
                about_name = any(c.category in STATUS_CUES for c in relative)
            if about_name:
                cues = relative  # "the Ascend 910D, which the company is still developing"
            window = max(0, name.start - 40)
            if PREDECESSOR_GATE.search(fld.folded, window, name.start) and PREDECESSOR.search(
                fld.folded, window, name.start
            ):
                # "the successor to its R1 model", "replaces GPT-4o": the older one exists
                found.record(Fact(spec.entity, spec.kind, name.value, "live", evidence), 2)
                continue
            folded = fld.folded
            if (
                COMPARED_GATE.search(folded, window, name.start)
                and COMPARED.search(folded, window, name.start)
            ) or (
                COMPETED_BEFORE.search(folded, window, name.start)
                and COMPETED_AFTER.match(folded, name.end)
            ):
                # the yardstick of a comparison exists: "priced in line with Claude Opus 4.5"
                found.record(Fact(spec.entity, spec.kind, name.value, "live", evidence), 2)
                continue
            # a cue far from a name in a long clause is usually about something else; names
            # of one list ("Ascend 910B, 910C or 910D") share the status of the list
            # gap_span(c, g_start, g_end) <= NAME_CUE_REACH, without a call per cue
            back, on = g_start - NAME_CUE_REACH, g_end + NAME_CUE_REACH
            near = [c for c in cues if (back <= c.end if c.end <= g_start else c.start <= on)]
            if appositive is not None and about_name:
                near = cues  # the whole appositive is about the name, however long
            status, strength = self._status(near, g_start, g_end)
            if status == "planned" and any(c.category == "continuing" for c in near):
                status, strength = "live", 2  # "will continue to offer X": X exists
            elif (
                status == "live"
                and any(c.value in UNVEILING for c in near)
                and any(c.category == "planned" and c.start >= name.end for c in sentence)
            ):
                # unveiled now, deployed or shipped later, however far the schedule: "unveiled
                # the X at its conference ... and said it would be deployed from 2027"
                status = "planned"
            if about_name and strength:
                strength = 3  # a clause about the name itself outweighs a sentence's modal
            fact = Fact(spec.entity, spec.kind, name.value, status, evidence)
            found.record(fact, strength)
