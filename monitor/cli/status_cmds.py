"""Command: status (the health of every source, the daemon, quiet sources, the outbox).

`monitor status` is what an operator, or a script every minute, runs to look: it answers
in a tenth of a second. It reads the database through ``monitor.store.status`` (plain
SELECTs; on a SQLite file no SQLAlchemy at all) and of the configuration only the keys it
shows (``monitor.configview``); it imports neither the daemon nor the tasks, and loads the
alert channels (Apprise) only to name a failed delivery's channel or for ``--json``.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from monitor.app import App
from monitor.cli.main import cli

if TYPE_CHECKING:
    from monitor.store.status import StatusReader


@dataclass
class StatusSection:
    """One block of `monitor status`: a table for people, ``data`` for ``--json``."""

    key: str  # the JSON key
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    data: Any = None  # or a function making it, called only for --json
    empty: str = "nothing to show"

    def json_data(self) -> Any:
        return self.data() if callable(self.data) else self.data


# The sections `monitor status` prints, in order, as "module:function" (a function taking
# the App and the database's StatusReader, returning a StatusSection). Other areas add
# theirs here (e.g. failed alert deliveries). Named rather than registered when their
# module is imported: `monitor status` imports only this module (monitor.cli.registry),
# then the modules named here.
STATUS_SECTIONS = [
    "monitor.cli.status_cmds:sources_status",
    "monitor.cli.status_cmds:daemon_status",
    "monitor.cli.status_cmds:quiet_status",
    "monitor.cli.changes_cmds:alerts_status",
]

StatusBuilder = Callable[[App, "StatusReader"], StatusSection]


def status_builders() -> list[StatusBuilder]:
    """The functions of :data:`STATUS_SECTIONS`, their modules imported."""
    builders = []
    for ref in STATUS_SECTIONS:
        module, _, name = ref.partition(":")
        builders.append(getattr(importlib.import_module(module), name))
    return builders


def sources_status(app: App, db: StatusReader) -> StatusSection:
    """Per source (config order, then sources only the database still knows)."""
    from monitor.views import SOURCE_COLUMNS, source_status, source_status_row, status_order

    entries = status_order(app.config_view.sources, db.sources())
    records = [source_status(name, source, row) for name, source, row in entries]
    rows = [source_status_row(rec, row) for rec, (_, _, row) in zip(records, entries, strict=True)]
    return StatusSection(
        key="sources",
        title="Sources (times in UTC)",
        columns=SOURCE_COLUMNS,
        rows=rows,
        data=records,
        empty="no sources configured",
    )


def daemon_status(app: App, db: StatusReader) -> StatusSection:
    """Whether a daemon runs on this database, and whether its database takes writes (the
    daemon says so in its lock file while it cannot say so in the database)."""
    from monitor.store.light import utcnow

    report = db.daemon_report(utcnow())
    return StatusSection(
        key="daemon",
        title="Daemon",
        columns=["state"],
        rows=[[report.describe()]],
        data=report.to_json(),
    )


def quiet_status(app: App, db: StatusReader) -> StatusSection:
    """Sources that answer but publish nothing new (alerts.source_quiet_after)."""
    from monitor.conftypes import format_interval
    from monitor.quiet import quiet_among
    from monitor.store.light import utcnow
    from monitor.views import minute

    watched = [(s.name, s.quiet_after) for s in app.config_view.sources if s.enabled]
    quiet = quiet_among(watched, db.newest_items(), utcnow())
    return StatusSection(
        key="quiet",
        title="Quiet sources (newest item older than quiet_after; times in UTC)",
        columns=["source", "newest item", "quiet after"],
        rows=[[q.name, minute(q.newest), format_interval(q.after)] for q in quiet],
        data=[
            {
                "name": q.name,
                "newest_item_at": q.newest.isoformat(timespec="seconds") + "Z",
                "quiet_after": format_interval(q.after),
            }
            for q in quiet
        ],
        empty="none",
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(app: App, as_json: bool) -> None:
    """Health of every source: last success, last error, consecutive failures, next due,
    items stored.

    \b
    Examples:
      monitor status
      monitor status --json | jq '.sources[] | select(.consecutive_failures > 0)'
    """
    builders = status_builders()
    # The configuration first: a mistake in it is reported before the database's.
    app.config_view  # noqa: B018
    with app.status_reader() as db:
        sections = [build(app, db) for build in builders]
    if as_json:
        click.echo(
            json.dumps({s.key: s.json_data() for s in sections}, indent=2, ensure_ascii=False)
        )
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        console = Console()
        for section in sections:
            table = Table(title=section.title, title_justify="left")
            for column in section.columns:
                table.add_column(column, overflow="fold")
            for row in section.rows:
                table.add_row(*row)
            console.print(table if section.rows else f"{section.title}: {section.empty}")
        return
    for index, section in enumerate(sections):
        if index:
            click.echo()
        click.echo(section.title)
        if not section.rows:
            click.echo(f"  {section.empty}")
            continue
        widths = [
            max(len(c), *(len(r[i]) for r in section.rows)) for i, c in enumerate(section.columns)
        ]
        click.echo("  ".join(c.ljust(w) for c, w in zip(section.columns, widths, strict=True)))
        for row in section.rows:
            click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
