"""Helpers of the extractor: the read text, the fact collector, and the rules that decide
which company a region belongs to, what a negation reaches, and which chips are series
umbrellas (where a place is: location.py). Pure functions over mentions; no state."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.extract.mentions import Mention
from monitor.extract.names import NameMatch
from monitor.extract.wordsets import SCOPE_AFTER
from monitor.types import Evidence, Fact


@dataclass(slots=True)
class ReadText:
    name: str  # "title" or "text"
    text: str
    folded: str
    mentions: list[Mention]
    names: list[NameMatch]
    starts: list[int] = field(default_factory=list)  # mention starts, for bisect
    name_starts: list[int] = field(default_factory=list)  # name starts, for bisect


def sentence_evidence(text: str, text_offset: int, s_start: int, s_end: int) -> Evidence:
    """A sentence of the read text (title, newline, text: the text starts at
    ``text_offset``) as evidence, with offsets in its own field."""
    if s_start < text_offset:
        return Evidence(text[s_start:s_end], s_start, s_end, "title")
    return Evidence(text[s_start:s_end], s_start - text_offset, s_end - text_offset, "text")


def _field(fact: Fact) -> str | None:
    return fact.evidence.field if fact.evidence is not None else None


class Collector:
    """Facts of one item: one per key, the most firmly stated status kept. A fact that
    any sentence denies ("has no plans to release GPT-5") is dropped from the item."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str, str], Found] = {}
        self._denied: set[tuple[str, str, str]] = set()
        # every sentence that gave a region, kept or not: the sites chips may go to
        self.region_evidence: list[tuple[Evidence, str]] = []

    def record(self, fact: Fact, strength: int) -> None:
        """Keep the first mention, unless a later one states the status more firmly, or
        as firmly in the body where the first was in the title (headlines say "unveils"
        of a chip the body says ships next year)."""
        if fact.kind == "region" and fact.evidence is not None:
            self.region_evidence.append((fact.evidence, fact.value))
        known = self._found.get(fact.key)
        if (
            known is None
            or strength > known.strength
            or (
                strength == known.strength == 2
                and _field(known.fact) == "title"
                and _field(fact) == "text"
            )
        ):
            self._found[fact.key] = Found(fact, strength)

    def deny(self, key: tuple[str, str, str]) -> None:
        self._denied.add(key)

    def denies(self, key: tuple[str, str, str]) -> bool:
        return key in self._denied

    def facts(self) -> list[Fact]:
        return [f.fact for key, f in self._found.items() if key not in self._denied]


@dataclass(slots=True)
class Found:
    fact: Fact
    strength: int  # 2: status from a strong cue, 1: from a weak cue, 0: the default


