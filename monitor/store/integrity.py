"""Checks of the database itself, for `monitor doctor` and the daemon's start-up."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MAX_PROBLEMS = 20  # quick_check stops after this many


def integrity_problems(engine: Engine) -> list[str]:
    """SQLite's ``PRAGMA quick_check`` (b-tree structure, records, NOT NULL and the like,
    in one pass; not the full ``integrity_check`` index-vs-table comparison): [] when the
    file is sound, else its problem lines. Other databases check their own pages: a query
    that answers is all that is asked of them here."""
    try:
        with engine.connect() as conn:
            if engine.url.get_backend_name() != "sqlite":
                conn.execute(text("SELECT 1"))
                return []
            rows = [str(r[0]) for r in conn.exec_driver_sql(f"PRAGMA quick_check({MAX_PROBLEMS})")]
    except DBAPIError as exc:  # "database disk image is malformed", "file is not a database"
        return [str(exc.orig).strip().split("\n", 1)[0]]
    if rows == ["ok"]:
        return []
    lines = [line.strip() for row in rows for line in row.splitlines()]
    return [line for line in lines if line and not line.startswith("*** in database")]
