"""Region facts of a sentence: which company owns the infrastructure it places, where,
and with what status; chips deployed at a site give their maker a region (FACTS.md)."""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

from monitor.extract.cues import (
    STATUS_CUES,
    clause_cues,
    coordinated_planned,
    status_of,
    within,
)
from monitor.extract.location import (
    closer_to_not_infra,
    cue_distances,
    is_located,
    joined,
    served_from,
    spread_over_lists,
)
from monitor.extract.mentions import Mention
from monitor.extract.region_scope import (
    absent_until_now,
    headline_gap,
    new_subject_between,
    other_statement,
    reported_joint_between,
    site_said_live,
    statement_cues,
    statement_owners,
)
from monitor.extract.rules import (
    ACTOR_WORDS,
    ANAPHORA,
    CONJUNCTION,
    OTHER_ACTOR,
    OTHER_SUBJECT,
    WHICH,
    Collector,
    ReadText,
    continues_here,
    existing_infra,
    in_scope,
    infra_next_clause,
    possessor_of,
    region_companies,
    same_phrase,
)
from monitor.extract.textfold import has_cjk
from monitor.extract.wordsets import DENYING
from monitor.types import Evidence, Fact

GOVERNMENT_VERB = re.compile(
    r"\s+(?:has\s+|have\s+|will\s+|a\s+|va\s+)?(?:pledg|urg|said|says|want|approv|sign|agree|"
    r"announc|order|bann|requir|ask|call|invest|commit|promis|demand|insist|exig|promet|veut|"
    r"annonc|souhait|"
    # the country waits for, hopes for or bets on its own: "La France attend pour sa part
    # Alice Recoque, son propre exascale"
    r"attend|espère|expects|hopes|awaits|mise sur|parie)"
)
_MARKET_AFTER = re.compile(
    r"[\s-]*(?:市场|market|marché|chips?|puces?|芯片|customers|clients|客户|版)"
)
_MARKET_BEFORE = re.compile(r"(?:\bfor|\bpour|\bto|为|對|对|向|供)\s*(?:the\s+|la\s+|le\s+)?$")
# chips put into each of several sites, named in a sentence before
EACH_SITE = re.compile(
    r"\b(?:each|every|all)\s+(?:of\s+)?(?:the\s+|these\s+|those\s+)?(?:new\s+)?"
    r"(?:sites?|campus(?:es)?|facilit(?:y|ies)|data\s+cent(?:re|er)s?|hubs?|factor(?:y|ies))\b"
    r"|\b(?:chaque|chacun|chacune|tous\s+les|toutes\s+les)\s+(?:de\s+ces\s+|des\s+)?"
    r"(?:nouveaux\s+|nouvelles\s+)?(?:sites?|campus|centres?|usines?|installations?)\b"
    r"|(?:每个|每一个|每座|每一座|各个|各)(?:站点|园区|数据中心|中心|基地|工厂)"
)
# a site named before, referred to: "installed there", "y seront installés", "当地"
THERE = re.compile(
    r"\b(?:there|on site|on the site|at the site|at the campus|sur place|sur le site|"
    r"sur le campus)\b|\by\s+(?:sera|seront|a|ont|installer|déployer|accueillir)\b|"
    r"(?:该园区|该数据中心|当地|那里|园区内)"
)
POSSESSED_NAME_REACH = 20  # characters from "X's" to X's model: "OpenAI's open-weight gpt-oss"
_NO_DEPLOYMENT = frozenset(["negation", "hypothetical", "regulatory", "consumer"])
# Chinese deployment verbs whose object (the chips) follows them
_OBJECT_AFTER = frozenset(["搭载", "配备", "采用", "导入", "引进"])