# Words that refer back to the item's company ("the company", "its", "la société", "其").
ANAPHORA = re.compile(
    r"\b(?:it|its|the company|the company's|the firm|the group|the provider|the facility|"
    r"the (?:chinese|american|us|[\w]+-based) (?:provider|group|company|firm|giant|chipmaker)|"
    r"le (?:géant|groupe) (?:chinois|américain)|"
    r"the site|the data cent(?:re|er)|the region|the new region|"
    r"la société|le groupe|l'entreprise|son|sa|ses|il|elle|ils|elles)\b|其|该公司|公司|该|新地域|"
    r"新数据中心"
)
# Someone other than the item's company acting or speaking in a sentence that names no
# company: its infrastructure is not the company's ("officials said", "the Commerce
# Department cited", "EU officials in Brussels", "rivals have built"). Without one, a
# sentence naming no company, after the company was named, continues the item's story, as
# reporting does ("New regions are planned for Brazil, he said").
ACTOR_WORDS = (
    r"\b(?:officials?|government|governments|ministry|minister|department|regulators?|"
    r"prosecutors?|(?<!vice-)(?<!its )president|analysts?|commission|authorities|lawmakers|"
    r"investigators|rivals?|competitors?|partners?|operators|retailers|responsables|"
    r"specialists?|experts?|consultants?|researchers?|economists?|spécialistes?|"
    r"chercheurs?|économistes?|"
    r"gouvernements?|ministère|"
    r"ministre|autorités|analystes?|enquêteurs|concurrents?|partenaires?)\b|"
    r"政府|官员|部门|监管|分析师|当局|委员会|检察|部长|对手|合作伙伴|人士"
)
OTHER_ACTOR = re.compile(
    ACTOR_WORDS + "|"
    # untracked companies anywhere in the sentence: "微軟、谷歌亦相繼宣布在馬來西亞擴建"
    r"\b(?:microsoft|google|amazon|aws|oracle|meta|baidu|bytedance|equinix|amd|intel|"
    r"cerebras)\b|"
    r"微软|谷歌|亚马逊|甲骨文|百度|字节跳动|火山引擎|脸书|三星|软银|英特尔"
)
# ... or a sentence opening on a name that is none of the mentions, then a comma or a verb
# of saying: "Nscale, a London-based AI cloud company, is building ...", "Microsoft said"
OTHER_SUBJECT = re.compile(
    r"[\"“«]?\s*(?!(?:The|A|An|It|Its|He|She|They|This|That|These|Those|We|In|On|At|By|For|"
    r"With|And|But|Also|Meanwhile|However|Separately|Earlier|Later|Last|Next|New|First|"
    r"According|Le|La|Les|Il|Elle|Ils|Elles|Ce|Cette|Ces|Un|Une|Des|Selon|Dans|En|Au|Aux|"
    r"Pour|Par|Mais|Et|Son|Sa|Ses)\b)[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+){0,2}"
    r"(?:,|\s+(?:said|says|told|announced|added|confirmed|plans|is|was|has|will|a déclaré|"
    r"a annoncé|annonce|indique|a indiqué|prévoit|va))"
)
# Names of one list: only commas and "and"/"or" between them.
LIST_OF_NAMES = re.compile(r"\s*(?:,|/|、|and|or|et|ou|和|与|及|以及|或)?\s*(?:and|or|et|ou)?\s*")
# Words before a name that make it the model or chip being succeeded: it exists.
PREDECESSOR = re.compile(
    r"(?:successor (?:to|of)|succeeds|succeed|succeeding|replaces|replacing|replace|"
    r"successeur (?:de|du|d')|succéder à|succède à|succédera à|succéderait à|succéderont à|"
    r"succéderaient à|remplace|remplacer|remplaçant|"
    r"接替|取代|替代|接棒|填补|existing|existant|existante|"
    # the yardstick of time: "its biggest release since the R1 model that rattled markets"
    r"since|depuis|"
    # a past habit: "a picker that used to offer GPT-4o, o3 and o4-mini"
    r"used to (?:offer|include|list|sell|ship|carry|feature|host)|"
    # "users who previously chose between GPT-4o ... and o3"
    r"previously (?:chose|used|picked|selected|relied on)(?: between)?|"
    # "a year after DeepSeek's R1 reasoning model jolted markets"
    r"(?:years?|months|weeks|ans?|mois|semaines)\s+(?:after|après))"
    r"\s*(?:(?:its|the|their|son|sa|ses|le|la|l'|les)\s*)?"
    # up to three words ("successeur du modèle de raisonnement R1") or a Chinese modifier
    # ("取代8月推出的GPT-5")
    r"(?:(?:(?!with\b|by\b|avec\b|par\b|for\b|pour\b)[\w.\-]+(?:'s|’s)?\s+){0,3}|[^\s，。、]{1,8}的|"
    r"[\u4e00-\u9fff]{2,4})$"
)
# A Chinese modifier telling that the name was already out: "此前已开源的视觉理解模型Qwen3-VL",
# "去年发布的GPT-4o" (but not "已宣布将推出的": announced, still to come)
PAST_MODIFIER_CJK = re.compile(
    r"(?:已经|已|此前|之前|去年|早前|刚刚|日前|近日|上周|上月)"
    r"(?:(?!将|计划|预计|宣布|拟)[^，。；、：:\s]){1,6}的"
    r"(?:(?!将|计划|预计|路线)[^，。；、：:\s]){0,10}$"
)
PREDECESSOR_GATE = re.compile(
    r"succ|repla|rempla|接替|取代|替代|接棒|填补|exist|since|depuis|after|après|used to|previously"
)
# Words before a name that make the sentence about a variant of it: "a refreshed version of
# the H20", "une version remaniée de son accélérateur H20".
VARIANT_OF = re.compile(
    r"(?:version|variant|variante|déclinaison)(?:\s+[\w\-]+)?\s+(?:of|de|du|d'|d’)\s*"
    r"(?:(?:its|the|their|son|sa|ses|le|la|l'|l’)\s*)?(?:[\w\-]+\s+)?$"
)
VARIANT_GATE = re.compile(r"version|varia|déclinaison")
VARIANT_AFTER = re.compile(
    r"的?(?:改版|改良版|升级版|特供版|变体|衍生版|阉割版|缩水版|强化版|增强版|加强版)"
)
# Words before a name that make it the yardstick of a comparison: it exists ("priced in
# line with Claude Opus 4.5", "beats GPT-5.1", "face à DeepSeek-V3", "对标GPT-5").
COMPARED = re.compile(
    r"(?:in line with|compared (?:with|to)|than|against|versus|vs\.?|rivals?|rivall?ing|"
    r"compete[sd]? with|competing with|on par with|beats?|beating|outperform(?:s|ed|ing)?|"
    r"surpass(?:es|ed|ing)?|ahead of|above|below|par rapport à|face à|dépasse|surpasse|"
    r"concurrence|rivalisera avec|rivaliser avec|alongside|aux côtés d[eu]|au-dessus d[eu]|"
    r"对标|超越|超过|优于|击败|比肩|"
    r"媲美|胜过|落后于|相比|约为|追平|追上|赶上|看齐|接近|较|介于|"
    # "the same brief as Qwen3-Omni", "des performances proches de celles des H20"
    r"same(?:\s+[\w-]+)?\s+as|proches?\s+de\s+cel(?:le|les|ui|ux)\s+d(?:e|u|es)|"
    r"comparables?\s+à|similaires?\s+à|équivalentes?\s+à|"
    # "six fois plus rapide que le H20", "性能将高于目前获准在华销售的H20"
    r"(?:plus|moins)\s+[\w\-]+\s+que|高于|强于|低于|逊于|弱于|不及|"
    # a fraction of the yardstick: "about half the performance of the B300"
    r"(?:half|twice|double|moitié)\s+"
    r"(?:the\s+|des\s+|de\s+la\s+)?(?:[\w\-]+\s+){0,2}?"
    r"(?:(?:performance|speed|power|compute|performances|puissance|vitesse)\s+)?(?:of|de|du|d')|"
    r"相当于)\s*"
    r"(?:(?:its|the|their|le|la|l'|les|de|du)\s*)?"
    # the yardstick's maker between: "追平辉达B200", "对标英伟达的H100"
    r"(?:[\w.\-]+(?:'s|’s)\s+|[^\s，。、]{1,8}的|[\u4e00-\u9fff]{2,4})?"
    # ... and what it is: "the company's flagship B300", "旗舰产品B300"
    r"(?:(?:flagship|current|top-end|high-end|dual-die|existing|own|phare|actuel|actuelle|"
    r"haut de gamme)\s+|旗舰(?:产品|芯片|版本)?|现有|目前的)?$"
)
COMPARED_GATE = re.compile(
    r"line|compar|than|against|vers|vs|rival|compet|par |beat|outperf|surpass|ahead|face|"
    r"alongside|côtés|"
    r"above|below|dessus|dépasse|surpasse|concurren|对标|超|优于|击败|比肩|媲美|胜过|落后|相比|约为|"
    r"plus |moins |高于|强于|低于|逊于|弱于|不及|"
    r"相当于|追平|追上|赶上|看齐|接近|较|介于|half|twice|double|moitié|same|proche|comparable|"
    r"similaire|équivalent"
)
# An appositive right after a name says what it is, and its verbs are about the name:
# "the Rubin CPX, an accelerator that will ship at the end of 2026", "GB300 systems, a chip
# NVIDIA has been shipping since 2025", "GB300, des puces qu'elle livre depuis l'an dernier".
APPOSITIVE = re.compile(
    r"(?:\s+(?:systems?|chips?|gpus?|servers?|superchips?|accelerators?|processors?|"
    r"puces?|systèmes?|serveurs?))?"
    r"\s*[,，]\s*(?:a|an|its|the|des|une|un|le|la|ses|sa|son)\s+(?:[\w\-]+\s+){0,3}?"
    r"(?:chips?|accelerators?|gpus?|processors?|superchips?|systems?|models?|puces?|"
    r"accélérateurs?|processeurs?|modèles?|systèmes?)\b"
)
APPOSITIVE_END = re.compile(r"[,;，；]")
# "与OpenAI的GPT-5.2的竞争": a name between "with" and a word of rivalry
COMPETED_BEFORE = re.compile(r"(?:与|和|跟|同)\s*(?:[^\s，。、]{1,8}的)?$")
COMPETED_AFTER = re.compile(
    r"[^，。；,;]{0,20}?(?:竞争|抗衡|比拼|较量|大致相同|相同|相当|相近|持平|之间)"
)
QUESTION_END = re.compile(r"[?？][\"'”»」』)）]*$")
# A relative clause about the subject: its companies are objects, not owners.
WHICH = re.compile(r"[,，]\s*(?:which|who|qui|dont|lequel|laquelle)\b")
RELATIVE = re.compile(r"[,，]\s*(?:which|that|where|qui|que|dont|où|lequel|laquelle)\b")
TOKEN = re.compile(r"[\w'’]+|[^\w\s]", re.UNICODE)


