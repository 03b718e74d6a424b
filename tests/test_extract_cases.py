"""Table-driven extraction cases from tests/cases/extract_cases.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import case_item
from monitor.types import value_key

CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "extract_cases.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(default_watchlist())


def _parse(spec: str) -> tuple[tuple[str, str, str], str]:
    entity, kind, value, status = spec.split("/")
    return (entity, kind, value_key(value)), status


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(extractor: Extractor, case: dict[str, Any]) -> None:
    item = case_item(case)
    facts = extractor.extract(item)
    got = {f.key: f.status for f in facts}
    expected = dict(_parse(s) for s in case["expect"])
    assert got == expected
    for fact in facts:  # evidence points at the sentence in the right field
        assert fact.evidence is not None
        source = item.title if fact.evidence.field == "title" else item.text
        assert source[fact.evidence.start : fact.evidence.end] == fact.evidence.sentence
