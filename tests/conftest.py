"""Shared fixtures: the ../shared corpora (skipped when absent), a loopback HTTP server,
and a fresh database per test on SQLite or PostgreSQL.

The database is SQLite (a file in the test's tmp_path) unless ``MONITOR_TEST_PG_URL`` names a
PostgreSQL server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` (the database
in the URL is only used to create and drop others). As Procrastinate's tests do, the schema is
migrated once per session into a template database and each test gets a copy of it
(``CREATE DATABASE x TEMPLATE tpl``), dropped afterwards. Names carry the worktree's name and
the process id so several suites can share one server.

Markers: ``db`` is added to every test that uses a database (the PostgreSQL pass of
``make test`` runs only those); ``sqlite_only`` marks tests about SQLite itself (WAL, URI
options, the lock file next to the file), skipped on PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tests.httpserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared"))
CORPORA = SHARED / "corpora"

PG_URL_ENV = "MONITOR_TEST_PG_URL"
# monitor_test_<worktree>_<pid>[_<xdist worker>]: unique per running suite, and a left-over
# database says whose it was.
PG_WORKTREE_PREFIX = "monitor_test_" + re.sub(r"[^a-z0-9]+", "_", ROOT.name.lower())[:20]
PG_PREFIX = f"{PG_WORKTREE_PREFIX}_{os.getpid()}" + (
    "_" + re.sub(r"[^a-z0-9]+", "_", os.environ["PYTEST_XDIST_WORKER"].lower())
    if "PYTEST_XDIST_WORKER" in os.environ
    else ""
)


DB_FIXTURES = {"db_url", "module_db_url", "empty_db_url"}


def pg_server_url() -> URL | None:
    """The PostgreSQL server URL the suite runs on, or None for SQLite."""
    raw = os.environ.get(PG_URL_ENV, "").strip()
    return make_url(raw) if raw else None


def url_string(url: URL) -> str:
    """A URL as the CLI's --db takes it (str(url) would mask a password as ***)."""
    return url.render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: the test uses a database (added automatically)")
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test is about SQLite itself; skipped on PostgreSQL"
    )


PG_UNREACHABLE = pytest.StashKey[str]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """No server: under CI=true a failure; elsewhere one line, not a skip line per test."""
    server = pg_server_url()
    if server is None:
        return
    try:
        with _admin_engine(server).connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError) as exc:
        why = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = server.render_as_string(hide_password=True)
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(f"PostgreSQL at {where} is unreachable under CI=true: {why}", 1)
        session.config.stash[PG_UNREACHABLE] = (
            f"PostgreSQL pass skipped: {where} is unreachable ({why}); "
            "the database tests were deselected"
        )


def pytest_report_header(config: pytest.Config) -> str:
    server = pg_server_url()
    if server is None:
        return "database: SQLite"
    return f"database: PostgreSQL at {server.render_as_string(hide_password=True)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_pg = pg_server_url() is not None
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & DB_FIXTURES or item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.db)
        marker = item.get_closest_marker("sqlite_only")
        if on_pg and marker is not None:
            reason = marker.args[0] if marker.args else "about SQLite itself"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
    if PG_UNREACHABLE in config.stash:
        unreachable = [item for item in items if item.get_closest_marker("db")]
        config.hook.pytest_deselected(items=unreachable)
        items[:] = [item for item in items if not item.get_closest_marker("db")]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if PG_UNREACHABLE in config.stash:
        terminalreporter.write_line(config.stash[PG_UNREACHABLE])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `pytest -m db` with no server selects nothing: that is the skip above, not exit 5.
    if PG_UNREACHABLE in session.config.stash and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK


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


def _admin_engine(server: URL) -> Engine:
    """Autocommit engine on the server's maintenance database: CREATE/DROP DATABASE."""
    return create_engine(
        server,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )


