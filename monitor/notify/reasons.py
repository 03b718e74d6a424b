"""Why a channel refused a message, from what Apprise logged while sending it.

Apprise returns False on a failed send and says why only in its log: a warning such as
``Connection error while submitting email to "smtp.example"`` and, at debug level, the
exception behind it (``Socket Exception: [Errno 111] Connection refused``, or smtplib's
``(553, b'5.1.8 Sender address rejected', ...)``). ``capture_reasons`` collects the
records of one send (a context variable, so parallel channel workers each see only their
own) and ``reason_of`` turns them into one short line for the outbox, ``monitor notify``
and ``monitor once``.

The debug text may hold the channel's URL (``Max retries exceeded with url: /hook/TOKEN``)
or a header: a reason keeps the errno or SMTP reply, or else the text with every URL,
``url: ...`` path and query removed, and is capped in length.

Apprise's logger is set to DEBUG once (in ``install``) so that those debug records exist
at all; it stops propagating, and this module's handler passes only its warnings and
errors on to the ``monitor.notify.apprise`` logger, so no debug line reaches a log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from monitor.safetext import safe_text

APPRISE_LOGGER = "apprise"
FORWARD_TO = "monitor.notify.apprise"
MAX_REASON_CHARS = 300

_sink: ContextVar[list[logging.LogRecord] | None] = ContextVar("monitor_apprise_sink", default=None)

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_SMTP_REPLY = re.compile(r"\((\d{3}), b?['\"](.+?)['\"]")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_URL_PATH = re.compile(r"\burl: \S+", re.IGNORECASE)
_OBJECT = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:? ?")


class _AppriseHandler(logging.Handler):
    """Records of the send in progress go to its sink; warnings and errors go on to a
    monitor logger (the daemon's logfmt output), debug records nowhere else."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _sink.get()
        if sink is not None:
            sink.append(record)
        if record.levelno >= logging.WARNING:
            logging.getLogger(FORWARD_TO).handle(record)


def install() -> None:
    """Route Apprise's log through ``_AppriseHandler`` (idempotent; called when Apprise is
    first loaded)."""
    logger = logging.getLogger(APPRISE_LOGGER)
    if any(isinstance(h, _AppriseHandler) for h in logger.handlers):
        return
    logger.addHandler(_AppriseHandler(logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


@contextmanager
def capture_reasons() -> Iterator[list[logging.LogRecord]]:
    """The Apprise log records emitted inside the block (in this context only)."""
    records: list[logging.LogRecord] = []
    token = _sink.set(records)
    try:
        yield records
    finally:
        _sink.reset(token)


def _scrub(text: str) -> str:
    text = _OBJECT.sub("", text)
    text = _URL.sub("<url>", text)
    text = _URL_PATH.sub("url: <path>", text)
    return " ".join(text.split())


def _detail(message: str) -> str | None:
    """The cause inside an exception's text: errno text, SMTP reply, or the scrubbed text."""
    errno = _ERRNO.findall(message)
    if errno:
        return errno[-1].strip().rstrip(".").lower()
    reply = _SMTP_REPLY.search(message)
    if reply:
        return f"SMTP {reply.group(1)} {reply.group(2).strip()}"
    return _scrub(message) or None


def reason_of(records: list[logging.LogRecord]) -> str | None:
    """One line: Apprise's last warning or error, with the exception's cause when it logged
    one (``Connection error while submitting email to "127.0.0.1": connection refused``)."""
    warning: str | None = None
    detail: str | None = None
    for record in records:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not hide the failure itself
            continue
        if record.levelno >= logging.WARNING:
            warning = _scrub(message)
        elif "exception" in message.lower() and ":" in message:
            detail = _detail(message.split(":", 1)[1])
    parts = [p.rstrip(".") for p in (warning, detail) if p]
    if not parts:
        return None
    reason = safe_text(": ".join(parts))  # a chat or mail server's reply: no escapes
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
