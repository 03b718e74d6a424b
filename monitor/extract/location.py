"""Where a place is: whether a sentence writes it as the location of infrastructure ("in
Mexico", "a Mexico data centre", "在墨西哥", lists, serving from a city). Pure functions
over mentions (which names are places at all: place_mentions.py)."""

from __future__ import annotations

import re

from monitor.extract.lexicon import VENUE
from monitor.extract.mentions import Mention
from monitor.extract.rules import TOKEN, ReadText
from monitor.extract.wordsets import (
    INFRA_PRONOUNS,
    LIST_JOINERS,
    LOCATIVE_CJK,
    LOCATIVE_LATIN,
    PLACE_MODIFIERS,
    SERVED_PEOPLE,
    SERVING_FROM_CJK,
    SERVING_FROM_LATIN,
)

# a verb of saying right after "在<place>": the place is where it was said
_SAID_CJK = re.compile(r"(?:表示|宣布|称|透露|指出|介绍|说|发表)")
# right after a place, whose money, government or firm it is: "中国资本", "新加坡政府",
# "英国算力公司" (a joint venture, 合资公司, is a site)
_OWNERS_CJK = ("资本", "资金", "控股", "政府", "投资", "股东", "团队")
_CJK_FIRM_AFTER = re.compile(
    r"(?:(?!合资|成立|设立|组建)[^，。；、\s向为给对与和及跟同把被从在])"
    r"{0,4}(?:公司|企业|集团|业者|厂商|服务商|供应商|运营商|营运商|实体)"
)
_CJK_FIRM_WORDS = ("公司", "企", "集团", "业者", "厂商", "商", "实体")


def owner_of_cjk(folded: str, end: int) -> bool:
    """The Chinese place ending at ``end`` is an attribute of an owner or a firm."""
    if folded.startswith(_OWNERS_CJK, end):
        return True
    tail = folded[end : end + 7]
    # "美国云服务商主导", "几家美国厂商", "中国实体持股": firms from there
    return any(w in tail for w in _CJK_FIRM_WORDS) and (
        _CJK_FIRM_AFTER.match(folded, end) is not None
    )


