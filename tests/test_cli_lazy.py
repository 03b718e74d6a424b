"""Nothing is built before it is needed (issue 12): each command imports only what it uses.

The commands run as a user runs them, in a new Python process, against real files and a
real HTTP server on 127.0.0.1; a small wrapper writes the names in ``sys.modules`` at exit,
and the tests check which heavy modules were (not) imported. Timings live in
bench/bench_startup.py and docs/performance.md, not here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from monitor.cli import cli
from monitor.cli.main import MonitorGroup
from monitor.cli.registry import COMMANDS
from tests.conftest import ROOT
from tests.httpserver import LocalServer, Reply, Request

# Run monitor's CLI as `monitor ARGS...` would, then list the imported modules.
WRAPPER = """
import atexit, os, sys
def dump():
    with open(os.environ["MODULES_OUT"], "w", encoding="utf-8") as out:
        out.write("\\n".join(sorted(sys.modules)))
atexit.register(dump)
sys.argv[0] = "monitor"
from monitor.cli import main
main()
"""

# What no command needs unless it does that work: the schema tool, the extractor, the alert
# channels and templates, the parsers of fetched bodies.
ALEMBIC = "alembic"
EXTRACTOR = "monitor.extract.extractor"
APPRISE = "apprise"
TEMPLATES = "jinja2"
PARSERS = ("feedparser", "bs4", "lxml", "monitor.sources.fastfeed", "monitor.sources.article")


def imported_by(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a `monitor ARGS` process imported (it must exit 0)."""
    out = cwd / "modules.txt"
    environ = {**os.environ, "MONITOR_NOTIFY_URLS": "", **(env or {}), "MODULES_OUT": str(out)}
    run = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return set(out.read_text(encoding="utf-8").split())


def loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


# --- the registry that lets `monitor --help` list commands without importing them ------------


def _all_commands() -> dict[str, click.Command]:
    """Every command of every command module, whether the registry names it or not."""
    import monitor.cli

    for module in pkgutil.iter_modules(monitor.cli.__path__):
        if module.name.endswith("_cmds"):
            importlib.import_module(f"monitor.cli.{module.name}")
    return dict(cli.commands)


def test_every_command_is_in_the_registry_with_its_module_and_summary() -> None:
    commands = _all_commands()
    assert sorted(commands) == sorted(COMMANDS), (
        "monitor/cli/registry.py must name every command (and only those)"
    )
    for name, command in commands.items():
        assert command.callback is not None
        assert command.callback.__module__ == f"monitor.cli.{COMMANDS[name].module}", name
        # the sentence `monitor --help` shows, however wide the terminal
        assert command.get_short_help_str(10**6) == COMMANDS[name].summary, (
            f"registry summary of {name!r} differs from its help's first sentence"
        )


def test_help_lists_the_same_commands_loaded_or_not() -> None:
    """`monitor --help` from the registry (nothing loaded) is what click prints from the
    loaded commands, at any width (the summaries are shortened to fit)."""
    unloaded = MonitorGroup(
        name=cli.name,
        params=cli.params,
        callback=cli.callback,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    _all_commands()
    assert not unloaded.commands and cli.commands
    for width in (50, 80, 88, 200):
        # (the group's own settings too: a bare Context would not apply them, -h among them)
        settings = {**cli.context_settings, "terminal_width": width, "max_content_width": width}
        expected = cli.get_help(click.Context(cli, info_name="monitor", **settings))
        got = unloaded.get_help(click.Context(unloaded, info_name="monitor", **settings))
        assert got == expected


def test_help_imports_no_command_and_no_library(tmp_path: Path) -> None:
    modules = imported_by(["--help"], tmp_path)
    assert not {m for m in modules if m.endswith("_cmds")}
    for heavy in ("sqlalchemy", "pydantic", "yaml", ALEMBIC, APPRISE, TEMPLATES, *PARSERS):
        assert not loaded(modules, heavy), heavy


# --- status and a no-change pass, from a real database and a real server ---------------------


ETAG = '"v1"'


def feed_or_not_modified(request: Request) -> Reply:
    if request.headers.get("If-None-Match") == ETAG:
        return Reply(status=304, headers={"ETag": ETAG})
    slug = request.path.strip("/")
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        "<link>https://news.test/</link><item><title>Alibaba Cloud opens a data center in "
        f"Mexico</title><link>https://news.test/{slug}/1</link></item></channel></rss>"
    )
    return Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml", "ETag": ETAG})


