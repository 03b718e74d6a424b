"""`monitor eval` and the scoring functions against hand-computed numbers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import read_items_jsonl
from monitor.extract.evaluate import evaluate
from monitor.types import Fact, Item

SMALL = Path(__file__).parent / "cases" / "extract_eval_small.jsonl"


def test_eval_small_file_hand_computed(tmp_path: Path) -> None:
    # Hand count over extract_eval_small.jsonl:
    #  t-1: gold tencent/region/ID; predicted the same -> tp 1.
    #  t-2: gold Qwen3, DeepSeek-R1, alibaba/region/SG (no such statement) -> tp 2, fn 1.
    #  t-3: gold Ascend 910C live; the text says it will ship next year (planned)
    #       -> tp 1 with a wrong status.
    #  t-4: gold empty; H20 is named -> fp 1 (nvidia/chip/H20).
    # tp 4, fp 1, fn 1: P = 4/5, R = 4/5, F1 = 0.8; status 3 right of 4 = 0.75.
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "eval", str(SMALL), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    overall = data["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (4, 1, 1)
    assert overall["precision"] == pytest.approx(0.8)
    assert overall["recall"] == pytest.approx(0.8)
    assert overall["f1"] == pytest.approx(0.8)
    assert overall["status_accuracy"] == pytest.approx(0.75)
    # by language: en has tp 3 fn 1; fr tp 1 (wrong status); zh fp 1
    assert data["by_lang"]["en"]["tp"] == 3 and data["by_lang"]["en"]["fn"] == 1
    assert data["by_lang"]["fr"]["status_accuracy"] == 0.0
    assert data["by_lang"]["zh"]["fp"] == 1 and data["by_lang"]["zh"]["precision"] == 0.0
    # by kind: region tp 1 fn 1 -> recall 0.5; chip tp 1 fp 1 -> precision 0.5
    assert data["by_kind"]["region"]["recall"] == pytest.approx(0.5)
    assert data["by_kind"]["chip"]["precision"] == pytest.approx(0.5)
    assert data["by_kind"]["model"]["f1"] == pytest.approx(1.0)


def test_eval_errors_lists_false_positives_and_misses(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "eval", str(SMALL), "--errors", "10"]
    )
    assert result.exit_code == 0, result.output
    assert "t-2  miss: alibaba/region/SG" in result.output
    assert "t-4  false positive: nvidia/chip/H20" in result.output
    assert "\n  英伟达表示将恢复向中国客户销售H20芯片。\n" in result.output  # its evidence
    assert "t-3  wrong status: huawei/chip/Ascend 910C planned (gold live)" in result.output


def test_eval_reports_bad_lines_and_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    bad.write_text(
        "\n".join([lines[0], "{not json", '{"id": "x", "title": "t", "facts": "no"}', lines[1]]),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "eval", str(bad), "--json"]
    )
    assert result.exit_code == 0
    assert f"{bad}:2: invalid JSON" in result.stderr
    assert f"{bad}:3: 'facts' must be a list" in result.stderr
    assert json.loads(result.stdout)["items"] == 2


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(default_watchlist())


@pytest.mark.parametrize("subset", ["all", "even", "odd"])
def test_dev_corpora_meet_targets(corpora: Path, subset: str, extractor: Extractor) -> None:
    """FACTS.md targets on the shared dev corpora (and on each half, as a held-out check)."""
    items = [
        (item, gold)
        for name in ("dev-en.jsonl", "dev-multi.jsonl")
        for item, gold, _story in read_items_jsonl(corpora / name)
    ]
    if subset == "even":
        items = items[0::2]
    elif subset == "odd":
        items = items[1::2]
    report = evaluate(items, extractor.extract)
    assert report.overall.precision >= 0.95
    assert report.overall.recall >= 0.90
    assert report.overall.status_accuracy >= 0.90
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= 0.85, lang


def _item(item_id: str, published: str | None) -> Item:
    return Item(
        title=item_id,
        text="",
        published=datetime.fromisoformat(published) if published else None,
        extra={"id": item_id},
    )


def test_first_report_status_is_scored_on_each_facts_earliest_item() -> None:
    gpt5_planned = Fact("openai", "model", "GPT-5", "planned")
    gpt5_live = Fact("openai", "model", "GPT-5", "live")
    region = Fact("alibaba", "region", "MX", "planned")
    # File order is not publication order: "late" comes first in the file.
    late = _item("late", "2025-08-07T00:00:00+00:00")
    early = _item("early", "2025-07-24T00:00:00+00:00")
    undated = _item("undated", None)
    labelled: list[tuple[Item, list[Fact] | None]] = [
        (late, [gpt5_live]),
        (early, [gpt5_planned, region]),
        (undated, [region]),
    ]
    # The extractor reads every GPT-5 as live: right on "late", wrong on the first report.
    predicted = {"late": [gpt5_live], "early": [gpt5_live, region], "undated": [region]}
    report = evaluate(labelled, lambda item: predicted[item.extra["id"]])
    assert report.overall.status_accuracy == pytest.approx(3 / 4)
    # first reports: GPT-5 on "early" (wrong), MX on "early" (right); "undated" is later
    assert (report.first_reports, report.first_status_right) == (2, 1)
    assert report.first_report_status_accuracy == pytest.approx(0.5)


def test_errors_are_grouped_by_kind_language_and_cause() -> None:
    it1 = Item(title="a", text="", lang="en", extra={"id": "1"})
    it2 = Item(title="b", text="", lang="zh", extra={"id": "2"})
    gold1 = [Fact("huawei", "region", "SA", "live"), Fact("huawei", "region", "EG", "live")]
    gold2 = [Fact("openai", "model", "GPT-5", "planned"), Fact("tencent", "region", "JP", "live")]
    predicted = {
        "1": [Fact("huawei", "region", "SA", "live")],  # EG: missed value (huawei found)
        "2": [Fact("openai", "model", "GPT-5", "live"), Fact("openai", "model", "o2", "live")],
    }  # tencent not found at all: missed entity; o2: false positive; GPT-5: read live
    report = evaluate([(it1, gold1), (it2, gold2)], lambda item: predicted[item.extra["id"]])
    assert dict(report.error_classes()) == {
        ("region", "en", "missed value"): 1,
        ("region", "zh", "missed entity"): 1,
        ("model", "zh", "false positive"): 1,
        ("model", "zh", "read live (gold planned)"): 1,
    }


def test_eval_errors_prints_error_classes_and_first_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "eval", str(SMALL), "--errors", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "status on first reports: 0.750 (3 of 4 matched first reports)" in result.output
    assert "errors by class (kind, language, cause):" in result.output
    assert "    1  region  en       missed value" in result.output  # t-2: SG, alibaba found
    assert "    1  chip    fr       read planned (gold live)" in result.output
    data = json.loads(
        CliRunner()
        .invoke(
            cli,
            ["--config", str(tmp_path / "n.yaml"), "eval", str(SMALL), "--json", "--errors", "2"],
        )
        .stdout
    )
    assert data["first_report_status"] == {"matched": 4, "status_right": 3, "status_accuracy": 0.75}
    assert {"kind": "chip", "lang": "zh", "cause": "false positive", "count": 1} in data[
        "error_classes"
    ]
