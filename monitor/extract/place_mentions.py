"""Which place mentions are places: names inside longer names ("Bell Bay", "塔什干州"),
ambiguous towns confirmed or dropped, and a country said again ("the kingdom", "le
royaume"). Pure functions over mentions, run before any sentence is read."""

from __future__ import annotations

import re

from monitor.extract.mentions import Mention


def drop_name_parts(
    text: str, mentions: list[Mention], places: list[Mention], body_start: int = 0
) -> list[Mention]:
    """Drop place names that are part of something longer: a town overlapping an earlier
    place ("干州" across "塔什干州", "港区" across "香港区域"), and a Latin town inside a
    proper name, written right before another capitalised word that starts no mention
    ("Bell Bay", "Mobile World Congress"; not an acronym, "Riyadh AI campus", and not in a
    headline from ``body_start`` on, whose words are all capitalised) or right after a
    country ("China Mobile"); and two places joined by a hyphen ("UAE-US AI Campus")."""
    drop: set[Mention] = set()
    kept_end = -1
    by_end = {m.end: m for m in places}
    for m in places:  # two countries' compound names neither: "UAE-US AI Campus", "US-China"
        other = by_end.get(m.start - 1)
        if other is not None and text[m.start - 1] in "-–/":
            drop.update((m, other))
    for m in sorted(places, key=lambda m: (m.start, -m.end)):
        if m.start < kept_end < m.end:
            drop.add(m)
            continue
        kept_end = max(kept_end, m.end)
        if not m.kind.startswith("city") or not ("A" <= text[m.start] <= "Z"):
            continue
        end = m.end
        if (
            m.start >= body_start
            and text[end : end + 1] == " "
            and "A" <= text[end + 1 : end + 2] <= "Z"
            and "a" <= text[end + 2 : end + 3] <= "z"  # "Bay", not "AI"
            and not _starts_mention(mentions, end + 1)
        ):
            drop.add(m)
            continue
        before = by_end.get(m.start - 1)
        if before is not None and before.kind in ("country", "short") and text[m.start - 1] == " ":
            drop.add(m)
    if not drop:
        return mentions
    return [m for m in mentions if m not in drop]


def _starts_mention(mentions: list[Mention], start: int) -> bool:
    return any(m.start == start for m in mentions)


def resolve_ambiguous_places(
    mentions: list[Mention], places: list[Mention], text: str
) -> list[Mention]:
    """A city name of several countries is the one whose country the item names elsewhere;
    with no such country, a town's most populous reading ("city", not "city-alt") stands.
    A city written right after a country ("智利聖地牙哥", Santiago) is not a namesake in
    another country (San Diego)."""
    countries_ending = {m.end: m.value for m in places if m.kind == "country"}
    if len({(m.start, m.end) for m in places}) == len(places) and not any(
        m.start in countries_ending for m in places
    ):
        return mentions  # the usual case: nothing ambiguous, no city after a country
    by_span: dict[tuple[int, int], set[str]] = {}
    # a city written right after its country ("智利聖地牙哥") is in that country
    mentions = [
        m
        for m in mentions
        if m.category != "place"
        or not m.kind.startswith("city")
        or countries_ending.get(m.start, m.value) == m.value
    ]
    for m in mentions:
        if m.category == "place":
            by_span.setdefault((m.start, m.end), set()).add(m.value)
    if all(len(values) == 1 for values in by_span.values()):
        return mentions
    # a reading is confirmed by its country named near it, not anywhere in the item
    sure_at = [
        (m.start, m.value)
        for m in mentions
        if m.category == "place" and len(by_span[(m.start, m.end)]) == 1
    ]
    result = []
    for m in mentions:
        values = by_span.get((m.start, m.end)) if m.category == "place" else None
        if values and len(values) > 1:
            sure = {v for at, v in sure_at if _confirms(text, at, m.start)}
            if values & sure and m.value not in sure:
                continue  # another reading's country is named nearby
            if not values & sure and m.kind == "city-alt":
                continue  # no reading confirmed: the most populous town stands
        result.append(m)
    return result


_SENTENCE_END = re.compile(r"[.!?]\s|[。！？\n]")


def _confirms(text: str, at: int, start: int) -> bool:
    """A country named at ``at`` confirms a reading of the town at ``start``: in its
    sentence or the one before ("... Stargate UK ... The first site is near Newcastle"),
    not after it ("... depuis Sydney. Au Canada, rien n'est prévu")."""
    if at > start:
        return _SENTENCE_END.search(text, start, at) is None
    return len(_SENTENCE_END.findall(text, at, start)) <= 1


# A country said again without its name: "dans le royaume", "the Kingdom's first AI
# campus" (French "y", there, was tried: it points at too many things). The item is
# searched for these substrings first: four finds are cheaper than a regex over the item.
PLACE_ANAPHOR_WORDS = ("kingdom", "royaume", "mirat", "sultanat")  # "mirat": emirate, émirat
_PLACE_ANAPHOR = re.compile(
    r"\b(?:the kingdom|the emirate|the sultanate|le royaume|l['’]émirat|le sultanat)(?![\w-])"
)


def place_anaphors(folded: str, mentions: list[Mention]) -> list[Mention]:
    """Places for the anaphors of a country (kind "anaphor"): each stands for the country
    named most often before it, the nearest of those on a tie ("La société saoudienne
    Humain ... à Riyad ... un premier campus dans le royaume" is Saudi Arabia, whatever
    "le groupe de Shenzhen" said before)."""
    found: list[Mention] = []
    hits = [i for i in (folded.find(w) for w in PLACE_ANAPHOR_WORDS) if i >= 0]
    if not hits:
        return found  # most items: four substring searches, no regex
    first = min(hits)
    places = [m for m in mentions if m.category == "place"]
    for match in _PLACE_ANAPHOR.finditer(folded, max(0, first - 8)):  # "the e|mirat"
        counts: dict[str, tuple[int, int]] = {}
        for p in places:
            if p.end <= match.start():
                count, _last = counts.get(p.value, (0, 0))
                counts[p.value] = (count + 1, p.end)
        if counts:
            value = max(counts, key=lambda v: counts[v])
            found.append(Mention("place", value, match.start(), match.end(), "anaphor"))
    return found
