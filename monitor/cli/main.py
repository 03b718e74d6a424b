"""The `monitor` command group: global options, the App, error handling.

Commands live in the sibling modules (one per area) and register on ``cli``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError

from monitor import __version__
from monitor.app import DEFAULT_CONFIG, App
from monitor.errors import ConfigError, MonitorError, StoreError

# Exit codes: 0 ok; 1 operation failed; 2 configuration or usage error; 3 database unusable.
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one line (or one line per problem) on stderr and exit; never a traceback."""
    click.echo(message, err=True)
    sys.exit(code)


class MonitorGroup(click.Group):
    """Turns MonitorError into a clear message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except StoreError as exc:
            fail(f"error: {exc}", EXIT_STORE)
        except MonitorError as exc:
            fail(f"error: {exc}", EXIT_FAILED)
        except DBAPIError as exc:  # read-only file, disk full, locked too long, server gone
            fail(f"error: database: {exc.orig}", EXIT_STORE)


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
