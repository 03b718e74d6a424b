"""Shared fixtures: the ../shared corpora (skipped when absent), a loopback HTTP server,
and a fresh initialised SQLite database file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.httpserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared"))
CORPORA = SHARED / "corpora"


@pytest.fixture(scope="session")
def corpora() -> Path:
    """../shared/corpora, read in place; tests needing it skip where a clone has none."""
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA} (only CI and developers have them)")
    return CORPORA


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def fresh_db(db_url: str) -> Iterator[Engine]:
    """An initialised (migrated) empty SQLite database file."""
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