_VENUE_CUES = frozenset(cue for by_lang in VENUE.values() for cue in by_lang)
# a locative, a capitalised name and a comma right before the place ("in Zhangbei, ")
_TOWN_COMMA = re.compile(
    r"\b(?:in|at|near|à|près de|dans)\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2},\s*$"
)
_OF = frozenset(["of", "de", "du", "d'", "d’"])
# a country's capital written with its demonym, after a locative
_CAPITAL_BEFORE = re.compile(r"\b(?:dans|à|en|près de)\s+(?:la\s+)?capitale\s+$")
_CAPITAL_AFTER = re.compile(r"\s+capital\b")
_LOCATIVE_THE = re.compile(r"\b(?:in|at|near|outside)\s+the\s+$")
_PRONOUN_REACH = 90  # characters from the infrastructure noun to its pronoun's place
_PART_OF_A_PLACE = frozenset(
    [
        "outskirts",
        "suburbs",
        "edge",
        "heart",
        "outside",
        "banlieue",
        "périphérie",
        "environs",
        "abords",
        "portes",
        "cœur",
        "coeur",
        # a town the gazetteer lacks, placed from a known one: "south of Paris", "au nord
        # de Lyon"
        "north",
        "south",
        "east",
        "west",
        "north-east",
        "north-west",
        "south-east",
        "south-west",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "nord",
        "sud",
        "est",
        "ouest",
    ]
)
# a place that is only a landmark for the place before it
_NEAR_ANOTHER = re.compile(r",\s*(?:near|close to|not far from|près de|non loin de)\s+(?:the\s+)?$")
# between a place and the site it was chosen for
_FOR_ITS = re.compile(
    r"\s+(?:for|pour|as)\s+(?:(?:its|their|the|sa|son|ses|leur|leurs|le|la)\s+)?"
    r"(?:first|second|third|premier|première|deuxième|troisième)\s+(?:[\w'’-]+\s+){0,3}|"
    r"\s+(?:for|pour)\s+(?:its|their|sa|son|ses|leur|leurs)\s+(?:[\w'’-]+\s+){0,2}"
)
# right after a place that is where something will be: "Norway will host", "accueillera"
_HOSTS = re.compile(r"\s+(?:will\s+|to\s+)?(?:hosts?|house[sd]?|accueill|héberg)")
# right after a place that says where a company comes from
_EPITHET = re.compile(
    r"(?:\s+|-)(?:based|headquartered|company|group|firm|giant|start-?up|conglomerate|"
    r"provider|operator|lab|"
    # a market, not a site: "its China-specific data-centre chip", "the China-market version"
    r"specific|market|only|bound|focused|compliant)\b"
)
# right after a place, a relative clause about what is there
_WHERE = re.compile(r"\s*,\s*(?:where|où)\s")
_WHERE_REACH = 30  # characters from "where" to the infrastructure noun
# right before a place that says where a company comes from, in French word order
_EPITHET_BEFORE = re.compile(
    r"\b(?:géant|groupe|firme|société|entreprise|champion|constructeur|équipementier|"
    r"fabricant|conglomérat)\s+(?:de|d'|d’)\s*$"
)
# an ordinal before "after <place>": the place holds an earlier one of the same
_ORDINAL_BEFORE = re.compile(
    r"\b(?:second|third|fourth|fifth|deuxième|troisième|quatrième|cinquième|seconde?)\b"
    r"[^.;]{0,35}\b(?:after|après)\s+$"
)
# right before a place where someone or something is based
_BASED_IN = re.compile(
    r"(?:\b(?:based|headquartered|basée?s?)|"
    r"\b(?:analyste|gérant|gérante|consultant|consultante|économiste|investisseur|expert|"
    r"chercheur|chercheuse|juriste|associé|associée|banquier|courtier|analystes|gérants|"
    r"stratégiste|stratège|spécialiste|consultants|économistes|experts|chercheurs)"
    # "un stratégiste d'une banque française installé à Singapour": the person is
    r"\s+(?:[\w'’-]+\s+){0,4}(?:installée?s?|établie?s?))\s+(?:in|at|à|en|au|aux)\s+(?:the\s+)?$"
)
# right before a place that is the site's neighbour, not the site
_BORDERING = re.compile(
    r"\b(?:borders?|bordering|near the border with|on the border with|across from|"
    r"frontière avec|frontière de|frontalier de|frontalière de|face à)\s+"
    r"(?:the\s+|la\s+|le\s+|les\s+|l'|l’)?$"
)


# a firm named by where it is from: "British AI infrastructure firm Nscale", "Norwegian
# industrial group Aker", "l'hébergeur britannique Nscale"
_FIRM_AFTER_DEMONYM = re.compile(
    r"\s+(?:[\w-]+\s+){0,3}?(?:firm|company|group|operator|provider|developer|start-?up|"
    r"giant|conglomerate|hyperscalers?|neocloud|utility|carrier|telco|investors?|fund)\b"
)
_FIRM_BEFORE_DEMONYM = re.compile(
    r"\b(?:hébergeur|opérateur|groupe|société|entreprise|start-up|géant|fonds|"
    r"investisseur|conglomérat|fournisseur|développeur)\s+(?:[\w-]+\s+)?$"
)


_NAME_NEXT = re.compile(r"\s+[A-Z]")
# firms, in the plural, named by where they are from: "US hyperscalers", "Chinese cloud
# providers", "les opérateurs américains" is the French order (demonym after: not here)
_FIRMS_AFTER = re.compile(
    r"(?:\s+[\w-]+){0,2}?\s+(?:hyperscalers|cloud providers|providers|operators|companies|"
    r"firms|rivals|competitors|chipmakers|tech giants|giants|investors|telcos|carriers)\b"
)


def _named_foreign_firm(fld: ReadText, place: Mention) -> bool:
    """A demonym naming a firm that a capitalised name follows."""
    folded = fld.folded
    after = _FIRM_AFTER_DEMONYM.match(folded, place.end)
    if after is not None:
        return _NAME_NEXT.match(fld.text, after.end()) is not None
    return (
        _FIRM_BEFORE_DEMONYM.search(folded, max(0, place.start - 40), place.start) is not None
        and _NAME_NEXT.match(fld.text, place.end) is not None
    )


