"""Run the monitor CLI with the database refusing writes while a flag file exists.

Fault injection at the SQL layer, for what a test cannot make a real file do without
root (``chattr +i`` for read-only, a full disk): while ``$MONITOR_TEST_FAULT_FLAG`` names an
existing file, every INSERT, UPDATE or DELETE raises the driver's own error, with the
file's text as its message (default: SQLite's read-only message). Everything else is the
real daemon on the real database::

    python -m tests.faultydb --config sources.yaml --db sqlite:///x.db run
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = {"INSERT", "UPDATE", "DELETE", "REPLACE"}


def install(flag: Path) -> Any:
    """Refuse writes while ``flag`` exists; returns the listener (for ``event.remove``)."""

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any) -> None:
        words = statement.lstrip().split(None, 1)
        if words and words[0].upper() in WRITES and flag.exists():
            message = flag.read_text(encoding="utf-8").strip()
            raise sqlite3.OperationalError(message or "attempt to write a readonly database")

    event.listen(Engine, "before_cursor_execute", refuse)
    return refuse


if __name__ == "__main__":
    install(Path(os.environ["MONITOR_TEST_FAULT_FLAG"]))
    from monitor.cli import cli

    cli(prog_name="monitor")
