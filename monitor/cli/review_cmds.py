"""Commands: seen, confirm, unread, dismiss (the review state of changes, as on the web desk)."""

from __future__ import annotations

import sys

import click

from monitor.app import App
from monitor.cli.main import EXIT_FAILED, cli


def _set(app: App, ids: tuple[int, ...], state: str, reason: str | None = None) -> None:
    """Set ``state`` on each change, one line each; exit 1 when an id is unknown."""
    from monitor.store.db import transaction, utcnow
    from monitor.store.review import set_state

    missing = []
    with transaction(app.sessions) as session:
        now = utcnow()
        for change_id in ids:
            result = set_state(session, change_id, state, now, reason)
            if result is None:
                missing.append(change_id)
            else:
                click.echo(result.describe())
    for change_id in missing:
        click.echo(f"error: no change #{change_id} (see `monitor changes`)", err=True)
    if missing:
        sys.exit(EXIT_FAILED)


IDS = click.argument("ids", type=int, nargs=-1, required=True, metavar="ID...")


@cli.command()
@IDS
@click.pass_obj
def seen(app: App, ids: tuple[int, ...]) -> None:
    """Mark changes as seen (read, not yet judged).

    \b
    Example:
      monitor seen 12 13 14
    """
    _set(app, ids, "seen")


@cli.command()
@IDS
@click.pass_obj
def confirm(app: App, ids: tuple[int, ...]) -> None:
    """Mark changes as confirmed (checked: a real region, chip or model). Confirming a
    dismissed change undoes the dismissal.

    \b
    Example:
      monitor confirm 12
    """
    _set(app, ids, "confirmed")


@cli.command()
@IDS
@click.pass_obj
def unread(app: App, ids: tuple[int, ...]) -> None:
    """Mark changes as unread again (to review later).

    \b
    Example:
      monitor unread 12
    """
    _set(app, ids, "unread")


@cli.command()
@IDS
@click.option("--reason", required=True, help="Why it is a false positive (kept in the log).")
@click.pass_obj
def dismiss(app: App, ids: tuple[int, ...], reason: str) -> None:
    """Mark changes as false positives: their fact never alerts again, unsent alerts for it
    are cancelled, and the log shows them struck out (`monitor changes --all`). Dismissing
    a dismissed change again updates its reason, and says so. `monitor confirm`, `seen` or
    `unread` undo a dismissal.

    \b
    Examples:
      monitor dismiss 12 --reason "office, not a data centre"
      monitor dismiss 12 13 --reason "a rumour"
    """
    from monitor.store.review import clean_reason

    if not clean_reason(reason):
        raise click.BadParameter("say why (it is kept in the log)", param_hint="'--reason'")
    _set(app, ids, "dismissed", reason)
