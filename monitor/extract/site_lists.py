"""Site lists: bulleted lines of places under a heading that names infrastructure.

Sector notes and explainers list sites rather than tell them ("Operational sites (year
opened):" then "- Huawei Cloud: Dublin (2020); Paris (2021)", or a company on a line of its
own, "阿里雲", then "- 南韓首爾：首座資料中心2024年啟用，已營運"). A sentence reader sees each
bullet alone, without its company or its heading; this module reads the list as a list:
each bullet's places belong to the company the bullet opens with, else to the company
heading the section (or named by the list's heading, or the item's first company when the
heading says "our"), and their status is the bullet's own, else the heading's ("Announced,
not yet open:"), else live (a list of sites is a list of what is there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.extract.cues import STATUS_CUES, status_of
from monitor.extract.location import closer_to_not_infra, owner_of_cjk
from monitor.extract.mentions import Mention
from monitor.extract.rules import Collector, ReadText, sentence_evidence
from monitor.types import Fact

_BULLET = re.compile(r"[ \t]*(?:[-•*·▪–]|\d{1,2}[.)])[ \t]+")
_COLON_AFTER = re.compile(r"\s*[:：]")
_OWNER_END = re.compile(r"\s*[:：.—–-]")  # "- Alibaba Cloud: ...", "- Huawei Cloud. ..."
# a heading that announces sites even without an infrastructure noun of the lexicon
_SITE_WORDS = re.compile(
    r"\bsites?\b|site map|footprint|locations|implantations|版图|布局|据点|节点|站点|地域|区域"
)
_OURS = re.compile(r"\b(?:our|its|notre|nos|son|sa|ses)\b|我们|我們|其")
_HEADING_NOISE = re.compile(r"[\s*_#:：（）()]+")


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    mentions: list[Mention]


@dataclass(frozen=True)
class SiteLists:
    """What the lists tell the sentence reader: the bullets read here (it leaves them
    alone: it would give them the item's first company), and the longer bullets it reads
    itself, with the company each is about ("- Huawei Cloud. Launched its Riyadh region
    ... Management told us ...")."""

    read: list[tuple[int, int]]
    owned: list[tuple[int, int, str]]

    def owner_at(self, start: int) -> str | None:
        return next((o for a, b, o in self.owned if a <= start < b), None)

    def was_read(self, start: int) -> bool:
        return any(a <= start < b for a, b in self.read)


_NO_LISTS = SiteLists([], [])
_BULLETED = re.compile(r"\n[ \t]*(?:[-•*·▪–]|\d{1,2}[.)])[ \t]")


def has_bullets(text: str) -> bool:
    """Whether any line of the text is a bullet (the lists are read only then)."""
    return _BULLETED.search(text) is not None


_SENTENCE_INSIDE = re.compile(r"[.。!?！？]\s+\S")


def read_site_lists(
    fld: ReadText, text_offset: int, lead: str | None, found: Collector
) -> SiteLists:
    """Record the region facts of the item's site lists (one-line bullets); return what
    the sentence reader needs to know of them. ``lead``: the item's first company, whose
    list a heading with "our" or "its" announces ("Our footprint today looks like this:")."""
    text = fld.text
    if "\n" not in text:
        return _NO_LISTS
    read: list[tuple[int, int]] = []
    owned: list[tuple[int, int, str]] = []
    heading_sites = False  # the last heading announces sites
    heading_status: str | None = None
    section: str | None = None  # the company heading the section
    for line in _lines(fld, text_offset):
        bullet = _BULLET.match(text, line.start)
        if bullet is None:
            company = _company_heading(fld, line)
            if company is not None:
                section = company
                continue
            if not text[line.start : line.end].strip():
                continue  # a blank line keeps the list going
            section = None
            heading_sites = text[line.start : line.end].rstrip().endswith((":", "：")) and (
                heading_sites  # the list goes on: "Announced, not yet open:"
                or any(m.category == "infra" for m in line.mentions)
                or _SITE_WORDS.search(fld.folded, line.start, line.end) is not None
            )
            heading_status = None
            if heading_sites:
                # the status of the heading's last sentence: "... would expand facilities
                # in markets where it already operates. Those include:"
                last = max(
                    text.rfind(". ", line.start, line.end), text.rfind("。", line.start, line.end)
                )
                heading_status = _heading_status([m for m in line.mentions if m.start > last])
                # "La carte des centres de données d'Alibaba Cloud :"
                named = {m.value for m in line.mentions if m.category == "company"}
                if len(named) == 1:
                    section = named.pop()
                elif not named and _OURS.search(fld.folded, line.start, line.end):
                    section = lead
            continue
        cues = [m for m in line.mentions if m.category in STATUS_CUES]
        if any(m.category in ("negation", "hypothetical") for m in line.mentions) and not any(
            c.category == "planned" for c in cues
        ):
            # "- Tencent Cloud: no data centre in Brazil", "• Cambodge : une équipe
            # commerciale à Phnom Penh, sans centre de données": the entry's place is none
            if any(m.category == "place" for m in line.mentions):
                read.append((line.start, line.end))
            continue
        owner, places_from = _bullet_owner(fld, line, bullet.end())
        owner = owner or section
        if owner is None:
            continue
        if _SENTENCE_INSIDE.search(text, places_from, line.end):
            owned.append((line.start, line.end, owner))  # a paragraph: read by sentence
            continue
        if not heading_sites and not any(m.category == "infra" for m in line.mentions):
            continue
        places = [
            m
            for m in line.mentions
            if m.category == "place"
            and m.start >= places_from
            and not closer_to_not_infra(m, line.mentions)
            and not owner_of_cjk(fld.folded, m.end)  # "由中國業者營運": a firm's country
        ]
        countries = {p.value for p in places if p.kind == "country"}
        if countries:  # "- 智利：聖地牙哥區域": Santiago de Chile, not San Diego
            places = [p for p in places if p.value in countries]
        if not places:
            continue
        read.append((line.start, line.end))
        evidence = sentence_evidence(text, text_offset, line.start, line.end)
        for place in places:
            if cues:
                status, strength = status_of(line.mentions, place.start, place.end)
            else:
                status, strength = heading_status or "live", 1
            found.record(Fact(owner, "region", place.value, status, evidence), strength)
    return SiteLists(read, owned) if read or owned else _NO_LISTS


def _lines(fld: ReadText, text_offset: int) -> list[_Line]:
    """The text's lines (the title is no list), with their mentions."""
    text = fld.text
    lines: list[_Line] = []
    start = text_offset
    mentions = fld.mentions
    at = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        while at < len(mentions) and mentions[at].start < start:
            at += 1
        first = at
        while at < len(mentions) and mentions[at].start < end:
            at += 1
        lines.append(_Line(start, end, [m for m in mentions[first:at] if m.end <= end]))
        start = end + 1
    return lines


def _company_heading(fld: ReadText, line: _Line) -> str | None:
    """A line that is a company's name ("阿里雲", "**Tencent Cloud**"), or opens with it and
    a colon ("騰訊雲：跟著遊戲與社群客戶走")."""
    companies = [m for m in line.mentions if m.category == "company"]
    if not companies:
        return None
    company = companies[0]
    if _HEADING_NOISE.sub("", fld.folded[line.start : company.start]):
        return None  # words before the company: a sentence
    if len(companies) == 1 and not _HEADING_NOISE.sub("", fld.folded[company.end : line.end]):
        return company.value
    return company.value if _COLON_AFTER.match(fld.folded, company.end) else None


def _bullet_owner(fld: ReadText, line: _Line, content: int) -> tuple[str | None, int]:
    """The company a bullet opens with ("- Alibaba Cloud: Frankfurt (2016)"), and where
    its places start."""
    for m in line.mentions:
        if m.category != "company":
            continue
        if m.start - content <= 2:
            colon = _OWNER_END.match(fld.folded, m.end)
            return m.value, colon.end() if colon else m.end
        break
    return None, content


def _heading_status(mentions: list[Mention]) -> str | None:
    """The status a heading gives its list: "Announced, not yet open:" is planned,
    "Operational sites:" live; none when it says nothing."""
    categories = {m.category for m in mentions}
    if categories & {"planned", "planned_weak", "negation"}:
        return "planned"
    if "live" in categories:
        return "live"
    return None