def read_regions(
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
    ownerless: bool = False,
) -> tuple[bool, set[str], bool | None]:
    """Record the sentence's region facts; return whether it names a located place, the
    countries of the infrastructure it places (for a "deploy" cue here or in a later
    sentence: "Chaque site accueillera des GPU Nvidia") and whether it names their owner
    (None: it names none and was not read; ``ownerless`` reads it for its countries).
    ``categories``: the mentions' categories; ``lead_before``: the item's first company
    was named before this sentence."""
    if "place" not in categories or "regulatory" in categories:
        return False, set(), False
    places = [m for m in sentence if m.category == "place"]
    negations = [m for m in sentence if m.category in ("negation", "hypothetical")]
    # a company named only inside a model's name ("runs DeepSeek-V3.2 on its own servers")
    # is the model's developer, not who runs the servers
    names_here = [n for n in fld.names if n.start < s_end and n.end > s_start]
    name_spans = [(n.start, n.end) for n in names_here]
    # ... and so is a company whose possessive opens its model's name ("OpenAI's
    # open-weight gpt-oss-120b", "DeepSeek's R1")
    for m in sentence:
        if m.category == "company" and fld.folded.startswith(("'s ", "’s "), m.end):
            for n in names_here:
                if (
                    n.spec.kind == "model"  # a maker's chips in a site are its hardware there
                    and n.spec.entity == m.value
                    and 0 <= n.start - m.end <= POSSESSED_NAME_REACH
                ):
                    name_spans.append((m.start, n.end))
    deniable = True
    owners_from = sentence
    if name_spans:
        owners_from = [
            m
            for m in sentence
            if m.category != "company" or not any(a <= m.start < b for a, b in name_spans)
        ]
    companies = region_companies(fld, owners_from)
    # a programme that is itself the site ("Stargate Norway ... will host Nvidia GPUs")
    # belongs to its owner, whoever else the sentence names
    infra_starts = {m.start for m in sentence if m.category == "infra"}
    site_owners = [m.value for m in sentence if m.category == "product" and m.start in infra_starts]
    if companies:
        companies = list(dict.fromkeys([*companies, *site_owners]))
    if not companies:
        # a company's own programme or product named instead: "Stargate UAE", "Model
        # Studio ... from Frankfurt"
        companies = list(dict.fromkeys(m.value for m in sentence if m.category == "product"))
    named = bool(companies)  # the owners are named in the sentence (not the item's lead)
    if not companies:
        anaphor = ANAPHORA.search(fld.folded, s_start, s_end) is not None
        # no company named: the sentence must refer back to the item's company
        # (an anaphor refers back: to a company named before, not one named only later)
        # (and "its" after a country opening the sentence is the country's)
        refers_back = (
            lead_before
            and not country_subject(fld, s_start, sentence)
            # "Plusieurs gouvernements européens ... font valoir leurs atouts": their own
            and not _OPENING_ACTOR.match(fld.folded, s_start)
            and (
                anaphor
                or (
                    not _other_actor(fld.folded, s_start, s_end)
                    and not other_subject(fld, s_start, sentence)
                )
            )
        )
        companies = [lead] if lead and refers_back else []
        # a negation denies the lead's region only where the sentence points at it ("it has
        # no data centre in India"), not where the lead is only the story's subject ("Deux
        # opérateurs ... ont ouvert des sites à Abidjan, ... sans qu'aucun pays ait été cité")
        deniable = anaphor
        if not companies and not ownerless and "deploy" not in categories:
            return False, set(), None  # no owner: the caller reads it again if chips need it
    located: dict[int, bool] = {}
    serving = (
        {p.start for p in places if served_from(fld, p, sentence)}
        if "serve" in categories  # served_from needs a "serve" cue in the sentence
        else set()
    )
    for before, after in itertools.pairwise(places):  # "out of Dubai and Jakarta"
        if before.start in serving and joined(fld.folded, before, after):
            serving.add(after.start)
    for place in places:
        located[place.start] = place.start in serving or (
            "infra" in categories and is_located(fld, place, sentence, located)
        )
    list_spans = spread_over_lists(fld, places, located)
    placed: set[str] = set()  # countries of infrastructure in this sentence
    for place in places:
        if not located[place.start]:
            continue
        if place.start not in serving and closer_to_not_infra(place, sentence):
            # ... unless its list is nearer the infrastructure than the place to the other
            # cue: "大会上宣布将新开土耳其伊斯坦布尔、埃及开罗和哈萨克斯坦阿拉木图三个云区域"
            span = list_spans.get(place.start)
            if span is None:
                continue
            other = cue_distances(place, sentence)[1]
            members = [p for p in places if span[0] <= p.start < span[1]]
            if other < min(cue_distances(p, sentence)[0] for p in members):
                continue
        if not companies:
            placed.add(place.value)
            continue
        cues = clause_cues(fld, clauses, place.start)
        # a clause with its own subject ("，華為雲泰國資料中心已營運") overrides the sentence
        # ... but a company inside "X, which competes with Y in Thailand," is an object
        in_relative = False
        antecedents: list[str] = []
        for a, b in clauses:  # clauses do not overlap: one holds the place, or none
            if a <= place.start < b:
                in_relative = WHICH.match(fld.folded, a) is not None
                if in_relative:
                    antecedents = _antecedents(fld, sentence, a)
                break
        if owners_from is not sentence:  # the same developers left out of the clause
            cues = [c for c in cues if c.category != "company" or c in owners_from]
        # "... en concurrence avec Huawei Cloud et Alibaba Cloud, qui disposent déjà
        # d'infrastructures dans la capitale saoudienne": the companies right before "qui"
        owners = antecedents or (not in_relative and region_companies(fld, cues)) or companies
        if named and not antecedents:
            # "阿里云首尔第二座数据中心启用；腾讯云曼谷新增可用区": each statement its own
            owners = statement_owners(fld.folded, s_start, s_end, sentence, place, owners)
        if lead and lead_before and _possessed_before_companies(fld, s_start, sentence, place):
            owners = [lead]  # "follows the opening of its first South Korean facility ... as
            # Huawei Cloud and Tencent Cloud court the same customers": its = the item's
        if site_owners:
            owners = list(dict.fromkeys([*owners, *site_owners]))
        possessor = possessor_of(fld, sentence, place)
        if possessor and possessor not in owners:
            owners = [*owners, possessor]  # "... in Tencent Cloud's Frankfurt region"
        if (
            place.start not in serving
            and not any(c.category == "infra" for c in cues)
            and not infra_next_clause(fld, clauses, place.start, within)
        ):
            continue  # the infrastructure belongs to another clause ("..., where AWS ...")
        placed.add(place.value)
        clause = cues
        if not any(c.category in STATUS_CUES for c in cues):
            # the clause says nothing about status: read its statement, else the sentence
            cues = statement_cues(fld.folded, s_start, s_end, sentence, place)
        # a list's places share the status of its first ("ouvrirait trois nouvelles
        # régions, au Mexique, en Thaïlande et en Corée du Sud, quelques mois après avoir
        # mis en service ..."): the cue nearest the last one may be about what follows
        head = place
        span = list_spans.get(place.start)
        if span is not None and span[0] != place.start:
            head = next((p for p in places if p.start == span[0]), place)
        status, strength = status_of(cues, head.start, head.end)
        if status == "planned" and (
            existing_infra(fld, clause, place)
            or continues_here(cues, place)
            or site_said_live(fld, clauses, clause, place)
        ):
            status, strength = "live", 2
        elif status == "live" and coordinated_planned(fld, clauses, place.start):
            status = "planned"
        # "without" and "sans" deny only what follows them ("..., sans préciser le pays")
        # a Chinese negation reaches its own clause ("，请求和数据不会离开日本" denies no
        # Tokyo data centre); a denial (否认) and other languages' negations the sentence
        # (a Chinese headline's two halves are two statements: "阿里云否认在台设数据中心
        # 台湾客户仍由香港、新加坡服务" denies nothing about Hong Kong)
        denied = any(
            in_scope(fld.folded, c, place.start)
            and not absent_until_now(fld.folded, c, s_end)
            and not other_statement(fld.folded, places, place, c)
            and not headline_gap(fld.folded, c, place)
            and not reported_joint_between(fld.folded, c, place)
            and (
                c.value in DENYING
                or (not has_cjk(c.value) and not new_subject_between(fld.folded, c, place))
                or same_phrase(fld.folded, c, place)
            )
            for c in negations
        )
        if denied and not deniable:
            continue  # no evidence, but no denial of a company the sentence does not name
        for entity in owners:
            fact = Fact(entity, "region", place.value, status, evidence)
            if denied:
                found.deny(fact.key)
            else:
                found.record(fact, strength)
    return any(located.values()), placed, bool(companies)