# an inclusion after the infrastructure: the places listed next are where it is
_INCLUDING = frozenset([
    "includes", "include", "included", "including", "spans", "span", "spanning", "covers",
    "covering", "comprend", "comprennent", "comprenant", "couvre", "couvrent", "notamment",
    "dont", "incluant", "inclut",
])  # fmt: skip
_INCLUDING_REACH = 45  # characters from the infrastructure noun to the first place
_INCLUDING_CJK = ("涵盖", "覆盖", "包括", "包含", "遍及", "遍布")

_PREPOSITION = re.compile(r"\s+(?:in|at|à|en|au|aux)\s+")


def _person_based(folded: str, infra: Mention) -> bool:
    """Whether "installé à" is said of a person ("un stratégiste d'une banque française installé à
    Singapour"): where someone works, not equipment installed."""
    if not folded.startswith(("install", "établi"), infra.start):
        return False
    after = _PREPOSITION.match(folded, infra.end)
    if after is None:
        return False
    return _BASED_IN.search(folded, max(0, infra.start - 60), after.end()) is not None


def closer_to_not_infra(place: Mention, sentence: list[Mention]) -> bool:
    """An office, a conference or a regulator nearer the place than any infrastructure."""
    infra, other = cue_distances(place, sentence)
    return other < infra


def cue_distances(place: Mention, sentence: list[Mention]) -> tuple[int, int]:
    """Characters from the place to the nearest infrastructure cue and to the nearest
    not-infrastructure cue (office, conference, regulator...)."""
    infra = other = 10**9
    start, end = place.start, place.end
    for m in sentence:  # one pass, gap() inlined
        category = m.category
        if category != "infra" and category != "not_infra":
            continue
        if m.start >= end and m.value in _VENUE_CUES:
            continue  # "in Osaka, Japan, the company said at its summit": the venue follows
        distance = m.start - end if end <= m.start else start - m.end if m.end <= start else 0
        if category == "infra":
            infra = min(infra, distance)
        else:
            other = min(other, distance)
    return infra, other


