"""Review state (issue 8, item 2): unread / seen / confirmed / dismissed, shared by the CLI
and the web desk through monitor.store.review; the `changes` filters and table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from monitor import tasks
from monitor.cli import cli
from monitor.errors import ReviewError
from monitor.store.db import session_factory, transaction
from monitor.store.models import ChangeRow, DeliveryRow, FactRow
from monitor.store.review import set_state
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    apprise_file,
    item,
    json_channel,
    make_app,
    make_config,
    store,
)
from tests.test_report import _json, logged  # noqa: F401 (the fixture)


def run(args: list[str], *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, *extra], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def by_value(changes: list[dict]) -> dict[str, dict]:
    return {c["value"]: c for c in changes}


def test_states_through_the_cli(logged: list[str]) -> None:  # noqa: F811
    log = by_value(_json(logged))
    assert {c["state"] for c in log.values()} == {"unread"}
    mx, chip, qwen = log["MX"]["id"], log["Ascend 910C"]["id"], log["Qwen3"]["id"]

    code, out, _ = run(logged, "seen", str(mx), str(qwen))
    assert code == 0 and out.splitlines() == [
        f"change #{mx} marked seen",
        f"change #{qwen} marked seen",
    ]
    code, out, _ = run(logged, "confirm", str(qwen))
    assert out.strip() == f"change #{qwen} marked confirmed"
    code, out, _ = run(logged, "confirm", str(qwen))
    assert out.strip() == f"change #{qwen} is already confirmed"
    assert [c["value"] for c in _json(logged, "--state", "seen")] == ["MX"]
    assert [c["value"] for c in _json(logged, "--state", "unread")] == ["Ascend 910C"]

    code, out, _ = run(logged, "dismiss", str(chip), "--reason", "a rumour")
    assert out.strip() == f"change #{chip} dismissed: a rumour"
    code, out, _ = run(logged, "dismiss", str(chip), "--reason", "  not a  product ")
    assert out.strip() == (
        f"change #{chip} was already dismissed; reason updated: not a product (was: a rumour)"
    )
    dismissed = by_value(_json(logged, "--state", "dismissed"))["Ascend 910C"]
    assert dismissed["dismissed"] is True and dismissed["state"] == "dismissed"
    assert dismissed["dismiss_reason"] == "not a product"
    assert "Ascend 910C" not in by_value(_json(logged))  # hidden without --all or --state

    code, out, _ = run(logged, "unread", str(chip))
    assert out.strip() == f"change #{chip} marked unread (no longer dismissed)"
    back = by_value(_json(logged))["Ascend 910C"]
    assert (
        back["state"] == "unread" and back["dismissed"] is False and back["dismiss_reason"] is None
    )

    code, out, err = run(logged, "seen", str(mx), "999")
    assert code == 1 and f"change #{mx} is already seen" in out and "no change #999" in err
    code, _, err = run(logged, "dismiss", str(mx), "--reason", " ")
    assert code == 2 and "say why" in err
    code, _, err = run(logged, "changes", "--state", "read")
    assert code == 2 and "unread" in err


def test_dismissal_is_about_the_fact_and_can_be_undone(
    fresh_db: Engine, tmp_path: Path, http_server: object
) -> None:
    """A dismissed fact gives no further alert and its unsent alerts are cancelled;
    confirming it restores the fact. The web calls the same set_state."""
    sessions = session_factory(fresh_db)
    config = make_config(tmp_path, apprise_file(json_channel("http://127.0.0.1:9/hook")))
    store(
        sessions,
        [item("Alibaba plans Mexico region", url="https://a.test/1", published="2025-03-01")],
    )
    tasks.process_pending(
        make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES)), now=datetime(2025, 3, 2)
    )
    with transaction(sessions) as s:
        change = s.scalars(select(ChangeRow)).one()
        result = set_state(s, change.id, "dismissed", datetime(2025, 3, 3), "an office")
        assert result is not None and result.changed
    with sessions() as s:
        fact = s.scalars(select(FactRow)).one()
        assert fact.dismissed_at is not None and fact.dismiss_reason == "an office"
        assert [d.state for d in s.scalars(select(DeliveryRow))] == ["cancelled"]
    with transaction(sessions) as s:
        again = set_state(s, change.id, "dismissed", datetime(2025, 3, 4), "an office")
        assert again is not None and not again.changed
        assert again.describe().endswith("was already dismissed: an office")
        with pytest.raises(ReviewError, match="unknown state 'read'"):
            set_state(s, change.id, "read", datetime(2025, 3, 4))
        with pytest.raises(ReviewError, match="needs a reason"):
            set_state(s, change.id, "dismissed", datetime(2025, 3, 4), " ")
        assert set_state(s, 999, "seen", datetime(2025, 3, 4)) is None
        confirmed = set_state(s, change.id, "confirmed", datetime(2025, 3, 5))
        assert confirmed is not None and confirmed.previous == "dismissed"
    with sessions() as s:
        row = s.scalars(select(ChangeRow)).one()
        assert (row.state, row.dismissed_at, row.state_at) == (
            "confirmed",
            None,
            datetime(2025, 3, 5),
        )
        assert s.scalars(select(FactRow)).one().dismissed_at is None


def test_unknown_entity_lists_the_watchlist_ids(logged: list[str]) -> None:  # noqa: F811
    code, _, err = run(logged, "changes", "--entity", "alibabba")
    assert code == 2
    assert "unknown company 'alibabba' (watchlist ids: " in err
    assert "alibaba" in err and "huawei" in err and "deepseek" in err
    assert [c["value"] for c in _json(logged, "--entity", "huawei")] == ["Ascend 910C"]


def test_table_shows_names_and_headline_fitted_to_the_width(logged: list[str]) -> None:  # noqa: F811
    code, wide, _ = run(logged, "changes", env={"COLUMNS": "200"})
    assert code == 0
    assert "Mexico (MX)" in wide and "Huawei Ascend 910C planned" in wide
    assert "Alibaba released Qwen3" in wide  # the first headline of two
    assert "Qwen3 is live" not in wide
    code, narrow, _ = run(logged, "changes", env={"COLUMNS": "90"})
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) <= 90, narrow
    assert "Mexico (MX)" in narrow and "…" in narrow  # headlines cut, values kept


def test_backfill_is_marked_and_filtered(fresh_db: Engine, tmp_path: Path) -> None:
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item("Alibaba plans Mexico region", url="https://a.test/1", published="2025-03-01"),
            item("Huawei Ascend 910C planned", url="https://a.test/2", published="2099-01-01"),
        ],
    )
    # max_age 7d: the 2025 item is old news when stored (now), the 2099 one is not
    app = make_app(fresh_db, make_config(tmp_path, max_age="7d"), RuleExtractor(DEFAULT_RULES))
    report = tasks.process_pending(app)
    assert report.backfill == 1
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    args = [
        "--config",
        str(tmp_path / "sources.yaml"),
        "--db",
        fresh_db.url.render_as_string(hide_password=False),
    ]
    assert {c["value"]: c["backfill"] for c in _json(args)} == {"MX": True, "Ascend 910C": False}
    assert [c["value"] for c in _json(args, "--backfill")] == ["MX"]
    assert [c["value"] for c in _json(args, "--no-backfill")] == ["Ascend 910C"]
    _, table, _ = run(args, "changes", env={"COLUMNS": "160"})
    mx_line = next(line for line in table.splitlines() if "Mexico (MX)" in line)
    assert mx_line.split()[0].endswith("*")
    assert "*: backfill, recorded without an alert" in table
    shown = run(args, "show", str(_json(args, "--backfill")[0]["id"]))[1]
    assert "state: unread" in shown and "backfill: recorded without an alert" in shown
    assert json.loads(run(args, "changes", "--format", "json")[1])[0]["state"] == "unread"


def test_streamed_pages_give_the_log_exactly_once_in_order(
    fresh_db: Engine, tmp_path: Path
) -> None:
    """`changes --format json` reads the log through iter_changes a page at a time: the
    pages together are the one-query log, no change twice, none missing."""
    from monitor.store.queries import ChangeQuery, find_changes, iter_changes

    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item(
                f"Alibaba plans {place} region",
                url=f"https://a.test/{n}",
                published=f"2025-03-0{n % 3 + 1}",
            )
            for n, place in enumerate(["Mexico", "Riyadh", "Saudi", "Mexico again"])
        ]
        + [item("Huawei Ascend 910C planned", url="https://h.test/1", published="2025-03-02")],
    )
    tasks.process_pending(make_app(fresh_db, make_config(tmp_path), RuleExtractor(DEFAULT_RULES)))
    with sessions() as session:
        whole = [v.id for v in find_changes(session, ChangeQuery()).changes]
        paged = [v.id for v in iter_changes(session, ChangeQuery(), page=1)]
        evidence = {v.id: len(v.evidence) for v in iter_changes(session, ChangeQuery(), page=2)}
    assert len(whole) >= 3 and paged == whole
    assert sum(evidence.values()) == 5  # every item's observation, once
