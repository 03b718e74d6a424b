"""Upkeep commands: ``doctor`` (is this installation sound? the database, its schema, the
daemon lock, the configuration and the alert channels) and ``prune`` (retention)."""

from __future__ import annotations

from collections.abc import Callable

import click

from monitor.app import App
from monitor.cli.main import EXIT_FAILED, cli
from monitor.errors import MonitorError

Check = tuple[str, Callable[[App], str]]  # (what, the check: its "ok" detail or MonitorError)


def _database(app: App) -> str:
    from monitor.store.db import make_engine
    from monitor.store.integrity import integrity_problems

    engine = make_engine(app.db_url)  # not app.engine: that one refuses an old schema first
    try:
        problems = integrity_problems(engine)
    finally:
        engine.dispose()
    if problems:
        shown = "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        raise MonitorError(f"damaged: {shown}; restore a backup (see docs/deployment.md)")
    what = "PRAGMA quick_check ok" if engine.url.get_backend_name() == "sqlite" else "answers"
    return f"{what} ({engine.url.render_as_string(hide_password=True)})"


def _schema(app: App) -> str:
    _ = app.engine  # require_schema: StoreError saying what to do
    return "at this version's revision"


def _lock(app: App) -> str:
    from monitor.daemonlock import read_daemon_report

    report = read_daemon_report(app.engine)
    if report.running and not report.database_ok:
        raise MonitorError(report.describe())
    return report.describe()


def _config(app: App) -> str:
    if not app.has_config:
        return f"no {app.config_path} (the defaults)"
    config = app.config
    return f"{app.config_path}: {len(config.enabled_sources)} enabled sources"


def _channels(app: App) -> str:
    if not app.has_config:
        return "none (no configuration)"
    channels = app.channels
    app.renderer  # noqa: B018 (the templates folder is read: a broken one fails here)
    if not channels:
        return "none configured (changes are recorded, nobody is alerted)"
    return ", ".join(c.masked for c in channels)


def _extractor(app: App) -> str:
    from monitor.extract import native
    from monitor.extract.linker_model import default_model

    # pure Python is a working state, only slower: never a FAIL; nor the rules alone
    linker = default_model()
    if linker is None:
        return f"{native.status()}; no region linker (monitor/data/linker.json missing)"
    return f"{native.status()}; region linker ({len(linker.weights):,} weights)"


CHECKS: list[Check] = [
    ("database", _database),
    ("schema", _schema),
    ("daemon", _lock),
    ("config", _config),
    ("channels", _channels),
    ("extractor", _extractor),
]


@cli.command()
@click.pass_obj
def doctor(app: App) -> None:
    """Check this installation: the database file (SQLite's PRAGMA quick_check), its
    schema revision, the daemon lock (and whether its database takes writes), the
    configuration, the alert channels, whether the extractor runs compiled (mypyc) or
    as plain Python, and whether its region linker's weights are there. One line per
    check; exits 1 on any problem.

    \b
    Example:
      monitor --db sqlite:///storage/monitor.db doctor
    """
    failed = 0
    for name, check in CHECKS:
        try:
            detail = check(app)
        except MonitorError as exc:
            failed += 1
            click.echo(f"FAIL  {name}: {exc}")
            if name == "database":
                break  # the other checks read a damaged file: nothing more to learn
        else:
            click.echo(f"ok    {name}: {detail}")
    if failed:
        raise SystemExit(EXIT_FAILED)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.pass_obj
def prune(app: App, dry_run: bool) -> None:
    """Apply the `retention:` settings now (the daemon does it every `retention.every`):
    empty the text of items that reported no fact after `drop_text_after`, delete them
    after `delete_after` (their dedupe keys stay, so they do not come back as news), drop
    those keys after `forget_keys_after`, and give SQLite's free pages back to the disk.
    Facts, changes, their evidence and deliveries are always kept.

    \b
    Examples:
      monitor prune --dry-run
      monitor prune
    """
    from monitor import tasks

    report = tasks.prune(app, dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{report.texts} item texts {verb} emptied, {report.deleted} items {verb} deleted, "
        f"{report.keys} dedupe keys of deleted items {verb} dropped"
    )
    if report.bytes_before is not None and report.bytes_after is not None:
        freed = (report.bytes_before - report.bytes_after) / 1024
        click.echo(
            f"database {report.bytes_before / 1024:.0f} KiB -> {report.bytes_after / 1024:.0f} KiB"
            f" ({freed:.0f} KiB given back)"
        )