def is_located(
    fld: ReadText, place: Mention, sentence: list[Mention], located: dict[int, bool]
) -> bool:
    """Is the place written as where something is: "in Mexico", "a Mexico data centre",
    "在墨西哥", "墨西哥地域", or listed after such a place ("in Brazil, France and ...")."""
    folded = fld.folded
    cjk = "\u4e00" <= folded[place.start] <= "\u9fff"
    infra_after = [
        m
        for m in sentence
        if m.category == "infra" and m.start >= place.end and not _person_based(folded, m)
    ]
    infra_before = [m for m in sentence if m.category == "infra" and m.end <= place.start]
    if cjk:
        before = folded[max(0, place.start - 4) : place.start]
        if before.endswith("来自"):
            return False  # people or firms from a country: "来自越南和菲律宾的客户"
        if folded.startswith(("以外", "之外"), place.end):
            return False  # "在美国以外": elsewhere
        if owner_of_cjk(folded, place.end):
            return False  # "英国算力公司Nscale": a firm from there
        if folded[place.start : place.end] in ("国内", "内地") and not any(
            before.endswith(w) for w in LOCATIVE_CJK
        ):
            return False  # "国内服务器代工业者": domestic, an adjective; "在国内" is a place
        if before.endswith("在") and _SAID_CJK.match(folded, place.end):
            return False  # where it was said: "负责人同日在深圳表示，华为云计划..."
        if place.kind != "demonym" and any(w in before for w in LOCATIVE_CJK):
            return True
        if (
            before.endswith("继")
            and (infra_after or infra_before)
            and _AFTER_CJK.match(folded, place.end) is not None
        ):
            return True  # the sites before this one: "这是继挪威、阿联酋与英国之后...的最新站点"
        if folded[place.start - 1 : place.start] == "的" and any(
            m.category in ("place", "blocker")
            and m.end == place.start - 1
            and any(folded[max(0, m.start - 3) : m.start].endswith(w) for w in LOCATIVE_CJK)
            for m in sentence
        ):
            return True  # "在东南亚的泰国、新加坡、印尼均设有可用区"
        if any(m.end == place.start for m in infra_before):  # "星际之门阿联酋"
            return True
        if before.endswith(_INCLUDING_CJK) and any(
            0 <= place.start - m.end <= 4 for m in infra_before
        ):
            return True  # "海外据点涵盖香港、东京、首尔": the sites it counts
        for m in sentence:  # a list after a located place: "在巴西、墨西哥"
            if (
                m.category == "place"
                and located.get(m.start)
                and folded[m.end : place.start] in ("、", "和", "及", "与", "以及")
            ):
                return True
        nxt = place.end
        for m in sentence:  # skip a following city or state ("墨西哥克雷塔罗州的数据中心")
            if m.category == "place" and m.start == nxt:
                nxt = m.end
        # "法兰克福第二可用区", "迪拜的新数据中心": ordinals and "new" before the noun
        nxt = _CJK_ORDINAL.match(folded, nxt).end()  # type: ignore[union-attr]
        between = folded[nxt : nxt + 3]
        return any(0 <= m.start - nxt <= 1 + between.count("的") for m in infra_after)
    if _EPITHET.match(folded, place.end):
        return False  # where a company is from: "the Shenzhen company", "a Paris-based lab"
    if place.kind in ("demonym", "short", "country") and _FIRMS_AFTER.match(folded, place.end):
        return False  # "from US hyperscalers", "Chinese cloud providers": firms from there
    if place.kind == "demonym" and _named_foreign_firm(fld, place):
        return False  # "British AI infrastructure firm Nscale", "l'hébergeur britannique
        # Nscale": a partner named by where it is from (but "the Thai start-up ... has
        # installed" runs its own site at home)
    near = folded[max(0, place.start - 24) : place.start]
    if ("de" in near or "d'" in near or "d’" in near) and _EPITHET_BEFORE.search(near):
        return False  # "le géant de Shenzhen", "le groupe de Hangzhou": where it is from
    if ("bas" in near or "headq" in near or "install" in near) and _BASED_IN.search(
        folded, max(0, place.start - 70), place.start
    ):
        return False  # ... or where a person is: "une analyste basée à Singapour", "un
        # gérant installé à Hong Kong"
    window = folded[max(0, place.start - 30) : place.start]
    if ("bord" in window or "front" in window or "face" in window or "across" in window) and (
        _BORDERING.search(window)
    ):
        return False  # the neighbour of the site: "à Johor, à la frontière avec Singapour"
    if fld.text[max(0, place.start - 2) : place.start].rstrip().endswith(",") and (
        _TOWN_COMMA.search(fld.text, max(0, place.start - 50), place.start)
    ):
        return True  # a town the gazetteer lacks, then its state: "in Zhangbei, Hebei"
    if _HOSTS.match(folded, place.end):
        return True  # the place hosts it: "le Mexique ... accueilleront des infrastructures"
    where = _WHERE.match(folded, place.end) if "," in folded[place.end : place.end + 3] else None
    if where is not None and any(m.start - where.end() <= _WHERE_REACH for m in infra_after):
        # "Hong Kong and Singapore, where it has run data centres": whose they are, the
        # clause says (rules.infra_next_clause)
        return True
    if _NEAR_ANOTHER.search(folded, max(0, place.start - 16), place.start) and any(
        m.category == "place" and 0 < place.start - m.end <= 40 for m in sentence
    ):
        return False  # a landmark for the place before: "on Batam island, near Singapore"
    # Latin script: up to two words between the place and an infrastructure noun
    if any(len(TOKEN.findall(folded[place.end : m.start])) <= 2 for m in infra_after):
        return True
    # chosen for a site: "picked Portugal for its first data centre", "le Maroc pour sa
    # troisième région"
    if any(_FOR_ITS.fullmatch(folded, place.end, m.start) for m in infra_after):
        return True
    # a project named after its country: "Stargate UAE", "campus Stargate aux Émirats";
    # a region named after its city: "its region of Casablanca", "sa région de Casablanca"
    if place.kind != "demonym" and any(
        TOKEN.findall(folded[m.end : place.start]) in ([], ["of"], ["de"], ["d'"], ["d’"], ["du"])
        for m in infra_before
    ):
        return True
    if place.kind == "demonym" and (
        _CAPITAL_BEFORE.search(folded, max(0, place.start - 30), place.start)
        or (
            _CAPITAL_AFTER.match(folded, place.end)
            and _LOCATIVE_THE.search(folded, max(0, place.start - 12), place.start)
        )
    ):
        return True  # "dans la capitale saoudienne", "in the Saudi capital"
    if place.kind == "demonym":  # "centre de données malaisien"
        return any(not TOKEN.findall(folded[m.end : place.start]) for m in infra_before)
    words = TOKEN.findall(folded[max(0, place.start - 40) : place.start])
    if (
        len(words) > 1
        and words[-1] in _OF
        and words[-2] in INFRA_PRONOUNS
        and any(0 <= place.start - m.end <= _PRONOUN_REACH for m in infra_before)
    ):
        return True  # "sa deuxième région, après celle de Johannesburg"
    while words and words[-1] in PLACE_MODIFIERS:  # "in northern Norway", "in the UAE"
        words.pop()
    if words and words[-1] in LOCATIVE_LATIN:
        return True
    if len(words) > 1 and words[-1] in _OF and words[-2] in _PART_OF_A_PLACE:
        return True  # "on the outskirts of São Paulo", "dans la banlieue de Riyad"
    if (
        words
        and (words[-1] in _INCLUDING or words[-1] == ":" or words[-2:] == ["such", "as"])
        and any(0 <= place.start - m.end <= _INCLUDING_REACH for m in infra_before)
    ):
        return True  # "a network of 29 regions that already includes Japan, ...", "data
        # centres in three countries: Japan, ...", "des régions, notamment au Japon"
    if (
        words
        and words[-1] in ("from", "after", "après")
        and any(len(TOKEN.findall(folded[m.end : place.start])) <= 3 for m in infra_before)
    ):
        return True  # "a fourth African region after Johannesburg, Cairo and Lagos", "22
        # regions worldwide, from Seoul and Bangkok to São Paulo"
    if (
        words
        and words[-1] in ("after", "après")
        and infra_before
        and _ORDINAL_BEFORE.search(folded, max(0, place.start - 50), place.start)
    ):
        return True  # "a cloud region in Cairo ..., its second on the continent after Johannesburg"
    if words and words[-1] == "outside" and place.kind.startswith("city"):
        return True  # "a facility outside Bangkok" (but "outside China" is elsewhere)
    # infrastructure meant for a country: "new regions are planned for Brazil", "une
    # usine d'IA pour l'Italie" (a chip "for the Chinese market" has no infrastructure)
    if (
        words
        and words[-1] in ("for", "pour")
        and any(len(TOKEN.findall(folded[m.end : place.start])) <= 4 for m in infra_before)
    ):
        return True
    # a list announced by a colon after infrastructure: "new regions ...: Chile, Peru and"
    if words and words[-1] in (":", "—", "–") and infra_before:
        return True
    for prev_start, ok in located.items():  # a list of places after a located one
        if ok and prev_start < place.start:
            gap_words = TOKEN.findall(folded[prev_start : place.start])[1:]
            if all(w in LIST_JOINERS or (w.isalpha() and w[0].isupper()) for w in gap_words):
                return True
    return False