CONJUNCTION = re.compile(r"\s*(?:,|and|et|with|avec|与|和|及|、|携手|联合)\s*")


def region_companies(fld: ReadText, sentence: list[Mention]) -> list[str]:
    """The sentence's subject company (the first named) and those joined to it by a
    conjunction ("OpenAI and NVIDIA"); a company named later in the sentence ("which
    competes with Huawei Cloud") is not the one building."""
    named = [m for m in sentence if m.category == "company"]
    if not named:
        return []
    if _RIVAL_GATE.search(fld.folded, max(0, named[0].start - 24), named[-1].start):
        # "La start-up américaine, rivale d'OpenAI, a annoncé": the rival is the subject
        named = [m for m in named if not RIVAL_OF.search(fld.folded, max(0, m.start - 24), m.start)]
        if not named:
            return []
    chosen = [named[0]]
    for m in named[1:]:
        if CONJUNCTION.fullmatch(fld.folded, chosen[-1].end, m.start):
            chosen.append(m)
    return list(dict.fromkeys(m.value for m in chosen))


_PHRASE_END = re.compile(r"[,;:，；：]")
_RIVAL_GATE = re.compile(r"rival|concurren|competitor|challenger")
RIVAL_OF = re.compile(
    r"\b(?:rivale?s?|concurrente?s?|competitors?|challengers?)\s+(?:of|to|de|du|d'|d’)\s*$"
)


