"""Logging for the daemon and `monitor once -v`: one logfmt line per event on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO

from monitor.poll import SourceOutcome

log = logging.getLogger("monitor.daemon")


class LogfmtFormatter(logging.Formatter):
    """``2026-11-28T16:00:00Z INFO fetch source=x status=fetched new=3 ms=120``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = record.getMessage().replace("\n", " | ")
        line = f"{stamp} {record.levelname} {message}"
        if record.exc_info and record.levelno >= logging.ERROR:
            # One line per event: the exception's type and message, not a traceback. Only
            # the message's first line (SQLAlchemy appends the SQL and its parameters).
            exc = record.exc_info[1]
            line += f" exc={type(exc).__name__}"
            first = str(exc).strip().split("\n", 1)[0][:300] if exc is not None else ""
            if first:
                line += f" error={json.dumps(first, ensure_ascii=False)}"
        return line


def setup_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """One logfmt line per event on stderr for the ``monitor`` loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger("monitor")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    # APScheduler's own chatter ("Running job ...") is noise at INFO, and its warnings
    # (a poll skipped while the last one still runs) come once a poll: the daemon counts
    # those and says them once a minute. Its errors are logged in the same format.
    scheduler = logging.getLogger("apscheduler")
    scheduler.setLevel(logging.ERROR)
    for old in list(scheduler.handlers):
        scheduler.removeHandler(old)
    scheduler.addHandler(handler)
    scheduler.propagate = False


def log_outcome(outcome: SourceOutcome) -> None:
    ms = int(outcome.elapsed * 1000)
    if outcome.status == "failed":
        log.warning(
            "fetch source=%s status=failed ms=%d error=%s",
            outcome.name,
            ms,
            json.dumps(outcome.error or ""),
        )
    elif outcome.status == "skipped":
        log.debug("fetch source=%s status=skipped why=%s", outcome.name, json.dumps(outcome.error))
    else:
        log.info(
            "fetch source=%s status=%s new=%d ms=%d",
            outcome.name,
            outcome.status,
            outcome.new_items,
            ms,
        )
