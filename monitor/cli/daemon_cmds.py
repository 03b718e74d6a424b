"""Commands: once, run, try (polling sources, the daemon). `status` is in status_cmds."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import DBAPIError

from monitor.app import App
from monitor.cli.main import EXIT_FAILED, EXIT_STORE, cli, fail
from monitor.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor.sources.base import SourceConfig


def _verbosity(verbose: int) -> int:
    return logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING


@cli.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Poll this source now, due or not (repeatable).",
)
@click.option("--all", "all_", is_flag=True, help="Poll every enabled source now, due or not.")
@click.option("-v", "--verbose", count=True, help="Log fetches to stderr (-vv: debug).")
@click.pass_obj
def once(app: App, sources: tuple[str, ...], all_: bool, verbose: int) -> None:
    """One pass over the due sources: fetch, store new items, process them, send alerts.

    Prints one line per source: fetched with the number of new items, not modified,
    failed and why, or skipped (not due yet, or the server asked to wait); then a summary:
    sources ok/failed/skipped and new items, changes recorded, alerts queued, sent, to
    retry and failed, with each refusing channel's reason. On a terminal, a progress bar
    runs on stderr meanwhile. Exits 0 even when sources failed; 2 on a bad
    configuration, 3 on an unusable database.

    \b
    Examples:
      monitor once                       # the sources whose time has come
      monitor once --all                 # every enabled source now
      monitor once --source qwen-hf --source openai-news
    """
    from monitor import tasks
    from monitor.cli.progress import PassProgress, PassSummary
    from monitor.logs import log_outcome, setup_logging
    from monitor.poll import SourceOutcome, database_reason

    setup_logging(_verbosity(verbose))
    _ = app.config, app.sessions  # a bad config, then an unusable database, stop here
    with PassProgress() as progress:

        def on_outcome(outcome: SourceOutcome) -> None:
            progress.fetched(outcome)
            if verbose:
                log_outcome(outcome)

        outcomes = tasks.refresh_sources(
            app, sources, force_all=all_, on_start=progress.start, on_outcome=on_outcome
        )
        refused: str | None = None
        try:
            with progress.step("extracting facts from new items"):
                processed = tasks.process_pending(app)
            with progress.step("sending alerts"):
                sent = tasks.deliver_due(app)
        except DBAPIError as exc:  # full, read-only, locked: the source lines still print
            refused = database_reason(exc)
    for outcome in outcomes:
        click.echo(outcome.describe())
    if not outcomes:
        click.echo("no enabled sources")
    if refused is not None:
        fail(f"error: {refused}", EXIT_STORE)
    for line in PassSummary(outcomes, processed, sent).lines():
        click.echo(line)


@cli.command()
@click.option("-v", "--verbose", count=True, help="Also log skipped polls (debug).")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="On SIGTERM/SIGINT, how long work in flight may take before it is cut.",
)
@click.option(
    "--web",
    "web",
    metavar="[HOST:]PORT",
    help="Also serve the web desk (as `monitor serve`), e.g. --web 8350.",
)
@click.pass_obj
def run(app: App, verbose: int, grace: float, web: str | None) -> None:
    """The daemon: poll every source on its own schedule, process and alert, until stopped.

    Logs one logfmt line per event on stderr. SIGTERM or Ctrl-C finishes the work in flight
    and exits 0. Only one daemon may run per database (a second one exits 1).

    \b
    Examples:
      monitor --config sources.yaml --db sqlite:///storage/monitor.db run
      monitor run --web 127.0.0.1:8350      # with the web desk in the same process
    """
    from monitor.daemon import Daemon, setup_logging

    setup_logging(logging.DEBUG if verbose else logging.INFO)
    if web is None:
        Daemon(app, grace=grace).serve()
        return
    from monitor.cli.web_cmds import web_beside

    desk = web_beside(app, web)  # a refused bind exits 2 before the daemon starts
    daemon = Daemon(app, grace=grace)
    desk.start()
    if not desk.started:
        fail(f"error: the web desk could not listen on {web} (port in use?)", EXIT_FAILED)
    click.echo(f"monitor web desk on http://{desk.where}/", err=True)
    try:
        daemon.serve()
    finally:
        desk.stop()


# --- try -------------------------------------------------------------------------------------


@cli.command("try")
@click.argument("target", metavar="NAME|URL")
@click.option(
    "--kind",
    type=click.Choice(["feed", "html", "json"]),
    default=None,
    help="Kind for a bare URL [default: feed]; html and json need selectors or a mapping, "
    "so configure those in sources.yaml and try them by name.",
)
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, show_default=True, help="Items to print."
)
@click.option(
    "--text-chars",
    type=click.IntRange(min=0),
    default=160,
    show_default=True,
    help="Text preview size.",
)
@click.pass_obj
def try_(app: App, target: str, kind: str | None, limit: int, text_chars: int) -> None:
    """Fetch and parse one source, a configured NAME or a bare URL, and print its items.
    Stores nothing and changes no fetch state (no conditional GET either).

    \b
    Examples:
      monitor try qwen-hf
      monitor try https://blogs.nvidia.com/feed/
    """
    from monitor.fetch import Fetcher
    from monitor.poll import fetch_source
    from monitor.sources.base import parse_body

    source, defaults = _try_source(app, target, kind)
    settings = source.effective(defaults)
    fetcher = Fetcher.from_defaults(defaults)  # not app.fetcher: a broken config may not stop it
    try:
        result = fetch_source(fetcher, source, settings)
    finally:
        fetcher.close()
    items = parse_body(source, result.body, url=result.final_url, content_type=result.content_type)
    click.echo(
        f"{source.name}: HTTP {result.status}, {len(result.body)} bytes, "
        f"{len(items)} items ({source.kind})"
    )
    for item in items[:limit]:
        click.echo("")
        click.echo(f"- {item.title or '(no title)'}")
        click.echo(f"  published: {item.published.isoformat() if item.published else '-'}")
        click.echo(f"  url: {item.url or '-'}")
        text = " ".join(item.text.split())
        if text:
            click.echo(f"  text: {text[:text_chars]}{'...' if len(text) > text_chars else ''}")
    if len(items) > limit:
        click.echo(f"\n... and {len(items) - limit} more")


def _try_source(app: App, target: str, kind: str | None) -> tuple[SourceConfig, Any]:
    """The configured source named ``target``, or an ad-hoc one for a URL."""
    from monitor.sources.base import Defaults, get_kind

    is_url = target.startswith(("http://", "https://"))
    if not is_url:
        config = app.config
        by_name = {s.name: s for s in config.sources}
        if target not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise ConfigError([f"unknown source {target!r} (configured: {known})"])
        return by_name[target], config.defaults
    try:
        defaults: Any = app.config.defaults if app.has_config else Defaults.model_validate({})
    except ConfigError:
        defaults = Defaults.model_validate({})  # a broken sources.yaml does not stop trying a URL
    chosen = kind or "feed"
    try:
        source = get_kind(chosen).config_model.model_validate(
            {"name": "try", "kind": chosen, "url": target}
        )
    except Exception as exc:  # pydantic ValidationError: say what is missing, on one line
        errors = getattr(exc, "errors", None)
        missing = [".".join(map(str, e["loc"])) for e in errors()] if callable(errors) else []
        raise MonitorError(
            f"a bare URL cannot be tried as kind {chosen!r}"
            + (f" (needs: {', '.join(missing)})" if missing else "")
            + "; add it to sources.yaml and try it by name"
        ) from None
    return source, defaults