def _antecedents(fld: ReadText, sentence: list[Mention], clause_start: int) -> list[str]:
    """The companies a relative clause opening at ``clause_start`` is about: the one
    named right before its comma, and those joined to it ("Huawei Cloud et Alibaba
    Cloud, qui ...")."""
    before = [m for m in sentence if m.category == "company" and m.end <= clause_start]
    if not before or fld.folded[before[-1].end : clause_start].strip():
        return []
    chosen = [before[-1]]
    for m in reversed(before[:-1]):
        if not CONJUNCTION.fullmatch(fld.folded, m.end, chosen[-1].start):
            break
        chosen.append(m)
    return list(dict.fromkeys(m.value for m in reversed(chosen)))


# before an actor word, a preposition that makes it an object: "présentée aux opérateurs
# partenaires", "sold to governments", "en présence du ministre"
_OBJECT_BEFORE = re.compile(
    r"(?:\b(?:(?<!according )to|with|for|aux|avec|pour|à)|en présence d[eu])\s+"
    r"(?:the\s+|les\s+|des\s+|ses\s+|its\s+)?(?:[\w'’-]+\s+)?$"
)


# a sentence that opens on other actors: its pronouns are theirs
_OPENING_ACTOR = re.compile(
    r"\s*[«\"“]?\s*(?:(?:plusieurs|several|many|some|certains|certaines|de nombreux|"
    r"d'autres|other|les|the|des)\s+)?(?:" + ACTOR_WORDS + ")"
)


