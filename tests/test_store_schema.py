"""The Alembic migrations produce exactly the models' schema, and init is idempotent."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, text

from monitor.cli import cli
from monitor.store.models import Base


def test_migrations_match_models(fresh_db: Engine) -> None:
    with fresh_db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_uses_wal(fresh_db: Engine) -> None:
    with fresh_db.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_init_loads_baseline_once(tmp_path: Path, db_url: str) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(
        "facts:\n"
        "  - {entity: alibaba, kind: region, value: MY, status: live}\n"
        "  - {entity: deepseek, kind: model, value: DeepSeek-R2, status: planned}\n"
    )
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", db_url, "init", "--baseline", str(baseline)])
    assert first.exit_code == 0, first.output
    assert "2 added" in first.output
    second = runner.invoke(cli, ["--db", db_url, "init", "--baseline", str(baseline)])
    assert second.exit_code == 0, second.output
    assert "0 added" in second.output


def test_init_rejects_bad_baseline_without_traceback(tmp_path: Path, db_url: str) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("facts:\n  - {entity: alibaba, kind: regio, value: MY}\n")
    result = CliRunner().invoke(cli, ["--db", db_url, "init", "--baseline", str(baseline)])
    assert result.exit_code == 2
    assert "unknown kind 'regio'" in result.output
    assert "Traceback" not in result.output


def test_command_on_uninitialised_db_is_clear(tmp_path: Path) -> None:
    from monitor.cli.main import AppContext
    from monitor.errors import StoreError

    app = AppContext("sources.yaml", f"sqlite:///{tmp_path / 'none.db'}")
    try:
        app.engine  # noqa: B018
    except StoreError as exc:
        assert "monitor init" in str(exc)
    else:
        raise AssertionError("expected StoreError")