_CJK_ORDINAL = re.compile(
    r"(?:方面)?(?:的)?(?:第[一二三四五六七八九十\d]+[个座家]?|首[个座家]?|"
    r"[一两二三四五\d]+[个座家](?:海外|境外|新的?)?|"
    # a list's count: "巴西、法国、荷兰三地的新云地域", "两国的数据中心"
    r"[两二三四五六七八九十\d]+(?:地|国|个国家|个市场|座城市)的?(?:新的?)?|新的?|"
    r"既有的?|现有的?|原有的?|"
    # "and other places", then what is there already: "墨西哥、日本等地已投运的数据中心"
    r"等(?:地|国|市场)?(?:已[\u4e00-\u9fff]{1,3}的)?)?"
)
_AFTER_CJK = re.compile(r"[^，。；,;]{0,24}?之后")
_LIST_JOIN_CJK = frozenset(["、", "和", "及", "与", "以及", ",", "，", "或"])
# a list's members grouped with a count between them: "两个拉美市场、", "两个欧洲国家，以及"
_CJK_COUNTED_JOIN = re.compile(
    r"[两二三四五六七八九十\d]+个[\u4e00-\u9fff]{1,6}(?:、|，|,|和|及|与)(?:以及|及|和)?"
)


# countries that are one city: "serves Indonesian users from Singapore" as from a city
_CITY_STATES = frozenset(["SG", "HK", "MO"])