def _other_actor(folded: str, s_start: int, s_end: int) -> bool:
    """Someone other than the item's company acts or speaks in the sentence: an actor word
    that is not the object of a preposition."""
    for found in OTHER_ACTOR.finditer(folded, s_start, s_end):
        if not _OBJECT_BEFORE.search(folded, max(s_start, found.start() - 30), found.start()):
            return True
    return False


def other_subject(fld: ReadText, s_start: int, sentence: list[Mention]) -> bool:
    """The sentence opens on a name that none of its mentions reads (an untracked
    company, a person): what follows is that actor's, not the item's company's."""
    dateline = DATELINE.match(fld.text, s_start)  # "DHAHRAN: Aramco Digital has ..."
    opening = dateline.end() if dateline else s_start
    found = OTHER_SUBJECT.match(fld.text, opening)
    if found is None:
        # a Latin name as the subject of a Chinese verb: "阿联酋G42正在阿布扎比建设"
        found = _CJK_LATIN_SUBJECT.search(
            fld.folded, s_start, sentence[-1].end if sentence else s_start
        )
        if found is None:
            return False
        return not any(m.start < found.end() and m.end > found.start() for m in sentence)
    return not any(m.start < found.end() and m.end > opening for m in sentence)


_CJK_LATIN_SUBJECT = re.compile(
    r"(?<=[\u4e00-\u9fff，、])[a-z][a-z0-9]{1,15}(?=正在|将|已经|已|宣布|计划|则|亦|也|表示|称)"
)
# a wire's dateline: "DHAHRAN:", "BENGALURU, March 30 -", "LONDON, March 12 (EIW) -"
DATELINE = re.compile(
    r"[A-ZÀ-Ý][A-ZÀ-Ý .'-]{2,30}(?:,[^-—–:()]{1,30})?\s*(?:\([^)]{1,30}\))?\s*[-—–:]\s+"
)


_POSSESSIVE = re.compile(r"\b(?:its|their|son|sa|ses|leur|leurs)\b")


def _possessed_before_companies(
    fld: ReadText, s_start: int, sentence: list[Mention], place: Mention
) -> bool:
    """The place comes before any company the sentence names, after a possessive that
    can only refer back ("its first South Korean facility")."""
    first_company = next((m.start for m in sentence if m.category == "company"), None)
    if first_company is None or first_company < place.start:
        return False
    return _POSSESSIVE.search(fld.folded, s_start, place.start) is not None


