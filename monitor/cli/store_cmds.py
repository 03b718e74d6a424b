"""Commands: init (create or upgrade the database, load the baseline)."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.app import App
from monitor.cli.main import cli

DEFAULT_BASELINE = "storage/baseline.yaml"


@cli.command()
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Seed facts to load [default: {DEFAULT_BASELINE} when present].",
)
@click.pass_obj
def init(app: App, baseline_path: Path | None) -> None:
    """Create or upgrade the database and load the baseline facts. Safe to run again.

    \b
    Example:
      monitor init
      monitor --db sqlite:////var/lib/monitor/monitor.db init --baseline seed.yaml
    """
    from monitor.store.baseline import load_baseline, read_baseline
    from monitor.store.db import make_engine, session_factory, transaction, upgrade

    explicit = baseline_path is not None
    path = baseline_path or Path(DEFAULT_BASELINE)
    facts = read_baseline(path) if (explicit or path.exists()) else []
    engine = make_engine(app.db_url)  # not app.engine: that one wants the schema in place
    try:
        upgrade(engine)
        if engine.url.get_backend_name() == "postgresql":
            from monitor.worker.queue import apply_schema, queue_available

            if not queue_available():
                click.echo(
                    "job queue not set up (for `monitor worker`: pip install 'monitor[postgres]')"
                )
            elif apply_schema(engine):  # the job queue of `monitor worker`
                click.echo("job queue tables created (Procrastinate)")
        with transaction(session_factory(engine)) as session:
            added, upgraded = load_baseline(session, facts)
        where = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    click.echo(f"database ready: {where}")
    if facts:
        click.echo(f"baseline {path}: {len(facts)} facts, {added} added, {upgraded} upgraded")
    else:
        click.echo("no baseline loaded (storage/baseline.yaml not found)")
