"""Counting the SQL statements an engine runs (to show a lookup is batched, not N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements_on(engine: Engine, verb: str = "") -> Iterator[list[str]]:
    """The statements the engine runs inside the block (only those starting with
    ``verb``, e.g. "SELECT", when given)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(verb.upper()):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
