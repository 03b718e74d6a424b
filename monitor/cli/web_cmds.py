"""Command: serve (the web desk)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from monitor.cli.main import EXIT_CONFIG, cli, fail

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from monitor.app import App
    from monitor.web.server import BackgroundServer


def web_app_for(app: App, host: str) -> ASGIApp:
    """The ASGI app for a bind, or exit 2 with one line when the bind is not allowed."""
    from monitor.web.routes import create_app
    from monitor.web.security import BindRefused
    from monitor.web.server import make_guard, token_from_env

    try:
        guard = make_guard(host, token_from_env())
    except BindRefused as exc:
        fail(str(exc), EXIT_CONFIG)
    return create_app(app, guard)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8350, show_default=True, help="TCP port."
)
@click.pass_obj
def serve(app: App, host: str, port: int) -> None:
    """The web desk: the change log with filters and triage, each change with its evidence,
    company footprints on a world map, source health, an Atom feed and a JSON API.

    Listens on 127.0.0.1 unless told otherwise; any other address needs MONITOR_WEB_TOKEN
    (a bearer token for the API and feed, a sign-in form for the pages). Runs beside
    `monitor run` on the same database, or inside it with `monitor run --web PORT`.

    \b
    Examples:
      monitor serve                                   # http://127.0.0.1:8350/
      monitor serve --port 9000
      MONITOR_WEB_TOKEN=$(openssl rand -hex 24) monitor serve --host 0.0.0.0
    """
    from monitor.logs import setup_logging
    from monitor.web.server import build_server

    web = web_app_for(app, host)
    app.engine  # noqa: B018 (an unusable database fails here with its one line, exit 3)
    where = f"[{host}]" if ":" in host else host
    click.echo(f"monitor web desk on http://{where}:{port}/ (Ctrl-C stops it)", err=True)
    # Warnings (a throttled login) as the daemon's logfmt lines, not bare messages.
    setup_logging(logging.WARNING)
    build_server(web, host, port).run()


def web_beside(app: App, bind: str) -> BackgroundServer:
    """`monitor run --web`: the desk to serve from a thread while the daemon blocks (not
    started yet). Exits 2 with one line on a bad or refused ``[HOST:]PORT``."""
    from monitor.web.server import BackgroundServer, parse_bind

    try:
        host, port = parse_bind(bind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--web'") from None
    return BackgroundServer(web_app_for(app, host), host, port)