@pytest.fixture
def watched(tmp_path: Path, http_server: LocalServer) -> list[str]:
    """A configuration with three feeds and an alert channel, and an initialised database:
    the global options of every command below."""
    for name in ("a", "b", "c"):
        http_server.route(f"/{name}", feed_or_not_modified)
    http_server.route("/hook", Reply(status=200))
    hook = http_server.url("/hook").replace("http://", "json://")
    (tmp_path / "apprise.yml").write_text(f"version: 1\nurls:\n  - {hook}\n", encoding="utf-8")
    listed = "".join(
        f"  - {{name: {n}, kind: feed, url: '{http_server.url('/' + n)}'}}\n" for n in "abc"
    )
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"sources:\n{listed}alerts:\n  apprise_config: apprise.yml\n", encoding="utf-8"
    )
    options = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'monitor.db'}"]
    baseline = ROOT / "storage" / "baseline.yaml"
    assert loaded(imported_by([*options, "init", "--baseline", str(baseline)], tmp_path), ALEMBIC)
    return options


def test_a_no_change_pass_builds_no_extractor_channels_templates_or_parsers(
    tmp_path: Path, http_server: LocalServer, watched: list[str]
) -> None:
    first = imported_by([*watched, "once", "--all"], tmp_path)
    # the first pass does the work: parse, extract (its changes are a quiet back-fill)
    assert loaded(first, EXTRACTOR) and loaded(first, "feedparser")

    second = imported_by([*watched, "once", "--all"], tmp_path)
    conditional = [r for r in http_server.requests if r.headers.get("If-None-Match") == ETAG]
    assert len(conditional) == 3  # every source answered 304 on the second pass
    assert loaded(second, "sqlalchemy")  # it did read and write the database
    for unused in (ALEMBIC, EXTRACTOR, APPRISE, TEMPLATES, *PARSERS):
        assert not loaded(second, unused), unused


def test_status_reads_the_database_without_alembic_extractor_or_apprise(
    tmp_path: Path, watched: list[str]
) -> None:
    modules = imported_by([*watched, "status"], tmp_path)
    for unused in (ALEMBIC, EXTRACTOR, APPRISE, TEMPLATES, *PARSERS):
        assert not loaded(modules, unused), unused
    # --json lists the channels (their masked URLs): that, and only that, needs Apprise
    assert loaded(imported_by([*watched, "status", "--json"], tmp_path), APPRISE)


def test_status_on_sqlite_imports_neither_sqlalchemy_nor_the_daemon_nor_the_whole_config(
    tmp_path: Path, watched: list[str]
) -> None:
    """`monitor status` answers in a tenth of a second (docs/performance.md): on a SQLite
    file it reads with the standard library's sqlite3 (monitor.store.status), and of the
    configuration only the keys it shows (monitor.configview)."""
    for args in (["status"], ["status", "--json"]):
        modules = imported_by([*watched, *args], tmp_path)
        assert loaded(modules, "monitor.store.status") and loaded(modules, "sqlite3")
        for unused in ("sqlalchemy", "monitor.daemon", "monitor.tasks", "monitor.config"):
            assert not loaded(modules, unused), (args, unused)


def test_status_without_channels_imports_no_apprise(tmp_path: Path, watched: list[str]) -> None:
    (tmp_path / "apprise.yml").write_text("# no channel yet\n", encoding="utf-8")
    modules = imported_by([*watched, "status", "--json"], tmp_path)
    assert not loaded(modules, APPRISE)
