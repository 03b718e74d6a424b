"""Commands: changes, show, report, ingest, notify (the change log and alerts). The review
state commands (seen, confirm, unread, dismiss) are in ``review_cmds``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.app import App
from monitor.cli.main import EXIT_CONFIG, cli, fail

if TYPE_CHECKING:
    from collections.abc import Iterable

    from monitor.cli.status_cmds import StatusSection
    from monitor.notify.channels import Channel
    from monitor.store.queries import ChangeView
    from monitor.store.status import StatusReader
    from monitor.views import DisplayNames


def since_option(value: str | None) -> datetime | None:
    """``--since`` as naive UTC (see :func:`monitor.views.parse_since`); None when not given."""
    if value is None:
        return None
    from monitor.store.db import utcnow
    from monitor.views import parse_since

    try:
        return parse_since(value, utcnow())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option(
    "--since", metavar="7d|DATE", help="Only changes detected (recorded by monitor) since then."
)
@click.option(
    "--published-since",
    metavar="7d|DATE",
    help="Only changes whose first article was published since then.",
)
@click.option("--entity", metavar="ID", help="Only this company (watchlist id, e.g. alibaba).")
@click.option("--kind", type=click.Choice(["region", "chip", "model"]), help="Only this kind.")
@click.option(
    "--state",
    type=click.Choice(["unread", "seen", "confirmed", "dismissed"]),
    help="Only changes in this review state (dismissed ones are shown without --all).",
)
@click.option(
    "--backfill/--no-backfill",
    default=None,
    help="Only the changes recorded without an alert (first pass, old item), or none of them.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option("--all", "all_", is_flag=True, help="Include dismissed changes (struck out).")
@click.pass_obj
def changes(
    app: App,
    since: str | None,
    published_since: str | None,
    entity: str | None,
    kind: str | None,
    state: str | None,
    backfill: bool | None,
    fmt: str,
    all_: bool,
) -> None:
    """The change log, newest first (by the date of the first item that reported it).

    The table shows each change's id (`*`: backfill, recorded without an alert), date,
    company, kind, value with its name (`Mexico (MX)`), change and status, review state,
    sources and the first headline, fitted to the terminal's width. JSON objects carry
    "state" (unread, seen, confirmed, dismissed), "dismissed" and "backfill".

    \b
    Examples:
      monitor changes --since 7d                      # detected in the last 7 days
      monitor changes --state unread --no-backfill    # what is left to review
      monitor changes --entity alibaba --kind region --format json
      monitor changes --published-since 2025-03-01 --format csv > changes.csv
    """
    from monitor.store.queries import ChangeQuery, find_changes, iter_changes
    from monitor.views import changes_csv_lines

    if entity is not None and entity not in (ids := sorted(app.watchlist.companies)):
        raise click.BadParameter(
            f"unknown company {entity!r} (watchlist ids: {', '.join(ids)})",
            param_hint="'--entity'",
        )
    query = ChangeQuery(
        detected_since=since_option(since),
        since=since_option(published_since),
        entity=entity,
        kind=kind,
        state=state,
        backfill=backfill,
        dismissed=None if all_ or state is not None else False,
    )
    with app.sessions() as session:
        if fmt == "table":
            _table(find_changes(session, query).changes, app.names)
            return
        # json and csv are written as the changes are read, a page at a time
        stream = iter_changes(session, query)
        if fmt == "json":
            _write_json(stream)
        else:
            for line in changes_csv_lines(stream):
                click.echo(line, nl=False)


def _write_json(views: Iterable[ChangeView]) -> None:
    """A JSON list, one change object a line, written as each is read: constant memory,
    and the C JSON encoder (an indented dump runs the pure-Python one, several times slower)."""
    from monitor.views import change_json

    separator = "[\n"
    for view in views:
        click.echo(separator + json.dumps(change_json(view), ensure_ascii=False), nl=False)
        separator = ",\n"
    click.echo("[]" if separator == "[\n" else "\n]")


def _table(views: list[ChangeView], names: DisplayNames | None) -> None:
    """A table as wide as the terminal ($COLUMNS, else 160 off a terminal): each column
    as wide as its widest cell up to a cap, the headline taking what is left; cells cut
    with an ellipsis, widths counted in terminal cells (a Chinese character takes two)."""
    import shutil

    from rich.cells import cell_len
    from rich.text import Text

    from monitor.views import TABLE_COLUMNS, change_row

    if not views:
        click.echo("no changes")
        return
    rows = [(v, change_row(v, names)) for v in views]
    widths = [
        min(max(cell_len(name), *(cell_len(cells[i]) for _, cells in rows)), cap or 10**6)
        for i, (name, cap) in enumerate(TABLE_COLUMNS)
    ]
    gap = 2
    fixed = sum(widths[:-1]) + gap * (len(widths) - 1)
    widths[-1] = max(10, min(widths[-1], shutil.get_terminal_size((160, 24)).columns - fixed))

    def fit(text: str, width: int) -> str:
        cut = Text(text, no_wrap=True)
        cut.truncate(width, overflow="ellipsis")
        return cut.plain + " " * (width - cell_len(cut.plain))

    def line(cells: list[str]) -> str:
        return (" " * gap).join(fit(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    on_terminal = sys.stdout.isatty()
    click.echo(click.style(line([name for name, _ in TABLE_COLUMNS]), bold=on_terminal))
    for view, cells in rows:
        text = line(cells)
        struck = on_terminal and view.dismissed_at is not None
        click.echo(click.style(text, strikethrough=True, dim=True) if struck else text)
    notes = []
    if any(v.backfill for v in views):
        notes.append("*: backfill, recorded without an alert (first pass or old item)")
    dismissed = sum(1 for v in views if v.dismissed_at)
    if dismissed:
        notes.append(f"{dismissed} dismissed" + (", struck out" if on_terminal else ""))
    if notes:
        click.echo(f"({'; '.join(notes)})")


@cli.command()
@click.argument("change_id", type=int, metavar="ID")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def show(app: App, change_id: int, fmt: str) -> None:
    """One change with all its evidence.

    \b
    Example:
      monitor show 12
    """
    from monitor.store.queries import get_change
    from monitor.views import change_json, change_title, iso_z

    with app.sessions() as session:
        view = get_change(session, change_id)
    if view is None:
        fail(f"error: no change #{change_id} (see `monitor changes`)")
    if fmt == "json":
        click.echo(json.dumps(change_json(view), ensure_ascii=False, indent=2))
        return
    click.echo(f"#{view.id} {change_title(view, app.names)}")
    click.echo(f"  triple: {view.entity}/{view.kind}/{view.value}  change: {view.change}")
    click.echo(f"  first reported: {iso_z(view.published)}  recorded: {iso_z(view.at)}")
    state = f"  state: {view.state}" + (f" since {iso_z(view.state_at)}" if view.state_at else "")
    click.echo(state + ("  (backfill: recorded without an alert)" if view.backfill else ""))
    if view.dismissed_at:
        click.echo(f"  DISMISSED {iso_z(view.dismissed_at)}: {view.dismiss_reason}")
    click.echo(f"  reported by {view.sources} source(s), {len(view.evidence)} item(s):")
    for e in view.evidence:
        click.echo(f"  - {iso_z(e.published)} {e.source}: {e.title}")
        click.echo(f"    {e.url or '(no link)'}")
        if e.sentence:
            click.echo(f"    “{e.sentence}” [{e.status}]")


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.pass_obj
def report(app: App, out: Path) -> None:
    """Write a self-contained HTML report: per company, the timeline of changes with their
    evidence and the countries, chips and models known (baseline vs discovered).

    \b
    Example:
      monitor report --out /srv/www/monitor.html
    """
    from monitor.notify.report import build_report
    from monitor.store.db import utcnow

    with app.sessions() as session:
        html = build_report(session, app.names, utcnow())
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        fail(f"error: cannot write {out}: {exc.strerror}")
    click.echo(f"report written: {out}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-send", is_flag=True, help="Record changes and queue alerts, send nothing.")
@click.option(
    "--no-alerts",
    is_flag=True,
    help="Record the change log only, queue no alert (a quiet back-fill of old news).",
)
@click.pass_obj
def ingest(app: App, files: tuple[Path, ...], no_send: bool, no_alerts: bool) -> None:
    """Replay JSONL items (FACTS.md item format) through the same path as fetched items:
    dedupe, extract, diff, change log, outbox, delivery, in `published` order. One source
    row per distinct `source` name (kind `ingest`). Bad lines are reported and skipped.

    \b
    Examples:
      monitor ingest archive-2025-q1.jsonl
      monitor ingest --no-send dev-en.jsonl dev-multi.jsonl
      monitor ingest --no-alerts archive-2024.jsonl     # history: log it, alert nobody
    """
    from monitor import tasks

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"error: no such file: {', '.join(missing)}", EXIT_CONFIG)
    _ = app.config, app.sessions  # a bad config, then an unusable database, stop here
    report = tasks.ingest(
        app, [str(f) for f in files], queue_alerts=not no_alerts, send=not no_send
    )
    processed, sent = report.processed, report.sent
    click.echo(f"items: {report.read} read, {report.new} new, {report.duplicate} duplicate")
    click.echo(
        f"changes: {processed.new} new, {processed.live} live "
        f"({processed.items} items processed, {processed.deliveries} alerts queued"
        + (f", {processed.backfill} backfill" if processed.backfill else "")
        + ")"
    )
    if sent is not None:
        click.echo(f"alerts: {sent.sent} sent, {sent.retrying} to retry, {sent.failed} failed")


@cli.command()
@click.option("--test", "test_", is_flag=True, help="Send a test message to every channel.")
@click.option("--retry-failed", is_flag=True, help="Re-queue failed deliveries, then send.")
@click.pass_obj
def notify(app: App, test_: bool, retry_failed: bool) -> None:
    """Send the alerts that are due now (or test the channels).

    \b
    Examples:
      monitor notify                   # send what is due (the daemon does this every 15 s)
      monitor notify --test            # one test message per channel, accepted or not
      monitor notify --retry-failed    # give failed deliveries another round
    """
    from monitor import tasks
    from monitor.store.db import transaction, utcnow
    from monitor.store.outbox import requeue_failed

    _ = app.config  # configuration problems first, before the database's
    if test_:
        from monitor.notify.sender import send_test

        if not app.channels:
            fail("error: no alert channels configured (alerts/apprise.yml, $MONITOR_NOTIFY_URLS)")
        results = send_test(app.channels, app.renderer, utcnow())
        for channel, result in results:
            why = f" ({result.reason})" if result.reason else ""
            click.echo(f"{'accepted' if result.ok else 'NOT accepted'}: {channel.masked}{why}")
        if not all(result.ok for _, result in results):
            sys.exit(1)
        return
    if retry_failed:
        with transaction(app.sessions) as session:
            count = requeue_failed(session, utcnow())
        click.echo(f"re-queued {count} failed deliveries")
    report = tasks.deliver_due(app)
    click.echo(f"alerts: {report.sent} sent, {report.retrying} to retry, {report.failed} failed")
    _outbox_summary(app, app.channels)


def _outbox_summary(app: App, channels: list[Channel]) -> None:
    """Outbox rows per state, and the failed ones (channel masked) with their last error."""
    from monitor.store.outbox import delivery_summary, failed_deliveries
    from monitor.views import failed_delivery, outbox_counts

    masked = {ch.id: ch.masked for ch in channels}
    with app.sessions() as session:
        summary = delivery_summary(session)
        failed = [failed_delivery(row, masked) for row in failed_deliveries(session, limit=10)]
    if summary:
        click.echo(f"outbox: {outbox_counts(summary)}")
    for r in failed:
        click.echo(f"  failed #{r['id']} {r['kind']} -> {r['channel']}: {r['last_error'] or '?'}")
    if failed:
        click.echo("  (monitor notify --retry-failed sends them again)")


def _failed_row(r: dict[str, object]) -> list[str]:
    cells = [r["id"], r["kind"], r["change_id"] or "-", r["channel"], r["attempts"]]
    return [str(c) for c in cells] + [str(r["last_error"] or "-")]


def alerts_status(app: App, db: StatusReader) -> StatusSection:
    """`monitor status`'s "alerts" block: outbox counts and the failed deliveries (named in
    ``monitor.cli.status_cmds.STATUS_SECTIONS``)."""
    from functools import cache

    from monitor.cli.status_cmds import StatusSection
    from monitor.errors import NotifyError
    from monitor.views import channel_record, failed_delivery, outbox_counts

    @cache
    def channels() -> list[Channel]:
        """As App.channels, from the alerts section alone (monitor.configview)."""
        from monitor.notify.channels import load_channels

        try:
            env = dict(app.env) if app.env is not None else None
            return load_channels(app.config_view.alerts(), env)
        except NotifyError:
            return []

    summary = db.delivery_summary()
    failed = db.failed_deliveries()
    # The channels (Apprise) are loaded only to name a failed row's channel, or for --json
    masked = {ch.id: ch.masked for ch in channels()} if failed else {}
    records = [failed_delivery(r, masked) for r in failed]
    counts = outbox_counts(summary) or "empty"
    return StatusSection(
        key="alerts",
        title=f"Alert outbox ({counts}); failed deliveries",
        columns=["id", "kind", "change", "channel", "attempts", "last error"],
        rows=[_failed_row(r) for r in records],
        data=lambda: {
            "outbox": summary,
            "failed": records,
            "channels": [channel_record(ch) for ch in channels()],
        },
        empty="no failed deliveries",
    )
