"""Issue 9 item 4: nothing a server sends reaches the operator's terminal as a control
sequence. The CLI runs as a real process on a real pseudo-terminal, against a server
whose reason phrase, header and feed titles carry escape sequences and bidi overrides."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.safetext import mask_secrets, safe_text, safe_url, strip_controls
from tests.httpserver import LocalServer, Reply

ROOT = Path(__file__).resolve().parent.parent

# Escape sequences no legitimate output contains (the CLI's own colours and progress bar
# may use others): set the terminal's title, clear the screen, 8-bit CSI, and the
# right-to-left override that makes "fdp.exe" read "exe.pdf".
OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CSI8 = "\x9b2J"
RLO = "\u202e"
PAYLOADS = [OSC_TITLE.encode(), CLEAR.encode(), CSI8.encode("utf-8"), RLO.encode("utf-8")]


def evil_feed() -> bytes:
    title = f"Launch {RLO}fdp.exe{OSC_TITLE}{CLEAR} of Qwen3"
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c</title>'
        f"<item><title>{title}</title><link>http://example.com/a</link><guid>a</guid>"
        "<description>text</description></item></channel></rss>"
    ).encode()


def run_in_terminal(args: list[str], cwd: Path, timeout: float = 60) -> bytes:
    """What a real terminal receives from the command (stdout and stderr on one pty)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["TERM"] = "xterm-256color"
    env["COLUMNS"] = "250"  # rich tables: one row per line, names unbroken
    env["PYTHONPATH"] = str(ROOT)  # the tree under test, whatever is installed
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return b"".join(chunks)


def monitor_command() -> list[str]:
    return [sys.executable, "-m", "monitor"]


@pytest.fixture
def evil(http_server: LocalServer) -> LocalServer:
    reason = f"Oops{OSC_TITLE}{CLEAR}{CSI8}"
    http_server.route("/status", Reply(status=404, reason=reason, body=b"no"))
    http_server.route(
        "/feed", Reply(body=evil_feed(), headers={"Content-Type": "application/rss+xml"})
    )
    return http_server


def test_once_status_and_try_print_no_server_control_sequences(
    tmp_path: Path, evil: LocalServer, db_url: str, fresh_db: object
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "defaults:\n  retries: 0\nsources:\n"
        f"  - name: evil-status\n    kind: feed\n    url: {evil.url('/status')}\n"
        f"  - name: evil-title\n    kind: feed\n    url: {evil.url('/feed')}\n",
        encoding="utf-8",
    )
    base = [*monitor_command(), "--config", str(config), "--db", db_url]
    once = run_in_terminal([*base, "once", "-v"], tmp_path)
    status = run_in_terminal([*base, "status"], tmp_path)
    tried = run_in_terminal([*base, "try", "evil-title"], tmp_path)
    assert b"Oops" in once and b"evil-status" in status and b"fdp.exe" in tried, (
        once,
        status,
        tried,
    )
    for screen in (once, status, tried):
        for payload in PAYLOADS:
            assert payload not in screen, (payload, screen)


def test_alerts_drop_bidi_overrides_and_controls() -> None:
    from datetime import datetime

    from monitor.extract.watchlist import default_watchlist
    from monitor.notify.render import Renderer
    from monitor.store.queries import ChangeView, EvidenceView
    from monitor.views import change_context

    when = datetime(2026, 11, 28, 12, 0)
    evidence = EvidenceView(
        url="http://example.com/a",
        title=f"Launch {RLO}fdp.exe{OSC_TITLE}",
        source="Wire",
        sentence=f"Qwen3 {RLO}ships{CLEAR} today.",
        published=when,
        lang="en",
        status="live",
    )
    view = ChangeView(
        1,
        1,
        "alibaba",
        "model",
        "Qwen3",
        "live",
        "new",
        when,
        when,
        None,
        None,
        [evidence],  # type: ignore[arg-type]
    )
    for fmt in ("text", "markdown", "html"):
        message = Renderer(None).render("change", fmt, change_context(view, default_watchlist()))
        for part in (message.title, message.body):
            assert RLO not in part and "\x1b" not in part, (fmt, part)
        assert "ships" in message.body


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("https://u:pw@example.com/x", "https://***@example.com/x"),
        ("https://example.com/f?api_key=K&q=ai", "https://example.com/f?api_key=***&q=ai"),
        (
            "https://example.com/f?apiKey=K&access_token=T",
            "https://example.com/f?apiKey=***&access_token=***",
        ),
        (
            "https://example.com/f?X-Amz-Signature=S&sig=Z",
            "https://example.com/f?X-Amz-Signature=***&sig=***",
        ),
        (
            "https://example.com/f?author=Qwen&sort=new",
            "https://example.com/f?author=Qwen&sort=new",
        ),
        ("https://example.com/f?password=&token=x", "https://example.com/f?password=&token=***"),
    ],
)
def test_safe_url_masks_passwords_and_credential_parameters(raw: str, shown: str) -> None:
    assert safe_url(raw) == shown


def test_secrets_in_free_text_and_controls_in_one_line() -> None:
    text = "failed: GET https://bob:pw@h.example/x?token=abc&page=2 (auth=zzz)\x1b[31m\nmore"
    assert mask_secrets(text) == (
        "failed: GET https://***@h.example/x?token=***&page=2 (auth=zzz)\x1b[31m\nmore"
    )
    assert (
        safe_text(text)
        == "failed: GET https://***@h.example/x?token=***&page=2 (auth=zzz)[31m more"
    )
    assert strip_controls(f"a{RLO}b\u2066c\u2069d\te") == "abcd\te"


def test_the_web_desk_shows_source_urls_masked(fresh_db: object) -> None:
    import requests
    from sqlalchemy import Engine

    from monitor.store.db import session_factory, transaction
    from monitor.store.sources import sync_sources
    from tests.web_support import serving

    assert isinstance(fresh_db, Engine)
    with transaction(session_factory(fresh_db)) as session:
        sync_sources(
            session,
            [("keyed", "feed", "https://bob:pw-s3cret@api.example/feed?api_key=k-s3cret&q=ai")],
        )
    with serving(fresh_db) as desk:
        page = requests.get(f"{desk}/sources", timeout=10).text
    assert "keyed" in page and "s3cret" not in page
    assert "api_key=***" in page


def test_a_channels_refusal_reason_and_an_items_link_carry_no_escapes() -> None:
    import logging

    from monitor.notify.reasons import reason_of
    from monitor.sources.base import make_item
    from monitor.sources.feed import FeedSource

    warning = logging.LogRecord(
        "apprise", logging.WARNING, "", 0, f"Failed to send: {CLEAR}Bad{RLO} gateway", (), None
    )
    reason = reason_of([warning])
    assert reason is not None and "\x1b" not in reason and RLO not in reason
    source = FeedSource(name="f", kind="feed", url="http://example.com/feed")
    item = make_item(source, title="t", url=f"http://example.com/a{CLEAR}", guid=f"g{OSC_TITLE}")
    assert "\x1b" not in (item.url or "") + (item.guid or "")
