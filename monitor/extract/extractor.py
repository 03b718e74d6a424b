"""The extractor: an item's title and text to FACTS.md facts with evidence."""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter

from monitor.extract.cues import (
    CLAUSE_STATUS,
    STATUS_CUES,
    clause_cues,
    coordinated_planned,
    in_use,
    model_in_use,
    relative_clause_cues,
    said_to_exist,
    status_of,
    within,
)
from monitor.extract.linker import RuleReading, linked_regions, training_pairs
from monitor.extract.linker_model import LinkerModel, default_model
from monitor.extract.mentions import Mention, MentionMatcher, drop_nested
from monitor.extract.names import NameMatcher
from monitor.extract.place_mentions import (
    drop_name_parts,
    place_anaphors,
    resolve_ambiguous_places,
)
from monitor.extract.regions import (
    Deployment,
    deployed_regions,
    deployment_places,
    deployments_in,
    read_regions,
)
from monitor.extract.rules import (
    APPOSITIVE,
    APPOSITIVE_END,
    VARIANT_AFTER,
    VARIANT_GATE,
    VARIANT_OF,
    Collector,
    ReadText,
    drop_umbrella_chips,
    in_scope,
    is_question,
    list_spans,
    other_product,
    sentence_evidence,
    verb_homograph,
)
from monitor.extract.sentences import clause_spans, sentence_spans
from monitor.extract.site_lists import has_bullets, read_site_lists
from monitor.extract.textfold import fold, fold_chinese, has_cjk
from monitor.extract.watchlist import Watchlist, default_watchlist
from monitor.extract.wordsets import (
    CANCELLING,
    DENYING,
    LEAKS,
    PERFECTIVE_CJK,
    STOPPING,
    UNVEILING,
)
from monitor.types import Evidence, Fact, Item, value_key

MAX_CHARS = 200_000  # untrusted text: read at most this much of a field
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
    "occasion": 12,
    "timed": 8,
    "serve": 9,
    "consumer": 11,
}
NAME_CUE_REACH = 60  # characters: status cues further from a model/chip name are ignored
_QUESTION_TAIL = frozenset("?？\"'”»」』)）")  # last characters of a question
_YEAR = re.compile(r"20\d\d")  # a year when no digit touches it (checked in code)
# "于" and a month, with no modal before it: "DeepSeek於5月底推出" (not "将于5月底")
_PAST_CJK_DATE = re.compile(r"(?<![将拟定计划预])于(?:\d{4}年)?\d{1,2}$")
_PAST_CJK_DATE_ANYWHERE = re.compile(r"(?<![将拟定计划预])于(?:\d{4}年)?\d{1,2}")
# 已 before announcing or entering a stage of work: what is done is the announcement
_ANNOUNCED_ALREADY = re.compile(
    r"已(?:经)?(?:陆续|先后|正式)?(?:宣布|公布|披露|表示|签署|签约|计划|规划|启动建设|"
    # construction started: the site is still to come ("新区域节点已正式动工")
    r"动工|开工|破土|奠基|开建|"
    r"进入(?:训练|测试|研发|试产|开发))"
)
# a descriptive phrase between a name and its verb: ", aimed at ...," ", destiné à ...,"
_INCISE_OPEN = re.compile(
    r"(?:\s+(?:de|of|from)\s+[\w-]+)?\s*,\s*(?:which\s+is\s+|qui\s+est\s+)?"
    # a participle or an adjective opens it, not a verb ("the 910C, is less powerful")
    r"(?:aimed|designed|built|optimi[sz]ed|tuned|targeted|intended|meant|dubbed|called|"
    r"named|billed|positioned|geared|pitched|destiné|destinée|optimisé|optimisée|conçu|"
    r"conçue|baptisé|baptisée|dédié|dédiée|pensé|pensée|taillé|taillée|orienté|orientée|"
    r"présenté|présentée|calibré|calibrée)\b"
)
_INCISE_TENSE = frozenset([*STATUS_CUES, "planned_weak", "deploy", "existing", "continuing"])
_INCISE_REACH = 120  # characters of the phrase, up to its closing comma
_VERB_REACH = 40  # characters after the closing comma


