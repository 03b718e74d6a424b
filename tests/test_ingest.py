"""`monitor ingest`: replay JSONL through the fetched-items path; alert scoring on the corpora."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner
from sqlalchemy import text

from monitor.cli import cli
from monitor.store.db import make_engine
from tests.httpserver import LocalServer, Reply

ROOT = Path(__file__).resolve().parent.parent


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_alerts", ROOT / "bench" / "bench_alerts.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_alerts"] = module
    spec.loader.exec_module(module)
    return module


def _line(id_: str, published: str, title: str, text: str, source: str, story: str) -> str:
    return json.dumps(
        {
            "id": id_,
            "lang": "en",
            "source": source,
            "url": f"https://{source.lower().replace(' ', '')}.test/{id_}",
            "published": published,
            "title": title,
            "text": text,
            "story": story,
            "facts": [],
        }
    )


def _setup(tmp_path: Path, db_url: str, channel_url: str | None) -> tuple[CliRunner, list[str]]:
    (tmp_path / "baseline.yaml").write_text(
        "facts:\n  - {entity: deepseek, kind: model, value: DeepSeek-R2, status: planned}\n"
        "  - {entity: alibaba, kind: region, value: MY, status: live}\n",
        encoding="utf-8",
    )
    apprise = tmp_path / "apprise.yml"
    if channel_url:
        apprise.write_text(
            "version: 1\nurls:\n"
            f"  - {channel_url.replace('http://', 'json://')}:\n      - tag: chat\n",
            encoding="utf-8",
        )
    (tmp_path / "sources.yaml").write_text(
        f"sources: []\nalerts:\n  apprise_config: {apprise.name}\n  max_age: none\n",
        encoding="utf-8",
    )
    args = ["--config", str(tmp_path / "sources.yaml"), "--db", db_url]
    runner = CliRunner()
    result = runner.invoke(cli, [*args, "init", "--baseline", str(tmp_path / "baseline.yaml")])
    assert result.exit_code == 0, result.output
    return runner, args


def test_ingest_replays_in_published_order_and_alerts_once(
    tmp_path: Path, db_url: str, http_server: LocalServer, monkeypatch
) -> None:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    http_server.route("/hook", Reply(status=200))
    runner, args = _setup(tmp_path, db_url, http_server.url("/hook"))
    corpus = tmp_path / "items.jsonl"
    lines = [
        # written out of order on purpose: the replay sorts by `published`
        _line(
            "i3",
            "2025-05-02T09:00:00Z",
            "DeepSeek releases DeepSeek-R2",
            "DeepSeek released its DeepSeek-R2 reasoning model on Friday; it is available now.",
            "Tech Daily",
            "s2",
        ),
        _line(
            "i1",
            "2025-03-04T08:00:00Z",
            "Alibaba Cloud to open a data centre in Mexico",
            "Alibaba Cloud will open a data centre in Querétaro, Mexico, its first there.",
            "Wire One",
            "s1",
        ),
        _line(
            "i2",
            "2025-03-04T11:00:00Z",
            "Alibaba plans Mexico cloud region",
            "Alibaba Cloud plans to open a data centre in Mexico, the company said.",
            "Wire Two",
            "s1",
        ),
        "{not json",
    ]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(cli, [*args, "ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "items: 3 read, 3 new, 0 duplicate" in result.output
    assert "changes: 1 new, 1 live" in result.output
    assert "alerts: 2 sent" in result.output
    bodies = [h.body.decode() for h in http_server.hits("/hook")]
    assert len(bodies) == 2
    assert "Alibaba Cloud: new region Mexico (MX)" in bodies[0]
    assert "DeepSeek: model DeepSeek-R2 now live" in bodies[1]

    again = runner.invoke(cli, [*args, "ingest", str(corpus)])
    assert "items: 3 read, 0 new, 3 duplicate" in again.output
    assert "changes: 0 new, 0 live" in again.output
    assert len(http_server.hits("/hook")) == 2

    log = json.loads(runner.invoke(cli, [*args, "changes", "--format", "json"]).output)
    assert [(c["entity"], c["value"], c["change"]) for c in log] == [
        ("deepseek", "DeepSeek-R2", "live"),
        ("alibaba", "MX", "new"),
    ]
    mexico = log[1]
    assert mexico["sources"] == 2
    assert [e["source"] for e in mexico["evidence"]] == ["Wire One", "Wire Two"]
    assert mexico["evidence"][0]["published"] == "2025-03-04T08:00:00Z"
    assert "Mexico" in mexico["evidence"][0]["sentence"]
    assert set(mexico) >= {
        "id",
        "entity",
        "kind",
        "value",
        "status",
        "change",
        "at",
        "sources",
        "evidence",
    }


def test_ingest_missing_file_is_one_line(tmp_path: Path, db_url: str) -> None:
    runner, args = _setup(tmp_path, db_url, None)
    result = runner.invoke(cli, [*args, "ingest", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "no such file" in result.output and "Traceback" not in result.output


def test_ingest_and_init_on_a_binary_file_are_one_line(tmp_path: Path, db_url: str) -> None:
    runner, args = _setup(tmp_path, db_url, None)
    binary = tmp_path / "dump.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xd8\x00\xff" * 50)
    for command in (["ingest", "--no-send", str(binary)], ["init", "--baseline", str(binary)]):
        result = runner.invoke(cli, [*args, *command])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.output.strip() == f"{binary}: not UTF-8 text (invalid start byte)"


def test_expected_alerts_follow_facts_md_scoring(tmp_path: Path) -> None:
    bench = _bench()
    baseline = tmp_path / "b.yaml"
    baseline.write_text(
        "facts:\n  - {entity: d, kind: model, value: R2, status: planned}\n", encoding="utf-8"
    )
    items = [
        {
            "id": "a",
            "published": "1",
            "facts": [{"entity": "x", "kind": "region", "value": "MX", "status": "planned"}],
        },
        {
            "id": "b",
            "published": "2",
            "facts": [
                {"entity": "x", "kind": "region", "value": "mx", "status": "planned"},
                {"entity": "d", "kind": "model", "value": "R 2", "status": "live"},
            ],
        },
        {
            "id": "c",
            "published": "3",
            "facts": [
                {"entity": "x", "kind": "region", "value": "MX", "status": "live"},
                {"entity": "d", "kind": "model", "value": "R2", "status": "live"},
            ],
        },
    ]
    assert bench.expected_alerts(items, baseline) == {
        (("x", "region", "mx"), "new"): "a",
        (("d", "model", "r2"), "live"): "b",
        (("x", "region", "mx"), "live"): "c",
    }


def test_alert_scoring_on_dev_corpora(corpora: Path) -> None:
    score = _bench().run(corpora)
    assert score.duplicates == 0
    assert score.precision >= 0.90, score.false_positives
    assert score.recall >= 0.85, score.missed
    assert score.attached_items > 0  # syndicated rewrites attach instead of alerting again


def test_ingest_no_alerts_records_the_log_quietly(
    tmp_path: Path, db_url: str, http_server: LocalServer, monkeypatch
) -> None:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    http_server.route("/hook", Reply(status=200))
    runner, args = _setup(tmp_path, db_url, http_server.url("/hook"))
    corpus = tmp_path / "old.jsonl"
    corpus.write_text(
        _line(
            "o1",
            "2024-01-04T08:00:00Z",
            "Alibaba Cloud opens data centre in Mexico",
            "Alibaba Cloud opened a data centre in Mexico.",
            "Wire",
            "s",
        )
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, [*args, "ingest", "--no-alerts", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "changes: 1 new, 0 live (1 items processed, 0 alerts queued, 1 backfill)" in (
        result.output
    )
    assert http_server.hits("/hook") == []
    log = json.loads(runner.invoke(cli, [*args, "changes", "--format", "json"]).output)
    assert [(c["value"], c["backfill"]) for c in log] == [("MX", True)]


def test_ingest_drops_control_characters(tmp_path: Path, db_url: str) -> None:
    runner, args = _setup(tmp_path, db_url, None)
    path = tmp_path / "items.jsonl"
    line = {"id": "e1", "title": "Hostile\u001b]0;pwned\u0007 title", "text": "a\u001b[2Jb"}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = runner.invoke(cli, [*args, "ingest", "--no-send", str(path)])
    assert result.exit_code == 0, result.output
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title, text FROM items")).all() == [
                ("Hostile]0;pwned title", "a[2Jb")
            ]
    finally:
        engine.dispose()


def test_ingest_keeps_an_item_whose_lang_is_no_language_tag(tmp_path: Path, db_url: str) -> None:
    # SQLite kept a 35-character `lang` in the 16-character column; PostgreSQL refused it and
    # with it the whole ingest. The item is kept on both, without the language.
    runner, args = _setup(tmp_path, db_url, None)
    path = tmp_path / "items.jsonl"
    line = {
        "id": "l1",
        "title": "Alibaba Cloud opens a region in Mexico",
        "lang": "English (United States of America)",
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = runner.invoke(cli, [*args, "ingest", "--no-send", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title, lang FROM items")).all() == [
                ("Alibaba Cloud opens a region in Mexico", None)
            ]
    finally:
        engine.dispose()