def served_from(fld: ReadText, place: Mention, sentence: list[Mention]) -> bool:
    """The company's service runs from the place: "serves its models from Tokyo",
    "sert ses modèles depuis Francfort", "自东京提供服务" (FACTS.md: a cloud service there)."""
    if not any(m.category == "serve" for m in sentence):
        return False
    folded = fld.folded
    if "\u4e00" <= folded[place.start] <= "\u9fff":
        before = folded[max(0, place.start - 2) : place.start]
        if before.endswith("来自"):
            return False  # "来自越南的客户": customers come from there
        if owner_of_cjk(folded, place.end):
            return False  # "由中国资本控股的企业": who owns them, not where they run
        if before.endswith("由"):
            return True  # "改由新加坡节点提供服务"
        return any(before.endswith(w) for w in SERVING_FROM_CJK)
    words = TOKEN.findall(folded[max(0, place.start - 30) : place.start])
    while words and words[-1] in PLACE_MODIFIERS:
        words.pop()
    if len(words) > 1 and words[-2] in SERVED_PEOPLE and words[-1] != "depuis":
        # "users from China" come from there ("clients depuis Francfort" do not); but a
        # service's customers are served from cities: "serves international customers from
        # Jakarta, Bangkok and Frankfurt"
        return (
            words[-1] == "from"
            and (place.kind.startswith("city") or place.value in _CITY_STATES)
            and any(m.category == "serve" and 0 <= place.start - m.end <= 40 for m in sentence)
        )
    if len(words) > 1 and words[-2] == "out" and words[-1] == "of":
        return True  # "runs services out of Silicon Valley"
    return bool(words) and words[-1] in SERVING_FROM_LATIN


def spread_over_lists(
    fld: ReadText, places: list[Mention], located: dict[int, bool]
) -> dict[int, tuple[int, int]]:
    """Places of one list share their location: "扩建墨西哥、日本和迪拜的数据中心" and
    "Mexico, Japan and Dubai data centres" are all located when one of them is. Returns
    the span of each listed place's list, by the place's start."""
    spans: dict[int, tuple[int, int]] = {}
    if len(places) < 2:
        return spans  # no list
    group: list[Mention] = []
    ordered = sorted(places, key=lambda m: m.start)

    def close() -> None:
        if len(group) > 1:
            for m in group:
                spans[m.start] = (group[0].start, group[-1].end)
        if len(group) > 1 and any(located.get(m.start) for m in group):
            for m in group:
                located[m.start] = True

    for place in ordered:
        if _EPITHET.match(fld.folded, place.end):  # "..., the Shenzhen company said"
            close()
            group = []
            continue
        if group and not joined(fld.folded, group[-1], place):
            close()
            group = []
        if group and group[-1].start == place.start:
            continue  # one span, several readings
        group.append(place)
    close()
    return spans


def joined(folded: str, first: Mention, second: Mention) -> bool:
    """The two places are neighbours in one list ("Brazil, France and", "墨西哥、日本")."""
    between = folded[first.end : second.start]
    if not between:
        # written together, as Chinese does: "南非约翰内斯堡" is one list entry
        return first.end == second.start
    if not between.strip():
        return False
    if len(between) <= 3 and between.strip() in _LIST_JOIN_CJK:
        return True
    if _CJK_COUNTED_JOIN.fullmatch(between):
        return True  # "巴西与墨西哥两个拉美市场、法国和荷兰两个欧洲国家，以及泰国"
    words = TOKEN.findall(between)
    return bool(words) and all(w in LIST_JOINERS or w in PLACE_MODIFIERS for w in words)