def in_scope(folded: str, negation: Mention, start: int) -> bool:
    """Does the negation reach what starts at ``start``? "Without" and "sans" deny only
    what follows them in their own phrase: "without their data leaving the EU, ... began
    serving Qwen3-Max from Frankfurt" denies neither; other negations the whole clause."""
    if negation.value not in SCOPE_AFTER:
        return True
    if start < negation.start:
        return False
    return _PHRASE_END.search(folded, negation.end, start) is None


_CJK_PHRASE_END = re.compile(r"[，；。,;]")


def same_phrase(folded: str, a: Mention, b: Mention) -> bool:
    """No comma or semicolon between the two: one phrase of a Chinese sentence (quotes
    do not end it: "对在美国建设数据中心“没有任何计划”")."""
    start, end = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return _CJK_PHRASE_END.search(folded, start, max(start, end)) is None


def gap_span(cue: Mention, start: int, end: int) -> int:
    if cue.end <= start:
        return start - cue.end
    return max(0, cue.start - end)


def gap(a: Mention, b: Mention) -> int:
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def drop_umbrella_chips(facts: list[Fact]) -> list[Fact]:
    """Drop a chip series ("Ascend 950") when the item names two or more of its models
    ("Ascend 950PR", "Ascend 950DT"); one lettered variant beside a chip is a variant of
    that chip, which exists ("the H20E, a refreshed version of the H20")."""
    chips = [f for f in facts if f.kind == "chip"]
    keep: list[Fact] = []
    for fact in facts:
        key = fact.key[2]
        if fact.kind == "chip" and key[-1:].isdigit():
            models = {
                other.key[2]
                for other in chips
                if other.entity == fact.entity
                and other.key[2] != key
                and other.key[2].startswith(key)
                and other.key[2][len(key)].isalpha()
            }
            if len(models) > 1:
                continue
        keep.append(fact)
    return keep


