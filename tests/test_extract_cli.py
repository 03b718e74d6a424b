"""`monitor extract`, the corpus reader, and extraction from several threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.extract import Extractor, default_watchlist, detect_lang
from monitor.extract.corpus import read_items_jsonl
from monitor.types import Item


def _run(tmp_path: Path, stdin: str, *args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "absent.yaml"), "extract", *args], input=stdin
    )
    out = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, out, result.stderr


def test_extract_one_line_per_item_in_order_with_evidence(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "title": "Alibaba Cloud opens a data centre in Mexico"},
        {"id": "b", "title": "Weather", "text": "Rain is expected in Paris."},
        {"id": "c", "title": "", "text": "Intro. DeepSeek released DeepSeek-V3.1 today."},
    ]
    code, out, _err = _run(tmp_path, "\n".join(json.dumps(x) for x in lines) + "\n", "-")
    assert code == 0
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert out[0]["facts"] == [
        {
            "entity": "alibaba",
            "kind": "region",
            "value": "MX",
            "status": "live",
            "evidence": {
                "sentence": "Alibaba Cloud opens a data centre in Mexico",
                "start": 0,
                "end": 43,
                "field": "title",
            },
        }
    ]
    assert out[1]["facts"] == []
    evidence = out[2]["facts"][0]["evidence"]  # type: ignore[index]
    assert evidence["field"] == "text"
    assert lines[2]["text"][evidence["start"] : evidence["end"]] == evidence["sentence"]
    assert evidence["sentence"] == "DeepSeek released DeepSeek-V3.1 today."


def test_extract_bad_lines_give_error_and_empty_result(tmp_path: Path) -> None:
    stdin = '{"id": "ok", "title": "NVIDIA ships GB300"}\nnot json\n{"id": 7, "title": 3}\n'
    code, out, err = _run(tmp_path, stdin, "-")
    assert code == 0
    assert out[0]["id"] == "ok" and out[0]["facts"]
    assert out[1] == {"id": None, "facts": []}
    assert out[2] == {"id": 7, "facts": []}
    assert "<stdin>:2: invalid JSON" in err
    assert "<stdin>:3: 'title' and 'text' must be strings" in err


def test_extract_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "f", "title": "華為雲在泰國上線雲服務"}\n', encoding="utf-8")
    code, out, _err = _run(tmp_path, "", str(path))
    assert code == 0
    assert out[0]["facts"][0]["value"] == "TH"  # type: ignore[index]


def test_corpus_reader_builds_items(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "x-1",
                "lang": "fr",
                "source": "Wire",
                "url": "https://example.test/a",
                "published": "2025-03-04T09:00:00+01:00",
                "title": "T",
                "text": "X",
                "story": "s-1",
                "facts": [
                    {"entity": "openai", "kind": "model", "value": "GPT-5", "status": "planned"}
                ],
            }
        )
        + "\n\n"
        + '{"id": "x-2", "title": "T", "published": "yesterday"}\n'
        + '{"id": "x-3", "title": "T", "facts": [{"entity": "a", "kind": "city", "value": "v"}]}\n',
        encoding="utf-8",
    )
    errors: list[str] = []
    records = list(read_items_jsonl(path, errors.append))
    assert len(records) == 1
    item, gold, story = records[0]
    assert item.published == datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    assert (item.lang, item.source, item.url) == ("fr", "Wire", "https://example.test/a")
    assert item.extra == {"id": "x-1", "story": "s-1"}
    assert story == "s-1"
    assert gold is not None and gold[0].key == ("openai", "model", "gpt5")
    assert errors == [
        f"{path}:3: 'published' is not an ISO 8601 date-time: 'yesterday'",
        f"{path}:4: facts[0].kind is 'city'; allowed: region, chip, model",
    ]


def test_detect_lang() -> None:
    assert detect_lang(Item(title="x", lang="zh-Hant")) == "zh-Hant"
    assert detect_lang(Item(title="腾讯云发布新模型")) == "zh"
    assert detect_lang(Item(title="Le groupe ouvre un centre de données dans la ville")) == "fr"
    assert detect_lang(Item(title="The company opens a data centre in the city")) == "en"


def test_extract_is_thread_safe_and_deterministic() -> None:
    extractor = Extractor(default_watchlist())
    items = [
        Item(title="Tencent Cloud opens a data centre in Indonesia"),
        Item(title="阿里云墨西哥地域正式上线"),
        Item(title="OpenAI releases GPT-5", text="It beats Claude Opus 4.1 on coding."),
        Item(title="Huawei plans Ascend 950PR for 2026"),
    ] * 50
    expected = [extractor.extract(item) for item in items]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(extractor.extract, items))
    assert got == expected
