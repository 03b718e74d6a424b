"""`monitor/store/__init__.py` promises that nothing outside the store writes SQL: enforce it.

Outside ``monitor/store/`` and ``monitor/migrations/``, no module may import SQLAlchemy's
statement builders or call a database session's statement methods. A session is a name
ending in ``session`` in a module that imports SQLAlchemy or ``monitor.store`` (so that
``requests.Session.get`` in ``monitor/fetch.py``, an HTTP GET, is not taken for one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"
ALLOWED = ("store", "migrations")
BUILDERS = frozenset({"select", "update", "delete", "insert", "text", "func", "bindparam"})
SESSION_METHODS = frozenset(
    {"execute", "scalars", "scalar", "add", "add_all", "delete", "get", "merge", "query"}
)


def _is_database_module(name: str) -> bool:
    return name.split(".")[0] == "sqlalchemy" or name.startswith("monitor.store")


def _talks_to_database(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_database_module(node.module or ""):
            return True
        if isinstance(node, ast.Import) and any(_is_database_module(a.name) for a in node.names):
            return True
    return False


def sql_outside_store(source: str) -> list[str]:
    """What in ``source`` builds or runs SQL: one description per offence, with its line."""
    tree = ast.parse(source)
    found: list[str] = []
    database = _talks_to_database(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            for alias in node.names:
                if alias.name in BUILDERS:
                    found.append(f"line {node.lineno}: imports {node.module}.{alias.name}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("sqlalchemy", "sa")
            and node.attr in BUILDERS
        ):
            found.append(f"line {node.lineno}: uses sqlalchemy.{node.attr}")
        elif (
            database
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_METHODS
        ):
            receiver = node.func.value
            name = (
                receiver.id
                if isinstance(receiver, ast.Name)
                else receiver.attr
                if isinstance(receiver, ast.Attribute)
                else ""
            )
            if name.lower().endswith("session"):
                found.append(f"line {node.lineno}: calls {name}.{node.func.attr}()")
    return found


def _modules() -> list[Path]:
    return sorted(
        path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in ALLOWED
    )


def test_the_scan_sees_each_kind_of_offence() -> None:
    """The scanner itself: each way of writing SQL is caught, a requests session is not."""
    offending = (
        "from sqlalchemy import select, update\n"
        "import sqlalchemy\n"
        "from sqlalchemy.orm import Session\n"
        "def f(session: Session):\n"
        "    session.execute(sqlalchemy.text('x'))\n"
        "    session.add(object())\n"
        "    self.session.delete(1)\n"
        "    session.get(int, 1)\n"
    )
    found = sql_outside_store(offending)
    assert len(found) == 7, found
    http = "import requests\nsession = requests.Session()\nsession.get('http://x')\n"
    assert sql_outside_store(http) == []
    # Types and errors are fine: what a session is, not what it runs.
    harmless = "from sqlalchemy.orm import Session, sessionmaker\nsessionmaker().begin()\n"
    assert sql_outside_store(harmless) == []


def test_the_scan_covers_the_modules_that_once_held_sql() -> None:
    names = {str(p.relative_to(PACKAGE)) for p in _modules()}
    assert {"daemon.py", "tasks.py", "poll.py", "notify/sender.py"} <= names
    assert not any(n.startswith("store/") for n in names)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sql_outside_store(path: Path) -> None:
    found = sql_outside_store(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(PACKAGE)}: move these into monitor/store/: {found}"
