"""The parts of the store's set-up that need no SQLAlchemy: the default URL, the schema
revisions this code knows, the clock's form.

Importing SQLAlchemy and opening an engine costs about a quarter of a second of CPU;
`monitor status` on a SQLite file does without both (``monitor.store.status``), and still
needs these to find the file and check its schema. ``monitor.store.db`` re-exports them.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///storage/monitor.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def utcnow() -> datetime:
    """Naive UTC now, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


# `revision = "0002_x"` and `down_revision = "0001"` (or None, or a tuple for a merge), with
# or without a type annotation, at the start of a line of a migration script.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def known_revisions(versions: Path = MIGRATIONS_DIR / "versions") -> tuple[set[str], set[str]]:
    """(every revision this code knows, the head revisions), read from the migration
    scripts' text: checking a database's revision on every command must not import Alembic
    (a third of a second), which only `monitor init` needs. tests/test_store_schema.py
    checks the answer against Alembic's own."""
    known: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        known.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else down or ())
    return known, known - parents
