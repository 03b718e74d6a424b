"""A quiet first day (issue 8, item 1): a source's first pass and old items alert nobody.

End to end through `monitor once`: feeds served by a real HTTP server on 127.0.0.1, the
real extractor, and alerts to a real json:// endpoint through Apprise on the same server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from monitor.cli import cli
from tests.httpserver import LocalServer, Reply

RSS = {"Content-Type": "application/rss+xml"}
NOW = datetime.now(UTC)


def rss(*entries: tuple[str, str, datetime]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>https://news.test/{slug}</link>"
        f"<guid>https://news.test/{slug}</guid><pubDate>{format_datetime(when)}</pubDate></item>"
        for slug, title, when in entries
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.test/</link>{items}</channel></rss>"
    ).encode()


def write_config(tmp_path: Path, server: LocalServer, sources: list[str], alerts: str = "") -> Path:
    hook = server.url("/hook").replace("http://", "json://")
    (tmp_path / "apprise.yml").write_text(f"version: 1\nurls:\n  - {hook}\n", encoding="utf-8")
    listed = "".join(
        f"  - {{name: {name}, kind: feed, url: '{server.url('/' + name)}'}}\n" for name in sources
    )
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sources:\n{listed}alerts:\n  apprise_config: apprise.yml\n{alerts}", encoding="utf-8"
    )
    return path


def once(config: Path, db_url: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "once", "--all"])
    assert result.exit_code == 0, result.output
    return result.stdout


def changes(config: Path, db_url: str) -> list[dict]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", db_url, "changes", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def alerted(server: LocalServer) -> list[str]:
    return [json.loads(hit.body)["title"] for hit in server.hits("/hook")]


def test_first_pass_alerts_nobody_then_a_new_fact_alerts_once_and_old_news_never(
    tmp_path: Path, http_server: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    http_server.route("/hook", Reply(status=200))
    yesterday = NOW - timedelta(days=1)
    first = [("mx", "Alibaba Cloud opens a data center in Mexico", yesterday)]
    http_server.route("/wire", Reply(body=rss(*first), headers=RSS))
    config = write_config(tmp_path, http_server, ["wire"])

    out = once(config, db_url)
    assert "changes: 1 (1 new, 0 live) from 1 item processed; 1 backfill (no alerts)" in out
    assert "alerts: 0 queued" in out
    assert alerted(http_server) == []
    (mexico,) = changes(config, db_url)
    assert mexico["value"] == "MX" and mexico["backfill"] is True

    later = [
        ("sa", "Alibaba Cloud launches a new region in Saudi Arabia", NOW - timedelta(hours=2)),
        ("cl", "Huawei Cloud opens a new region in Chile", NOW - timedelta(days=30)),  # old
        *first,
    ]
    http_server.route("/wire", Reply(body=rss(*later), headers=RSS))
    out = once(config, db_url)
    assert "alerts: 1 queued, 1 sent" in out
    assert alerted(http_server) == ["Alibaba Cloud: new region Saudi Arabia (SA)"]
    by_value = {c["value"]: c for c in changes(config, db_url)}
    assert {v: c["backfill"] for v, c in by_value.items()} == {"MX": True, "SA": False, "CL": True}

    once(config, db_url)  # nothing new: still that one alert
    assert len(alerted(http_server)) == 1


def test_a_source_added_later_is_quiet_on_its_first_pass_only(
    tmp_path: Path, http_server: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    http_server.route("/hook", Reply(status=200))
    recent = NOW - timedelta(hours=3)
    http_server.route(
        "/a",
        Reply(body=rss(("mx", "Alibaba Cloud opens a data center in Mexico", recent)), headers=RSS),
    )
    once(write_config(tmp_path, http_server, ["a"]), db_url)
    http_server.route(
        "/b",
        Reply(body=rss(("cl", "Huawei Cloud opens a new region in Chile", recent)), headers=RSS),
    )
    config = write_config(tmp_path, http_server, ["a", "b"])
    once(config, db_url)  # b's first pass
    assert alerted(http_server) == []
    http_server.route(
        "/b",
        Reply(
            body=rss(
                ("r2", "DeepSeek releases DeepSeek-R2 model", NOW - timedelta(minutes=5)),
                ("cl", "Huawei Cloud opens a new region in Chile", recent),
            ),
            headers=RSS,
        ),
    )
    once(config, db_url)
    assert alerted(http_server) == ["DeepSeek: new model DeepSeek-R2"]


def test_the_quiet_first_day_can_be_turned_off(
    tmp_path: Path, http_server: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    http_server.route("/hook", Reply(status=200))
    old = NOW - timedelta(days=400)
    http_server.route(
        "/wire",
        Reply(body=rss(("mx", "Alibaba Cloud opens a data center in Mexico", old)), headers=RSS),
    )
    config = write_config(
        tmp_path, http_server, ["wire"], "  quiet_first_pass: false\n  max_age: none\n"
    )
    once(config, db_url)
    assert alerted(http_server) == ["Alibaba Cloud: new region Mexico (MX)"]
    assert [c["backfill"] for c in changes(config, db_url)] == [False]