def country_subject(fld: ReadText, s_start: int, sentence: list[Mention]) -> bool:
    """The sentence opens on a country, its government: "The UAE has pledged to match its
    spending with investment in American AI infrastructure"."""
    first = sentence[0] if sentence else None
    if first is None or first.category != "place" or first.kind not in ("country", "short"):
        return False
    if "\u4e00" <= fld.folded[first.start] <= "\u9fff":
        return False  # "中国移动", "沙特公共投资基金旗下...": a company's name or attribute
    if fld.folded[s_start : first.start].strip() not in ("", "the", "la", "le", "l'"):
        return False
    # ... and a government's verb follows ("La Thaïlande doit suivre": the next site)
    return GOVERNMENT_VERB.match(fld.folded, first.end) is not None


class Deployment(NamedTuple):
    """Chips of ``entity`` put into a site the sentence does not place."""

    entity: str
    status: str
    strength: int
    evidence: Evidence
    each: bool  # into each of several sites: "Chaque site accueillera des GPU Nvidia"
    there: bool  # into a site named before: "aim to have 100,000 GPUs installed there"


def deployments_in(
    fld: ReadText,
    s_start: int,
    s_end: int,
    sentence: list[Mention],
    evidence: Evidence,
    chip_makers: set[str],
) -> list[Deployment]:
    """The chips put into an unnamed site here, one Deployment per maker: "NVIDIA GPUs
    will fill the sites", "18,000 GB300 chips to be installed"."""
    verbs = [m for m in sentence if m.category == "deploy"]
    if not verbs or any(m.category in _NO_DEPLOYMENT for m in sentence):
        return []  # denied, hypothetical, a court case, or a phone's chip
    neutral = [(m.start, m.end) for m in sentence if m.category == "neutral"]
    if neutral and all(any(a <= v.start and v.end <= b for a, b in neutral) for v in verbs):
        return []  # "optimized to run on domestic hardware": made for it, not deployed
    named = [n for n in fld.names if s_start <= n.start < s_end and n.spec.kind == "chip"]
    chips = named
    if chips and all(has_cjk(v.value) for v in verbs):
        # Chinese clauses are short: the chips deployed share a clause with the verb
        # ("紫霄规模部署，H20订单受阻": the H20 is not what is deployed)
        chips = [n for n in chips if any(_same_clause(fld.folded, n.start, v.start) for v in verbs)]
    owners = {n.spec.entity for n in chips}
    hardware = [m for m in sentence if m.category == "hardware"]
    if hardware:
        owners |= {
            m.value
            for m in sentence
            if m.category == "company"
            and m.value in chip_makers
            # "chose Chinese AI hardware over Nvidia's": the one not chosen
            and not _INSTEAD_OF.search(fld.folded, max(0, m.start - 16), m.start)
        }
        if owners and all(
            _HOMEGROWN.search(fld.folded, max(0, h.start - 12), h.start) for h in hardware
        ):
            owners = {n.spec.entity for n in chips}  # "采用国产芯片": not the maker named
        if not chips and any(
            _DEFINITE.search(fld.folded, max(0, h.start - 8), h.start) for h in hardware
        ):
            # "the chips" are those the item named before, if one maker's, whoever the
            # sentence's subject ("Tencent ... has begun installing the chips")
            makers = {
                n.spec.entity for n in fld.names if n.spec.kind == "chip" and n.end <= s_start
            }
            if len(makers) == 1:
                owners = makers
    if not owners:
        return []
    deploy = verbs[0]
    # a Chinese verb whose object follows: the chips must come after it ("采用昇腾910C的
    # 集群"); "昇腾920...采用更先进的制程" is the chip adopting a process
    if (
        all(v.value in _OBJECT_AFTER for v in verbs)
        and not any(n.start > deploy.start for n in named)
        and not any(h.start > deploy.start for h in hardware)
    ):
        return []
    status, strength = status_of(sentence, deploy.start, deploy.end)
    each = EACH_SITE.search(fld.folded, s_start, s_end) is not None
    there = THERE.search(fld.folded, s_start, s_end) is not None
    return [
        Deployment(entity, status, strength, evidence, each, there) for entity in sorted(owners)
    ]


