"""The Alembic migrations produce exactly the models' schema, and init is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.sqlite_only("WAL is SQLite's journal mode")
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


def test_init_rejects_baseline_values_the_columns_cannot_hold(tmp_path: Path, db_url: str) -> None:
    # SQLite stored a 250-character value in the 200-character column; PostgreSQL refused it
    # as a database error. Both now reject the file with its line.
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(
        "facts:\n"
        f"  - {{entity: alibaba, kind: model, value: Qwen-{'x' * 250}}}\n"
        f"  - {{entity: {'y' * 101}, kind: model, value: Qwen3}}\n"
    )
    result = CliRunner().invoke(cli, ["--db", db_url, "init", "--baseline", str(baseline)])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        f"{baseline}: fact #1: value longer than 200 characters",
        f"{baseline}: fact #2: entity longer than 100 characters",
    ]


def test_command_on_uninitialised_db_is_clear(empty_db_url: str) -> None:
    from monitor.app import App
    from monitor.errors import StoreError

    with App("sources.yaml", empty_db_url) as app:
        try:
            app.engine  # noqa: B018
        except StoreError as exc:
            assert "monitor init" in str(exc)
        else:
            raise AssertionError("expected StoreError")


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


@pytest.mark.sqlite_only("a file that is not a database")
def test_file_that_is_no_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 10)
    for command in (["status"], ["init"], ["changes"]):
        code, output = _run(["--db", f"sqlite:///{path}", *command])
        assert code == 3, output
        assert "file is not a database" in output
        assert len(output.strip().splitlines()) == 1, output


def test_schema_revision_other_than_head_is_reported(fresh_db: Engine, db_url: str) -> None:
    with fresh_db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999future'"))
    code, output = _run(["--db", db_url, "status"])
    assert code == 3, output
    assert "schema revision 9999future, unknown to this version" in output
    code, output = _run(["--db", db_url, "init"])
    assert code == 3, output
    assert "cannot upgrade database" in output and "9999future" in output
    with fresh_db.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    code, output = _run(["--db", db_url, "changes"])
    assert code == 3, output
    assert "older schema" in output and "monitor init" in output


@pytest.mark.sqlite_only("the folder of a database file")
def test_database_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "storage").write_text("a file where the folder should be")
    code, output = _run(["--db", f"sqlite:///{tmp_path / 'storage' / 'monitor.db'}", "init"])
    assert code == 3, output
    assert output.strip() == (
        f"error: cannot create the database folder {tmp_path / 'storage'}: a file is in the way"
    )


@pytest.mark.sqlite_only("a read-only SQLite URI (mode=ro)")
def test_a_write_the_database_refuses_is_one_line(fresh_db: Engine, tmp_path: Path) -> None:
    read_only = f"sqlite:///file:{fresh_db.url.database}?mode=ro&uri=true"
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    code, output = _run(
        ["--config", str(tmp_path / "sources.yaml"), "--db", read_only, "notify", "--retry-failed"]
    )
    assert code == 3, output
    assert output.strip() == "error: database: attempt to write a readonly database"


def test_revisions_read_without_alembic_match_alembic() -> None:
    """The schema check reads the migration scripts' revision ids as text: it must find what
    Alembic finds (every revision, and the one head)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from monitor.store.db import MIGRATIONS_DIR, known_revisions

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert known_revisions() == (
        {r.revision for r in script.walk_revisions()},
        set(script.get_heads()),
    )


def test_revisions_read_from_typed_and_merge_scripts(tmp_path: Path) -> None:
    """Alembic's own template writes typed assignments; a merge has a tuple down_revision."""
    from monitor.store.db import known_revisions

    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text("revision: str = 'b'\ndown_revision: str | None = 'a'\n")
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    (tmp_path / "d.py").write_text(
        'revision: str = "d"\ndown_revision: tuple[str, ...] | None = ("b", "c")\n'
    )
    (tmp_path / "e.py").write_text('revision = "e"\ndown_revision = "d"\n  revision = "x"\n')
    assert known_revisions(tmp_path) == ({"a", "b", "c", "d", "e"}, {"e"})
    (tmp_path / "f.py").write_text('revision = "f"\ndown_revision = "d"\n')
    assert known_revisions(tmp_path)[1] == {"e", "f"}  # two heads: the check refuses both
