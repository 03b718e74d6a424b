"""What a cue reaches in a region sentence: statements split by semicolons (their own
status and owners), the reach of a denial (a second statement, a new subject, a headline's
gap, an absence that is news), and a site's own relative clause."""

from __future__ import annotations

import re

from monitor.extract.cues import STATUS_CUES, relative_clause_cues
from monitor.extract.mentions import Mention
from monitor.extract.rules import ANAPHORA, ReadText
from monitor.extract.textfold import has_cjk

# "trois pays où elle ne disposait jusqu'ici d'aucune infrastructure", "where it had no
# data centre until now", "此前在当地并无数据中心": the absence is the news, not a denial
_UNTIL_NOW = re.compile(
    r"until now|so far|to date|previously|until then|hitherto|until this year|"
    r"jusqu'ici|jusqu'à présent|jusqu'alors|auparavant|jusque-là|"
    r"此前|迄今|至今|之前|过去|以往"
)
_HAVING = frozenset([
    "has no", "have no", "aucun", "aucune", "n'a aucun", "n'a pas de", "没有", "并无", "尚无",
    "暂无",
])  # fmt: skip


def absent_until_now(folded: str, negation: Mention, s_end: int) -> bool:
    """A negation of having, with "until now" near it: the place is new to the company."""
    if negation.value not in _HAVING:
        return False
    window = folded[max(0, negation.start - 30) : min(s_end, negation.end + 30)]
    return _UNTIL_NOW.search(window) is not None


def other_statement(folded: str, places: list[Mention], place: Mention, negation: Mention) -> bool:
    """A semicolon before the negation starts a statement about its own place: "serves them
    from Singapore; nothing is hosted in Indonesia" (but "un site canadien ; OpenAI n'a pas
    l'intention d'en annoncer un" is about the same site)."""
    if negation.start < place.end:
        return False
    semicolon = folded.rfind(";", place.end, negation.start)
    return semicolon >= 0 and any(p.start > semicolon for p in places)


def _statement_span(folded: str, lo: int, hi: int, place: Mention) -> tuple[int, int]:
    """The span between the semicolons around the place (the sentence's, if none)."""
    start = max(folded.rfind(";", lo, place.start), folded.rfind("；", lo, place.start)) + 1
    ends = [folded.find(mark, place.end, hi) for mark in (";", "；")]
    return max(start, lo), min((e for e in ends if e >= 0), default=hi)


def statement_cues(
    folded: str, s_start: int, s_end: int, sentence: list[Mention], place: Mention
) -> list[Mention]:
    """The mentions between the semicolons around the place, where they hold a status cue:
    "在埃及开罗...新增三个可用区，即日起对外提供服务；同时计划年内在沙特..." (the plan after the
    semicolon is about Saudi Arabia, not Egypt)."""
    start, end = _statement_span(folded, s_start, s_end, place)
    if start <= s_start and end >= s_end:
        return sentence
    own = [m for m in sentence if start <= m.start and m.end <= end]
    return own if any(m.category in STATUS_CUES for m in own) else sentence


def statement_owners(
    folded: str,
    s_start: int,
    s_end: int,
    sentence: list[Mention],
    place: Mention,
    owners: list[str],
) -> list[str]:
    """The owners named in the place's own statement; else those named in a statement
    before it, never only after it ("Stargate lands in Abu Dhabi; Doha adds GPUs; Riyadh
    waits on Tencent": Tencent is Riyadh's story)."""
    start, end = _statement_span(folded, s_start, s_end, place)
    if start <= s_start and end >= s_end:
        return owners
    where: dict[str, list[int]] = {}
    for m in sentence:
        if m.category in ("company", "product") and m.value in owners:
            where.setdefault(m.value, []).append(m.start)
    own = [o for o in owners if any(start <= at < end for at in where.get(o, []))]
    if own:
        return own
    before = [o for o in owners if any(at < start for at in where.get(o, []))]
    if before or ANAPHORA.search(folded, start, end) is None:
        return before
    return owners  # "when the company opened a data centre in Dubai; that facility, now run
    # by Alibaba Cloud, ...": a pronoun names the owner of a later statement


def site_said_live(
    fld: ReadText, clauses: list[tuple[int, int]], clause: list[Mention], place: Mention
) -> bool:
    """A relative clause right after the site tells it runs: "will complement its Dubai
    data centre, which has been operating since 2016", "son centre de Dubaï, qui fonctionne
    depuis 2016" (the clause's own status is about the site, not the sentence's plan)."""
    site_end = next(
        (m.end for m in clause if m.category == "infra" and 0 <= m.start - place.end <= 2),
        None,
    )  # "Dubai data centre", "Johannesburg region": the site named by the place
    if site_end is None:
        return False
    relative = relative_clause_cues(fld, clauses, site_end)
    if relative:  # up to its own end: "..., which has operated since 2019, during next year"
        stop = fld.folded.find(",", relative[0].start)
        relative = [m for m in relative if stop < 0 or m.end <= stop]
    return any(m.category == "live" for m in relative) and not any(
        m.category in ("planned", "company", "negation") for m in relative
    )


_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])")


# a joint to a clause with its own subject: ", and the Kuala Lumpur region will be built"
_NEW_SUBJECT = re.compile(
    r",\s+(?:and|but|while|whereas|mais|tandis que|alors que)\s+"
    r"(?:the|its|le|la|les|l'|l’|son|sa)\s"
)


def new_subject_between(folded: str, a: Mention, b: Mention) -> bool:
    """A clause with its own subject starts between the two: a negation in one clause
    ("the government withdrew support for a Huawei-based project") is not the other's."""
    start, end = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return end > start and _NEW_SUBJECT.search(folded, start, end) is not None


# a second reported statement: "said it had no immediate plans to build in the country
# and that Kenyan customers would continue to be served from Johannesburg"
_REPORTED_JOINT = re.compile(r"\b(?:and|but) that\b|\b(?:et|mais) qu(?:e\b|')")


def reported_joint_between(folded: str, a: Mention, b: Mention) -> bool:
    """A second reported statement ("and that", "et que") starts between the two."""
    start, end = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return end > start and _REPORTED_JOINT.search(folded, start, end) is not None


def headline_gap(folded: str, cue: Mention, place: Mention) -> bool:
    """A space between Chinese characters lies between the cue and the place."""
    if not has_cjk(cue.value):
        return False
    a, b = (cue.end, place.start) if cue.end <= place.start else (place.end, cue.start)
    return _CJK_SPACE.search(folded, a, b) is not None