_INSTEAD_OF = re.compile(
    r"(?:\bover|instead of|rather than|plutôt que|au lieu d[e'’]|而非|而不是)\s*$"
)
_HOMEGROWN = re.compile(r"(?:国产|自研|domestic|home-?grown|locally made|chinese)\s*$")
_DEFINITE = re.compile(r"\b(?:the|these|those|les|ces)\s+$")
_CJK_CLAUSE_END = re.compile(r"[，,；;：:]")


def _same_clause(folded: str, a: int, b: int) -> bool:
    """No clause break between the two positions."""
    return _CJK_CLAUSE_END.search(folded, min(a, b), max(a, b)) is None


def deployment_places(fld: ReadText, sentence: list[Mention]) -> set[str]:
    """The one country a sentence with no site noun puts its chips in ("à Narvik, où Nscale
    prévoit d'installer 100 000 GPU Nvidia"): its places written as locations, none nearer
    an office or a conference; empty unless exactly one country."""
    countries = {
        m.value
        for m in sentence
        if m.category == "place"
        and m.kind != "demonym"
        and is_located(fld, m, sentence, {})
        and not closer_to_not_infra(m, sentence)
    }
    return countries if len(countries) == 1 else set()


def deployed_regions(
    fld: ReadText,
    text_offset: int,
    deployments: list[Deployment],
    sites: list[tuple[Evidence, set[str]]],
    found: Collector,
) -> None:
    """Chips deployed at a site the item places in one country count for their maker
    (FACTS.md): the country is the item's only region, or its title's only place; chips
    put into each of several sites go to the countries of the nearest sentence before
    that places infrastructure, whoever owns it. ``sites``: sentences that place
    infrastructure without naming its owner, and their countries."""
    kept = {f.value for f in found.facts() if f.kind == "region"}  # none denied
    regions = [(_position(ev), value) for ev, value in found.region_evidence if value in kept]
    countries = {value for _at, value in regions}
    if not countries:
        # the title's places, but not a market ("为中国市场开发B30A", "Nvidia Said to Work on
        # China Chip", "a chip for China")
        title = [m for m in fld.mentions if m.category == "place" and m.start < text_offset]
        if not any(
            _MARKET_AFTER.match(fld.folded, m.end)
            or _MARKET_BEFORE.search(fld.folded, max(0, m.start - 6), m.start)
            for m in title
        ):  # a title about a market is about sales, not sites
            countries = {m.value for m in title}
    for entity, status, strength, evidence, each, there in deployments:
        here = countries
        if there and not regions:
            # sites no tracked company owns, named before: "Nscale will build a campus in
            # Narvik ... aim to have 100,000 Nvidia GPUs installed there"
            at = _position(evidence)
            here = {c for site, placed in sites if _position(site) < at for c in placed}
        if each:
            # "... prévoit d'étendre au Nigeria, au Kenya et au Maroc son réseau de centres
            # de calcul. Chaque site accueillera des GPU Nvidia."
            placed = [(_position(at), c) for at, site_countries in sites for c in site_countries]
            here = _nearest_before(regions + placed, _position(evidence))
        elif len(here) > 1:
            # several sites in the item: the one of the nearest sentence before ("... Stargate
            # UAE, in Abu Dhabi. The site runs on NVIDIA GB300 systems.")
            here = _nearest_before(regions, _position(evidence))
        if len(here) == 1 or each:
            for country in sorted(here):
                found.record(Fact(entity, "region", country, status, evidence), strength)


def _position(evidence: Evidence) -> tuple[int, int]:
    """Where a sentence is in the item: the title first, then the text."""
    return (0 if evidence.field == "title" else 1, evidence.start)


def _nearest_before(regions: list[tuple[tuple[int, int], str]], at: tuple[int, int]) -> set[str]:
    """The countries of the region facts of the nearest sentence before ``at``."""
    before = [position for position, _value in regions if position < at]
    if not before:
        return set()
    last = max(before)
    return {value for position, value in regions if position == last}
