"""Retention (issue 9 item 8): fact-less items lose their text, then their rows, while
their dedupe keys stay; facts, changes and evidence are kept; SQLite gives space back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from monitor import tasks
from monitor.cli import cli
from monitor.retention import RetentionConfig
from monitor.store.db import session_factory, transaction, utcnow
from monitor.store.models import ChangeRow, ItemRow, ObservationRow, SeenKeyRow
from monitor.store.sources import known_urls
from tests.test_pipeline_support import RuleExtractor, item, make_app, make_config, store

RULES = [(r"Mexico", "alibaba", "region", "MX")]


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def texts(engine: Engine) -> dict[str, str]:
    with session_factory(engine)() as session:
        return {row.title: row.text for row in session.scalars(select(ItemRow))}


def news() -> list:  # type: ignore[type-arg]
    return [
        item("Alibaba Cloud plans Mexico region", "Mexico City, in 2026.", url="https://a.test/1",
             published="2025-03-04T08:00:00"),
        item("Weather", "Rain all week " * 300, url="https://a.test/2",
             published="2025-03-04T09:00:00"),
        *[item(f"Sports {n}", f"Match {n} " * 1000, url=f"https://a.test/s{n}",
               published="2025-03-04T10:00:00") for n in range(300)],
    ]  # fmt: skip


def test_prune_drops_texts_then_rows_keeps_keys_facts_and_evidence(
    fresh_db: Engine, tmp_path: Path
) -> None:
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(RULES))
    assert store(app.sessions, news()) == 302
    assert tasks.process_pending(app).new == 1
    month = utcnow() + timedelta(days=31)

    dry = tasks.prune(app, dry_run=True, now=month)
    assert (dry.texts, dry.deleted) == (301, 0)
    assert texts(fresh_db)["Weather"]  # a dry run changes nothing

    done = tasks.prune(app, now=month)
    assert (done.texts, done.deleted) == (301, 0)
    kept = texts(fresh_db)
    assert kept["Weather"] == "" and kept["Sports 7"] == ""
    assert kept["Alibaba Cloud plans Mexico region"] == "Mexico City, in 2026."

    half_year = utcnow() + timedelta(days=181)
    assert tasks.prune(app, dry_run=True, now=half_year).deleted == 301
    gone = tasks.prune(app, now=half_year)
    assert gone.deleted == 301
    assert count(fresh_db, ItemRow) == 1 and count(fresh_db, SeenKeyRow) == 301
    assert count(fresh_db, ChangeRow) == 1 and count(fresh_db, ObservationRow) == 1
    # Fetched again, the deleted items are duplicates, not news.
    assert store(app.sessions, news()) == 0
    with transaction(app.sessions) as session:
        assert known_urls(session, ["https://a.test/2", "https://a.test/new"]) == {"a.test/2"}
    assert tasks.process_pending(app).items == 0


def test_prune_forgets_the_keys_of_items_deleted_long_ago(fresh_db: Engine, tmp_path: Path) -> None:
    """seen_keys must not be the one table that grows for ever (the soak's database grew
    by a key per item published): the keys go after ``forget_keys_after``."""
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(RULES))
    store(app.sessions, news())
    tasks.process_pending(app)
    half_year = utcnow() + timedelta(days=181)
    assert tasks.prune(app, now=half_year).deleted == 301
    assert count(fresh_db, SeenKeyRow) == 301

    # keys kept for forget_keys_after (365d by default) after their item was deleted
    assert tasks.prune(app, now=half_year + timedelta(days=364)).keys == 0
    later = half_year + timedelta(days=366)
    assert tasks.prune(app, dry_run=True, now=later).keys == 301
    assert count(fresh_db, SeenKeyRow) == 301  # a dry run changes nothing
    assert tasks.prune(app, now=later).keys == 301
    assert count(fresh_db, SeenKeyRow) == 0
    assert count(fresh_db, ChangeRow) == 1 and count(fresh_db, ItemRow) == 1

    # none: kept for ever
    config = make_config(tmp_path)
    config.retention = RetentionConfig.model_validate({"forget_keys_after": "none"})
    forever = make_app(fresh_db, config, RuleExtractor(RULES))
    store(app.sessions, news())  # the forgotten items are stored again, once
    tasks.process_pending(app)
    assert tasks.prune(forever, now=half_year + timedelta(days=181)).deleted == 301
    assert tasks.prune(forever, now=half_year + timedelta(days=5000)).keys == 0
    assert count(fresh_db, SeenKeyRow) == 301


def test_keys_of_items_still_listed_are_not_forgotten(
    fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """forget_keys_after counts from when a deleted item was last seen in a listing: the
    soak's feeds listed their entries for 10 minutes, and keys forgotten 2 minutes after
    deletion brought them back as new items."""
    from monitor.store import items as items_module

    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(RULES))
    store(app.sessions, news())
    tasks.process_pending(app)
    half_year = utcnow() + timedelta(days=181)
    assert tasks.prune(app, now=half_year).deleted == 301

    seen_again = half_year + timedelta(days=300)
    monkeypatch.setattr(items_module, "utcnow", lambda: seen_again)
    assert store(app.sessions, news()) == 0  # still listed: duplicates, and seen now
    assert tasks.prune(app, now=half_year + timedelta(days=366)).keys == 0
    assert count(fresh_db, SeenKeyRow) == 301
    assert tasks.prune(app, now=seen_again + timedelta(days=366)).keys == 301


@pytest.mark.sqlite_only("SQLite's file size and incremental vacuum")
def test_prune_gives_sqlite_space_back(fresh_db: Engine, tmp_path: Path) -> None:
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(RULES))
    store(app.sessions, news())
    tasks.process_pending(app)
    report = tasks.prune(app, now=utcnow() + timedelta(days=181))
    assert report.bytes_before is not None and report.bytes_after is not None
    assert report.bytes_after < report.bytes_before / 2, report


def test_prune_command_and_retention_config(tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "retention:\n  drop_text_after: 7d\n  delete_after: 90d\n  forget_keys_after: 2m\n"
        "sources: []\n"
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", db_url, "prune", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "0 item texts would be emptied, 0 items would be deleted, "
        "0 dedupe keys of deleted items would be dropped"
    )
    config.write_text("retention:\n  keep_forever: yes\nsources: []\n")
    bad = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "prune"])
    assert bad.exit_code == 2 and "keep_forever" in bad.output