def is_question(text: str, start: int, end: int) -> bool:
    """A sentence that ends with a question mark."""
    tail = text[max(start, end - 4) : end]
    if "?" not in tail and "？" not in tail:
        return False
    return QUESTION_END.search(text, max(start, end - 4), end) is not None


# Words before a verb ("hopes to ascend", "will ascend") and particles after one
# ("Sales Ascend as Apple Slips"); a family name between them is the verb.
_AUXILIARY = frozenset(["to", "will", "would", "can", "could", "may", "might", "should", "must"])
_VERB_PARTICLE = frozenset(["as", "to", "again", "higher", "above", "beyond", "further"])
_NOUN_SLOT = frozenset(
    [
        "its",
        "the",
        "their",
        "his",
        "her",
        "our",
        "using",
        "use",
        "uses",
        "used",
        "on",
        "with",
        "of",
        "for",
        "from",
        "by",
        "and",
        "or",
        "s",
        "new",
        "latest",
        "own",
        "huawei",
        "nvidia",
    ]
)


def verb_homograph(fld: ReadText, start: int, end: int) -> bool:
    """A family name alone written where English puts a verb ("Sales Ascend as ...")."""
    if not fld.text[start:end].isascii():
        return False
    before = TOKEN.findall(fld.folded[max(0, start - 30) : start])
    after = TOKEN.findall(fld.folded[end : end + 20])
    previous = before[-1] if before else ""
    if previous in _AUXILIARY:
        return True
    following = after[0] if after else ""
    return following in _VERB_PARTICLE and previous not in _NOUN_SLOT


# a vehicle near a bare version: "1.5T V3混动专用发动机", "中型SUV启程R1", "the R1 pickup"
_VEHICLE = re.compile(
    r"发动机|引擎|混动|增程|车型|轿车|suv|pickup|pick-up|sedan|berline|engine|moteur|vehicle|"
    r"véhicule"
)
_VEHICLE_REACH = 10
_CJK_BRAND = re.compile(r"[\u4e00-\u9fff]{2,4}$")


def other_product(folded: str, start: int, end: int) -> bool:
    """A bare version ("R1", "V3") or a family alone that is another maker's product: a car
    or an engine near it, a brand before it that the item names as a carmaker ("星衡汽车 ...
    星衡R1"), or the title of a work (《Ascend：登顶之路》, a game)."""
    if start and folded[start - 1] == "《":
        return True
    near = folded[max(0, start - _VEHICLE_REACH) : end + _VEHICLE_REACH]
    if _VEHICLE.search(near):
        return True
    brand = _CJK_BRAND.search(folded, max(0, start - 4), start)
    if brand is None:
        return False
    word = brand.group()
    return any(word[i:] + "汽车" in folded for i in range(len(word) - 1))


