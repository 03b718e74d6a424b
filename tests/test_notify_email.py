"""E-mail alerts through Apprise's mailto:// to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor import tasks
from monitor.app import App
from monitor.store.db import session_factory
from tests.test_pipeline_support import (
    RuleExtractor,
    apprise_file,
    item,
    make_app,
    make_config,
    store,
)

T0 = datetime(2025, 3, 10, 12, 0)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_alert_has_escaped_html_and_a_text_part(
    fresh_db: Engine, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    url = (
        f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure"
        "&from=monitor@example.test&to=analyst@example.test"
    )
    config = make_config(tmp_path, apprise_file(f"  - {url}:\n      - tag: email\n"))
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item(
                "<script>alert(1)</script> Alibaba plans Mexico region",
                "Alibaba Cloud plans a <b>Querétaro</b> data centre & more.",
                url="https://a.test/x?a=1&b=2",
                published="2025-03-04T08:00:00",
                source="Wire <i>One</i>",
            )
        ],
    )
    app = make_app(fresh_db, config, RuleExtractor([(r"Querétaro", "alibaba", "region", "MX")]))
    tasks.process_pending(app, now=T0)
    assert tasks.deliver_due(app, now=T0).sent == 1
    (msg,) = inbox.messages
    assert msg["To"] == "analyst@example.test"
    assert "Alibaba Cloud: new region Mexico (MX)" in str(msg["Subject"])
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in msg.walk()
        if not p.is_multipart()
    }
    assert set(parts) >= {"text/plain", "text/html"}
    html = parts["text/html"]
    assert "&lt;b&gt;Querétaro&lt;/b&gt;" in html and "<b>Querétaro</b>" not in html
    assert "Wire &lt;i&gt;One&lt;/i&gt;" in html
    assert "<script>" not in html
    assert 'href="https://a.test/x?a=1&amp;b=2"' in html
    assert "Querétaro" in parts["text/plain"] and "Mexico (MX)" in parts["text/plain"]
    # the plain-text part (made by Apprise from the HTML) carries the article's link
    assert "https://a.test/x?a=1&b=2" in parts["text/plain"]


class RefusingInbox(Inbox):
    """An SMTP server that refuses the sender, as a relay does for a domain it does not
    serve."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "553 5.7.1 Sender address rejected: not owned by user"


def _one_change(tmp_path: Path, fresh_db: Engine, url: str) -> tuple[App, Any]:
    """An App with one e-mail channel at ``url``, and one change recorded for it."""
    config = make_config(tmp_path, apprise_file(f"  - {url}:\n      - tag: email\n"))
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [item("Alibaba plans Querétaro region", url="https://a.test/1", published="2025-03-04")],
    )
    app = make_app(fresh_db, config, RuleExtractor([(r"Querétaro", "alibaba", "region", "MX")]))
    tasks.process_pending(app, now=T0)
    return app, sessions


def _last_error(sessions: Any) -> str:
    from sqlalchemy import select

    from monitor.store.models import DeliveryRow

    with sessions() as session:
        return str(session.scalars(select(DeliveryRow.last_error)).one())


def test_a_refused_sender_says_why(fresh_db: Engine, tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from aiosmtpd.controller import Controller

    port = _free_port()
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        url = (
            f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure"
            "&from=monitor@example.test&to=analyst@example.test"
        )
        app, sessions = _one_change(tmp_path, fresh_db, url)
        report = tasks.deliver_due(app, now=T0)
    finally:
        controller.stop()
    assert report.sent == 0 and report.retrying == 1
    error = _last_error(sessions)
    assert error.startswith("not accepted by mailto://")
    assert "SMTP 553" in error and "Sender address rejected" in error
    assert report.refusals == [error]


def test_a_refused_connection_says_so(fresh_db: Engine, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    url = (
        f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure"
        "&from=monitor@example.test&to=analyst@example.test"
    )
    app, sessions = _one_change(tmp_path, fresh_db, url)
    assert tasks.deliver_due(app, now=T0).sent == 0
    error = _last_error(sessions)
    assert "Connection error while submitting email" in error
    assert error.endswith("connection refused")