def _verb_after_incise(fld: ReadText, end: int, s_end: int) -> list[Mention]:
    """The status cues right after a descriptive phrase set off by commas after a name,
    when the phrase has none of its own: the name is the subject of that verb ("the Ascend
    950PR, aimed at the prefill stage ..., will ship in the first quarter", "l'Ascend
    950PR, optimisé pour ..., est attendu au premier trimestre")."""
    opened = _INCISE_OPEN.match(fld.folded, end)
    if opened is None:
        return []
    stop = min(s_end, opened.end() + _INCISE_REACH)
    close = fld.folded.find(",", opened.end(), stop)
    if close < 0 or any(m.category in _INCISE_TENSE for m in within(fld, opened.end(), close)):
        return []
    after = within(fld, close + 1, min(s_end, close + 1 + _VERB_REACH))
    return [m for m in after if m.category in STATUS_CUES or m.category == "timed"]


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
    """Build once per watchlist (automata are compiled here); ``extract`` is thread-safe.

    ``linker=False`` or the watchlist's ``region_linker: false`` runs the hand rules
    alone (the learned region linker, linker.py, is trained on their output); a
    ``LinkerModel`` replaces the shipped one."""

    def __init__(self, watchlist: Watchlist | None = None, *, linker: bool | LinkerModel = True):
        watchlist = watchlist if watchlist is not None else default_watchlist()
        self.watchlist = watchlist
        with _collector_paused():
            self._names = NameMatcher(watchlist)
            self._mentions = MentionMatcher(watchlist, self._names.family_keys)
        self._chip_makers = {e for e, company in watchlist.companies.items() if company.chips}
        if isinstance(linker, LinkerModel):
            self._linker: LinkerModel | None = linker
        else:
            self._linker = default_model() if linker and watchlist.region_linker else None

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
                # inside a blocker, or across its end ("美国" across "南美|国家")
                if m.category != "place" or not any(m.start < b and a < m.end for a, b in blocked)
            ]
            places = [m for m in mentions if m.category == "place"]
        if places:
            # item text is "title\ntext": a headline's words are capitalised anyway
            mentions = drop_name_parts(text, mentions, places, text.find("\n") + 1)
            places = [m for m in mentions if m.category == "place"]
        if len(places) > 1:
            mentions = resolve_ambiguous_places(mentions, places, text)
        if places:
            anaphors = place_anaphors(folded, mentions)
            if anaphors:
                mentions = mentions + anaphors
        if "已" in folded and _ANNOUNCED_ALREADY.search(folded):
            # "已陆续宣布...站点", "已进入训练后期": announced, not done
            mentions = [
                Mention("neutral", m.value, m.start, m.end)
                if m.value in PERFECTIVE_CJK and _ANNOUNCED_ALREADY.match(folded, m.start)
                else m
                for m in mentions
            ]
        if "于" in folded and _PAST_CJK_DATE_ANYWHERE.search(folded):
            # "於5月底推出": a date told in the past, not a schedule
            mentions = [
                Mention("neutral", m.value, m.start, m.end)
                if m.category == "timed"
                and _PAST_CJK_DATE.search(folded, max(0, m.start - 9), m.start)
                else m
                for m in mentions
            ]
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

    # -- extraction ---------------------------------------------------------------
    def extract(self, item: Item) -> list[Fact]:
        read = self._by_rules(item)
        if read is None:
            return []
        facts = drop_umbrella_chips(read.found.facts())
        if self._linker is None:
            return facts
        return linked_regions(read, facts, detect_lang(item), self._linker)

    def region_pairs(
        self, item: Item
    ) -> tuple[list[Fact], dict[tuple[str, str], tuple[set[str], set[str]]]]:
        """The rules' facts, and the linker's (entity, country) pairs with their features
        and their site sentence's status features: what ``bench/train_linker.py`` learns
        from."""
        read = self._by_rules(item)
        if read is None:
            return [], {}
        facts = drop_umbrella_chips(read.found.facts())
        return facts, training_pairs(read, facts, detect_lang(item))

    def _by_rules(self, item: Item) -> RuleReading | None:
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
        name_starts_at = {n.start for n in fld.names}
        for category, value, start, end, _kind in fld.mentions:
            if category == "company":
                companies_in_item.add(value)
                # the developer inside a model's name ("DeepSeek-V3.2") leads no story
                if lead is None and start not in name_starts_at:
                    lead, lead_end = value, end
            elif category == "product":
                products.add(value)
            elif category == "place":
                has_places = True
        if not fld.names and not (has_places and (companies_in_item or products)):
            return None  # no model, chip, or company (or its programme) with a place
        # FACTS.md: a short name (o2, R1, V3) counts where the item ties it to its
        # developer: the company, one of its products, or one of its models in full
        tied = companies_in_item | products
        tied |= {n.spec.entity for n in fld.names if n.versioned and not n.bare}
        found = Collector()
        versioned_families = {
            (n.spec.entity, n.spec.family.family) for n in fld.names if n.numbered
        }
        # a bare version that is another maker's product once is so all through the item:
        # "星衡R1 ... 动力方面，R1搭载..."
        other_products = {
            n.value for n in fld.names if n.bare and other_product(fld.folded, n.start, n.end)
        }
        name_starts = fld.name_starts
        starts = fld.starts
        mentions = fld.mentions
        full_text = fld.text
        deployments: list[Deployment] = []
        sites: list[tuple[Evidence, set[str]]] = []  # sentences placing no owner's sites
        unread: list[tuple[int, int, list[Mention], set[str], list[tuple[int, int]], Evidence]] = []
        placed_sentences: list[tuple[int, int, list[Mention]]] = []  # for the linker
        # bulleted site lists, read as lists: "Operational sites:" then "- Huawei Cloud:
        # Dublin (2020); Paris (2021)"
        lists = read_site_lists(fld, text_offset, lead, found) if has_bullets(full_text) else None
        for s_start, s_end in sentence_spans(full_text):
            if full_text[s_end - 1] in _QUESTION_TAIL and is_question(full_text, s_start, s_end):
                continue  # FACTS.md: a question asserts nothing
            # the sentence's mentions (as within(), inlined: this runs for every sentence)
            lo = bisect_left(starts, s_start)
            hi = bisect_left(starts, s_end, lo)
            sentence = [m for m in mentions[lo:hi] if m.end <= s_end]
            with_names = bisect_left(name_starts, s_end) > bisect_left(name_starts, s_start)
            categories = {m.category for m in sentence}
            if not with_names and categories.isdisjoint(_LOCATING):
                continue
            if "place" in categories:
                placed_sentences.append((s_start, s_end, sentence))
            evidence = sentence_evidence(full_text, text_offset, s_start, s_end)
            wants_clauses = with_names or categories >= _PLACED_INFRA
            clauses = clause_spans(full_text, s_start, s_end) if wants_clauses else []
            located = False
            owned: bool | None = False
            placed: set[str] = set()
            if lists is not None and lists.was_read(s_start):
                pass  # a bullet of a site list, read with its list
            elif not categories.isdisjoint(_INFRA_OR_SERVE):
                owner = lists.owner_at(s_start) if lists is not None else None
                located, placed, owned = read_regions(
                    fld,
                    s_start,
                    s_end,
                    sentence,
                    categories,
                    clauses,
                    owner or lead,
                    owner is not None or lead_end <= s_start,
                    evidence,
                    found,
                )
                if owned is None:  # read again only if chips go "there" or to "each site"
                    unread.append((s_start, s_end, sentence, categories, clauses, evidence))
                elif placed and not owned:
                    sites.append((evidence, placed))
            if "deploy" in categories:
                deployed = deployments_in(
                    fld, s_start, s_end, sentence, evidence, self._chip_makers
                )
                if deployed and not located and categories.isdisjoint(_INFRA_OR_SERVE):
                    # no site named, but a place where the chips go: "à Narvik, où Nscale
                    # prévoit d'installer 100 000 GPU Nvidia"
                    placed = deployment_places(fld, sentence)
                    located = bool(placed)
                if not placed or (deployed and deployed[0].each):
                    # ... or into each site of a list before: "Chaque site accueillera des
                    # GPU Nvidia, ... qui exploite déjà une usine d'IA à Johannesburg"
                    deployments.extend(deployed)
                elif len(placed) == 1:
                    # chips put into the site this sentence places: "... is now running in
                    # Abu Dhabi, on NVIDIA GB300 systems" gives the maker a region there
                    country = next(iter(placed))
                    for entity, status, strength, ev, _each, _there in deployed:
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
                    other_products,
                    evidence,
                    found,
                )
        if deployments:
            if unread and any(d.each or d.there for d in deployments):
                for s_start, s_end, sentence, categories, clauses, evidence in unread:
                    _located, placed, _owned = read_regions(
                        fld,
                        s_start,
                        s_end,
                        sentence,
                        categories,
                        clauses,
                        None,
                        False,
                        evidence,
                        Collector(),  # no owner: nothing to record
                        ownerless=True,
                    )
                    if placed:
                        sites.append((evidence, placed))
            deployed_regions(fld, text_offset, deployments, sites, found)
        return RuleReading(found, fld, lead, text_offset, placed_sentences)

    def _named(
        self,
        fld: ReadText,
        s_start: int,
        s_end: int,
        sentence: list[Mention],
        clauses: list[tuple[int, int]],
        tied: set[str],
        versioned_families: set[tuple[str, str]],
        other_products: set[str],
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
            if needs_context and (
                (name.bare and name.value in other_products)
                or other_product(fld.folded, name.start, name.end)
            ):
                continue  # "星衡R1", "V3发动机", 《Ascend》: a car, an engine, a game
            if denying:
                continue
            cues = clause_cues(fld, clauses, name.start)
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
            relative = relative_clause_cues(fld, clauses, name.end)
            about_name = any(c.category in CLAUSE_STATUS for c in relative)
            appositive = None if about_name else APPOSITIVE.match(fld.folded, name.end)
            if appositive is not None:
                stop = APPOSITIVE_END.search(fld.folded, appositive.end(), s_end)
                relative = within(fld, name.end, stop.start() if stop else s_end)
                # only a verb decides ("the first chip from the roadmap it announced": no)
                about_name = any(c.category in STATUS_CUES for c in relative)
            if about_name:
                cues = relative  # "the Ascend 910D, which the company is still developing"
            window = max(0, g_start - 40)
            if said_to_exist(fld.folded, g_start, name.start, name.end):
                found.record(Fact(spec.entity, spec.kind, name.value, "live", evidence), 2)
                continue
            folded = fld.folded
            # a cue far from a name in a long clause is usually about something else; names
            # of one list ("Ascend 910B, 910C or 910D") share the status of the list
            # gap_span(c, g_start, g_end) <= NAME_CUE_REACH, without a call per cue
            back, on = g_start - NAME_CUE_REACH, g_end + NAME_CUE_REACH
            near = [c for c in cues if (back <= c.end if c.end <= g_start else c.start <= on)]
            if appositive is not None and about_name:
                near = cues  # the whole appositive is about the name, however long
            status, strength = status_of(near, g_start, g_end)
            if not strength:
                after = _verb_after_incise(fld, name.end, s_end)
                if after:  # "the Ascend 950PR, aimed at ... workloads, will ship in ..."
                    near = after
                    status, strength = status_of(after, after[0].start, after[0].start)
            if not strength and any(c.category == "timed" for c in near):
                # no verb near the name, only a date: "suivi au quatrième trimestre par X"
                status, strength = "planned", 1
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
            elif status == "live" and coordinated_planned(fld, clauses, name.start):
                status = "planned"  # "将发布X，并推出Y"
            elif status == "live" and any(c.value in LEAKS for c in sentence):
                status, strength = "planned", max(strength, 1)  # a leak, however far
            if (
                status == "planned"
                and spec.kind == "chip"
                and not about_name
                and in_use(folded, s_start, s_end, g_start)
            ):
                # "will deploy 18,000 GB300 chips": the plan is the site's; the chip exists.
                # Weak, so that a sentence about the chip's own release outweighs it.
                status, strength = "live", 1
            elif (
                status == "planned"
                and spec.kind == "model"
                and not about_name
                and model_in_use(folded, s_start, s_end, g_start)
            ):
                status, strength = "live", 1  # "will serve Qwen3-Max locally": so it exists
            elif about_name and strength:
                strength = 3  # a clause about the name itself outweighs a sentence's modal
            elif strength > 1 and (
                (
                    VARIANT_GATE.search(folded, window, name.start)
                    and VARIANT_OF.search(folded, window, name.start)
                )
                or VARIANT_AFTER.match(folded, name.end)
            ):
                # "readying a version of the H20": the sentence's status is the variant's;
                # the H20's own, if another sentence tells it, outweighs it
                strength = 1
            fact = Fact(spec.entity, spec.kind, name.value, status, evidence)
            found.record(fact, strength)
