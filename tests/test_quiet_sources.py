"""Issue 9 item 11: a source that answers but has stopped publishing (a mirror whose scraper
broke, a dormant repository) raises one health alert and shows in `monitor status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, update

from monitor.cli import cli
from monitor.store.models import SourceRow
from tests.httpserver import LocalServer, Reply, Request

RSS = {"Content-Type": "application/rss+xml"}


def feed(days_old: int, slug: str) -> bytes:
    when = datetime.now(UTC) - timedelta(days=days_old)
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>'
        f"<item><title>Story {slug}</title><link>http://example.com/{slug}</link>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item></channel></rss>"
    ).encode()


def test_a_quiet_source_alerts_once_and_shows_in_status(
    tmp_path: Path, http_server: LocalServer, db_url: str, fresh_db: Engine
) -> None:
    alerts: list[dict[str, str]] = []

    def hook(req: Request) -> Reply:
        alerts.append(json.loads(req.body))
        return Reply(status=200)

    http_server.route("/hook", hook)
    http_server.route("/stale", Reply(body=feed(20, "stale"), headers=RSS))
    http_server.route("/fresh", Reply(body=feed(1, "fresh"), headers=RSS))
    http_server.route("/patient", Reply(body=feed(20, "patient"), headers=RSS))
    http_server.route("/never", Reply(body=feed(400, "never"), headers=RSS))
    (tmp_path / "apprise.yml").write_text(
        f"version: 1\nurls:\n  - {http_server.url('/hook').replace('http://', 'json://')}\n",
        encoding="utf-8",
    )
    config = tmp_path / "sources.yaml"
    config.write_text(
        "defaults:\n  retries: 0\nsources:\n"
        f"  - name: stale-mirror\n    kind: feed\n    url: {http_server.url('/stale')}\n"
        f"  - name: fresh\n    kind: feed\n    url: {http_server.url('/fresh')}\n"
        f"  - name: patient\n    kind: feed\n    url: {http_server.url('/patient')}\n"
        "    quiet_after: 30d\n"
        f"  - name: dormant-ok\n    kind: feed\n    url: {http_server.url('/never')}\n"
        "    quiet_after: none\n"
        "alerts:\n  apprise_config: apprise.yml\n  max_age: none\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["--config", str(config), "--db", db_url]
    result = runner.invoke(cli, [*base, "once", "--all"])
    assert result.exit_code == 0, result.output
    # Just added, with old items only: a backfill, not a source that went quiet on us.
    assert not [a for a in alerts if "quiet" in a.get("title", "")]
    with fresh_db.begin() as connection:  # ... as if watched for a month already
        connection.execute(
            update(SourceRow).values(
                created_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=31)
            )
        )
    for _ in range(2):  # the second pass must not repeat the alert
        result = runner.invoke(cli, [*base, "once", "--all"])
        assert result.exit_code == 0, result.output
    quiet = [a for a in alerts if "quiet" in a.get("title", "")]
    assert [a["title"] for a in quiet] == ["monitor: source stale-mirror has gone quiet"]
    assert "14d" in quiet[0]["message"]

    status = runner.invoke(cli, [*base, "status", "--json"])
    assert status.exit_code == 0, status.output
    listed = json.loads(status.output)["quiet"]
    assert [q["name"] for q in listed] == ["stale-mirror"] and listed[0]["quiet_after"] == "14d"
    plain = runner.invoke(cli, [*base, "status"]).output
    assert "Quiet sources" in plain and "stale-mirror" in plain.split("Quiet sources", 1)[1]
