"""The `monitor` command group: global options, the App, error handling.

Commands live in the sibling modules (one per area) and register on ``cli``; a command's
module is imported only when that command runs (``monitor.cli.registry`` says where each
lives), so `monitor --help` or `monitor status` import nothing they do not use.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from monitor import __version__
from monitor.app import DEFAULT_CONFIG, App
from monitor.cli.registry import COMMANDS
from monitor.errors import ConfigError, MonitorError, StoreError

# Exit codes: 0 ok; 1 operation failed; 2 configuration or usage error; 3 database unusable.
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one line (or one line per problem) on stderr and exit; never a traceback."""
    click.echo(message, err=True)
    sys.exit(code)


def _database_error(exc: Exception) -> str | None:
    """The driver's message when ``exc`` is SQLAlchemy's DBAPIError (read-only file, disk
    full, locked too long, server gone); None otherwise. SQLAlchemy is imported only if the
    command already did: an error cannot come from a library nobody loaded."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    return str(exc.orig) if isinstance(exc, DBAPIError) else None


class MonitorGroup(click.Group):
    """Loads a command's module when the command is wanted (the documented click "lazy
    group"); turns MonitorError into a clear message and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            # The module's @cli.command() decorators register its commands on this group.
            importlib.import_module(f"monitor.cli.{COMMANDS[cmd_name].module}")
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but a command not loaded yet is listed from its registry summary,
        shortened exactly as click shortens a help text."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                command = click.Command(name, help=COMMANDS[name].summary)
            if not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except StoreError as exc:
            fail(f"error: {exc}", EXIT_STORE)
        except MonitorError as exc:
            fail(f"error: {exc}", EXIT_FAILED)
        except Exception as exc:
            message = _database_error(exc)
            if message is None:
                raise
            fail(f"error: database: {message}", EXIT_STORE)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="MONITOR_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    metavar="PATH",
    help="Watch configuration (sources, watchlist, alert routes). Env: MONITOR_CONFIG.",
)
@click.option(
    "--db",
    "db_url",
    envvar="MONITOR_DB_URL",
    default=None,
    metavar="URL",
    help="SQLAlchemy database URL [default: sqlite:///storage/monitor.db]. Env: MONITOR_DB_URL.",
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str, db_url: str | None) -> None:
    """Watch news sources for tracked companies' new regions, AI chips and models; alert on
    what is new.

    \b
    Quick start:
      monitor init            create storage/monitor.db, load storage/baseline.yaml
      monitor check-config    validate sources.yaml
      monitor once --all      one pass over every source
      monitor run             the daemon
    """
    app = App(config_path, db_url or os.environ.get("MONITOR_DB_URL"))
    ctx.obj = app
    ctx.call_on_close(app.close)  # dispose of the engine, close the HTTP client


def main() -> None:
    cli(prog_name="monitor")
