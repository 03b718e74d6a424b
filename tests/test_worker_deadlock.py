"""Three `monitor once --all` at the same moment on one PostgreSQL database.

Before the fix one of them died with ``deadlock detected ... relation "facts"`` (each
walked every pending item, locking facts rows in each item's own order). Now one process
at a time runs the diff (a PostgreSQL advisory lock), fact rows are locked in key order
and a serialisation failure is retried.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from monitor.store.models import ChangeRow, FactRow, ItemRow, ObservationRow
from tests.httpserver import LocalServer
from tests.pgdb import pg_url, serve_newsroom, sources_yaml

__all__ = ["pg_url"]


def monitor(config: Path, db: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
    )


def test_three_once_all_at_once_neither_deadlock_nor_double(
    pg_url: str, tmp_path: Path, corpora: Path, http_server: LocalServer
) -> None:
    sources = serve_newsroom(http_server, corpora, per_feed=20, copies=3)
    config = tmp_path / "sources.yaml"
    config.write_text(sources_yaml(sources), encoding="utf-8")
    init = monitor(config, pg_url, "init")
    _out, err = init.communicate(timeout=60)
    assert init.returncode == 0, err
    runs = [monitor(config, pg_url, "once", "--all") for _ in range(3)]
    results = [(*p.communicate(timeout=300), p.returncode) for p in runs]
    for _out, err, code in results:
        assert "deadlock" not in err, err
        assert code == 0, err
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            items = conn.scalar(select(func.count()).select_from(ItemRow))
            pending = conn.scalar(
                select(func.count()).select_from(ItemRow).where(ItemRow.processed_at.is_(None))
            )
            facts = conn.execute(select(FactRow.entity, FactRow.kind, FactRow.value_key)).all()
            changes = conn.execute(select(ChangeRow.fact_id, ChangeRow.change)).all()
            observations = conn.scalar(select(func.count()).select_from(ObservationRow))
    finally:
        engine.dispose()
    assert items == 780 and pending == 0
    assert len(facts) == len(set(facts)) and changes and len(changes) == len(set(changes))
    assert observations and observations >= len(facts)