class PgDatabases:
    """Creates and drops this session's databases on one PostgreSQL server."""

    def __init__(self, server: URL):
        self.server = server
        self.admin = _admin_engine(server)
        self.numbers = itertools.count(1)
        # A create takes a loaded server about a second (it writes the copy to the WAL), a drop
        # more (it waits for a checkpoint): the next copy is made, and the last ones dropped,
        # while a test runs. Drops run side by side so that one checkpoint serves several.
        self.maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="make-test-db")
        self.next_copy: dict[str, Future[URL]] = {}
        self.dropper = ThreadPoolExecutor(max_workers=4, thread_name_prefix="drop-test-db")
        self.drops: list[Future[None]] = []

    def create(self, template: str | None = None) -> URL:
        name = f"{PG_PREFIX}_{next(self.numbers)}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}{clause}"))
            # Timestamps are stored naive UTC. An aware datetime reaching a naive column is
            # converted in the session's time zone: with one far from UTC, such a slip fails
            # a test instead of passing on a UTC-configured server.
            conn.execute(text(f"ALTER DATABASE {name} SET timezone TO 'Asia/Shanghai'"))
        return self.server.set(database=name)

    def copy(self, template: str) -> URL:
        """A new copy of ``template``, and the next one started in the background."""
        ready = self.next_copy.pop(template, None)
        url = ready.result() if ready is not None else self.create(template)
        self.next_copy[template] = self.maker.submit(self.create, template)
        return url

    def drop_template(self, url: URL) -> None:
        """Drop a template and the copy of it made ahead that no test took."""
        assert url.database is not None
        ready = self.next_copy.pop(url.database, None)
        if ready is not None:
            self.drop(ready.result())
        self.drop(url)

    def drop(self, url: URL) -> None:
        # FORCE: a daemon subprocess a test killed may leave its backend behind a moment.
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"))

    def drop_later(self, url: URL) -> None:
        self.drops.append(self.dropper.submit(self.drop, url))

    def close(self) -> None:
        self.maker.shutdown(wait=True)
        self.dropper.shutdown(wait=True)
        try:
            for dropped in self.drops:
                dropped.result()  # a failed drop is reported, not lost
        finally:
            self.admin.dispose()

    def drop_leftovers(self) -> None:
        """Drop databases a crashed earlier run of this worktree's suite left behind."""
        prefix = PG_WORKTREE_PREFIX + "_"
        with self.admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": prefix},
            ).scalars()
            for name in list(names):
                pid = name[len(prefix) :].split("_", 1)[0]
                if pid.isdigit() and not _alive(int(pid)):
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    server = pg_server_url()
    if server is None:
        yield None
        return
    databases = PgDatabases(server)
    databases.drop_leftovers()
    try:
        yield databases
    finally:
        databases.close()


def _migrate(url: URL) -> None:
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(url_string(url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # a template must have no open connection when it is copied


@pytest.fixture(scope="session")
def db_template(
    pg_databases: PgDatabases | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[URL]:
    """A migrated database, made once per session, that each test's database copies."""
    if pg_databases is None:
        url = make_url(f"sqlite:///{tmp_path_factory.mktemp('template') / 'monitor.db'}")
        _migrate(url)
        yield url
        return
    url = pg_databases.create()
    _migrate(url)
    try:
        yield url
    finally:
        pg_databases.drop_template(url)


@contextmanager
def _template_copy(template: URL, pg_databases: PgDatabases | None, folder: Path) -> Iterator[str]:
    """A new database copied from the migrated template: ``folder/monitor.db`` on SQLite."""
    if pg_databases is None:
        assert template.database is not None
        path = folder / "monitor.db"
        shutil.copyfile(template.database, path)
        yield url_string(template.set(database=str(path)))
        return
    assert template.database is not None
    url = pg_databases.copy(template.database)
    try:
        yield url_string(url)
    finally:
        pg_databases.drop_later(url)


@pytest.fixture
def db_url(db_template: URL, pg_databases: PgDatabases | None, tmp_path: Path) -> Iterator[str]:
    """URL of this test's own migrated, empty database (``tmp_path/monitor.db`` on SQLite)."""
    with _template_copy(db_template, pg_databases, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_db_url(
    db_template: URL, pg_databases: PgDatabases | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``db_url``, but one per test module: for data that read-only tests share."""
    with _template_copy(db_template, pg_databases, tmp_path_factory.mktemp("module_db")) as url:
        yield url


@pytest.fixture
def empty_db_url(pg_databases: PgDatabases | None, tmp_path: Path) -> Iterator[str]:
    """URL of a database that exists but was never initialised (no tables)."""
    if pg_databases is None:
        yield url_string(make_url(f"sqlite:///{tmp_path / 'empty.db'}"))
        return
    url = pg_databases.create()
    try:
        yield url_string(url)
    finally:
        pg_databases.drop_later(url)


@pytest.fixture
def fresh_db(db_url: str) -> Iterator[Engine]:
    """Engine on this test's migrated, empty database (see ``db_url``)."""
    from monitor.store.db import make_engine

    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def second_db_url(
    db_template: URL, pg_databases: PgDatabases | None, tmp_path: Path
) -> Iterator[str]:
    """A second migrated, empty database beside ``db_url``."""
    if pg_databases is None:
        assert db_template.database is not None
        path = tmp_path / "second.db"
        shutil.copyfile(db_template.database, path)
        yield url_string(db_template.set(database=str(path)))
        return
    url = pg_databases.create(template=db_template.database)
    try:
        yield url_string(url)
    finally:
        pg_databases.drop(url)