def list_spans(folded: str, names: list[NameMatch]) -> list[tuple[int, int]]:
    """For each name, the span of the list it is part of ("A, B or C"), else its own."""
    spans = [(n.start, n.end) for n in names]
    group = 0
    for index in range(1, len(names) + 1):
        if index < len(names) and LIST_OF_NAMES.fullmatch(
            folded, names[index - 1].end, names[index].start
        ):
            continue
        span = (names[group].start, names[index - 1].end)
        for member in range(group, index):
            spans[member] = span
        group = index
    return spans


def possessor_of(fld: ReadText, sentence: list[Mention], place: Mention) -> str | None:
    """The company whose possessive stands right before the place: "Tencent Cloud's
    Frankfurt region", "Alibaba Cloud's data centre in Dubai"."""
    for m in sentence:
        if m.category != "company" or m.end >= place.start:
            continue
        if fld.folded[m.end : m.end + 2] not in ("'s", "’s"):
            continue
        if len(TOKEN.findall(fld.folded[m.end + 2 : place.start])) <= 3:
            return m.value
    return None


def continues_here(clause: list[Mention], place: Mention) -> bool:
    """A "carrying on" cue is the status cue nearest the place: "will keep serving them
    from Johannesburg" (live), not "..., pending a region in Abidjan due in 2028"."""
    carrying = [gap(c, place) for c in clause if c.category == "continuing"]
    if not carrying:
        return False
    other = [gap(c, place) for c in clause if c.category == "planned"]
    return not other or min(carrying) <= min(other)  # "will remain": "will" inside it


def existing_infra(fld: ReadText, clause: list[Mention], place: Mention) -> bool:
    """The place's infrastructure is written as already there: an "existing" cue right
    before an infrastructure noun next to the place ("will expand its data centre in
    Dubai", "its existing regions in Riyadh", "将扩建其在迪拜的数据中心")."""
    cues = [m for m in clause if m.category == "existing"]
    if not cues:
        return False
    for infra in clause:
        if infra.category != "infra" or gap(infra, place) > 30:
            continue
        for cue in cues:
            if (
                cue.end <= infra.start
                and len(TOKEN.findall(fld.folded[cue.end : infra.start])) <= 3
            ):
                return True
            if cue.end <= place.start <= infra.start and infra.start - cue.end <= 30:
                return True  # "expanding its Monterrey cloud region"
            if 0 <= cue.start - infra.end <= 1:
                return True  # "son centre de données existant"
    return False


def infra_next_clause(
    fld: ReadText,
    clauses: list[tuple[int, int]],
    start: int,
    within: Callable[[ReadText, int, int], list[Mention]],
) -> bool:
    """Infrastructure in the clause before or after the place's, when that clause is
    joined by a comma only (Chinese clauses are short: "计划在墨西哥，建设数据中心")."""
    for index, (c_start, c_end) in enumerate(clauses):
        if c_start <= start < c_end:
            # forward not across "and"/"but" ("listed its shares in Hong Kong and opened a
            # data centre in Seoul"), nor into "..., where AWS opened a region"; backward
            # for an ellipsis ("opened data centres in Mexico and is preparing a second in Brazil")
            neighbours = clauses[max(0, index - 1) : index]
            following = clauses[index + 1 : index + 2]
            # "..., where its second data centre opened" is the company's own; "..., where
            # AWS opened a region" is another company's
            if (
                following
                and comma_joined(fld, following[0][0])
                and (
                    not RELATIVE.match(fld.folded, following[0][0])
                    or refers_back(fld, within(fld, *following[0]), *following[0])
                )
            ):
                neighbours += following
            return any(m.category == "infra" for a, b in neighbours for m in within(fld, a, b))
    return False


def refers_back(fld: ReadText, mentions: list[Mention], start: int, end: int) -> bool:
    """A relative clause about the sentence's own company: it names no company and refers
    back to it ("..., where its second data centre opened")."""
    if any(m.category == "company" for m in mentions):
        return False
    return ANAPHORA.search(fld.folded, start, end) is not None


def comma_joined(fld: ReadText, clause_start: int) -> bool:
    return fld.folded[clause_start : clause_start + 1] in (",", "，", "、", "")
