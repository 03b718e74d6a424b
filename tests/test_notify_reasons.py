"""A channel that refuses a message says why: Apprise's reason, with no token in it."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.notify.reasons import reason_of
from tests.httpserver import LocalServer, Reply
from tests.test_pipeline_support import apprise_file


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("apprise", level, __file__, 1, message, None, None)


def test_reason_keeps_the_cause_and_drops_urls() -> None:
    records = [
        _record(logging.DEBUG, "JSON Payload: {'title': 'x'}"),
        _record(logging.WARNING, "A Connection error occurred sending JSON notification to h."),
        _record(
            logging.DEBUG,
            "Socket Exception: HTTPConnectionPool(host='h', port=9): Max retries exceeded "
            "with url: /hook/S3CRET (Caused by NewConnectionError('<urllib3.connection."
            "HTTPConnection object at 0x7f00>: Failed to establish a new connection: "
            "[Errno 111] Connection refused'))",
        ),
    ]
    assert reason_of(records) == (
        "A Connection error occurred sending JSON notification to h: connection refused"
    )
    timeout = [
        _record(logging.WARNING, "Failed"),
        _record(logging.DEBUG, "Socket Exception: read timed out for https://h/x?token=S3CRET"),
    ]
    reason = reason_of(timeout)
    assert reason is not None and "S3CRET" not in reason and "read timed out" in reason
    assert reason_of([]) is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_notify_test_says_why_a_channel_refused(
    tmp_path: Path, http_server: LocalServer, db_url: str
) -> None:
    http_server.route("/hook/T0KEN99", Reply(status=500))
    broken = http_server.url("/hook/T0KEN99").replace("http://", "json://")
    closed = f"json://127.0.0.1:{_free_port()}/hook/T0KEN77"
    (tmp_path / "apprise.yml").write_text(
        apprise_file(f"  - {broken}:\n      - tag: a\n", f"  - {closed}:\n      - tag: b\n")
    )
    (tmp_path / "sources.yaml").write_text("sources: []\nalerts:\n  apprise_config: apprise.yml\n")
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "sources.yaml"), "--db", db_url, "notify", "--test"]
    )
    assert result.exit_code == 1
    assert "T0KEN" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("NOT accepted: json://127.0.0.1") and "500" in lines[0]
    assert lines[1].startswith("NOT accepted: json://127.0.0.1")
    assert lines[1].endswith("connection refused)")
