"""Review commands on a real database: changes (table/json/csv), show, dismiss, report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from monitor import tasks
from monitor.cli import cli
from monitor.store.baseline import load_baseline
from monitor.store.db import session_factory, transaction
from monitor.types import Fact
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    item,
    make_app,
    make_config,
    store,
)


@pytest.fixture
def logged(fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A database with three changes (one from a hostile title); returns the CLI args."""
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    sessions = session_factory(fresh_db)
    with transaction(sessions) as s:
        load_baseline(s, [Fact("alibaba", "region", "MY", "live")])
    store(
        sessions,
        [
            item(
                '<script>alert("x")</script> Alibaba plans Mexico region',
                url="javascript:alert(1)",
                published="2025-03-04T08:00:00",
                source="Evil <b>Wire</b>",
            ),
            item(
                "Huawei Ascend 910C planned",
                url="https://h.test/1",
                published="2025-03-05T08:00:00",
            ),
            item("Alibaba released Qwen3", url="https://q.test/1", published="2025-04-29T08:00:00"),
            item(
                "Qwen3 is live, Alibaba says",
                url="https://q2.test/1",
                published="2025-04-30T08:00:00",
                source="Other",
            ),
        ],
    )
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=datetime(2025, 5, 1))
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    return [
        "--config",
        str(tmp_path / "sources.yaml"),
        "--db",
        fresh_db.url.render_as_string(hide_password=False),
    ]


def _json(args: list[str], *extra: str) -> list[dict]:
    result = CliRunner().invoke(cli, [*args, "changes", "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_changes_filters_and_formats(logged: list[str]) -> None:
    log = _json(logged)
    assert [(c["entity"], c["kind"], c["value"]) for c in log] == [
        ("alibaba", "model", "Qwen3"),
        ("huawei", "chip", "Ascend 910C"),
        ("alibaba", "region", "MX"),
    ]
    assert log[0]["sources"] == 2 and len(log[0]["evidence"]) == 2
    assert [c["value"] for c in _json(logged, "--entity", "huawei")] == ["Ascend 910C"]
    assert [c["value"] for c in _json(logged, "--kind", "region")] == ["MX"]
    # --published-since: the first article's date; --since: when monitor recorded it
    assert [c["value"] for c in _json(logged, "--published-since", "2025-04-01")] == ["Qwen3"]
    assert _json(logged, "--published-since", "7d") == []  # relative to now: these are old
    assert len(_json(logged, "--since", "2025-05-01")) == 3  # all recorded on May 1st
    assert _json(logged, "--since", "2025-05-02") == []
    assert _json(logged, "--since", "7d") == []
    rows = list(
        csv.DictReader(
            io.StringIO(CliRunner().invoke(cli, [*logged, "changes", "--format", "csv"]).output)
        )
    )
    assert [r["value"] for r in rows] == ["Qwen3", "Ascend 910C", "MX"]
    table = CliRunner().invoke(cli, [*logged, "changes"]).output
    assert "Ascend 910C" in table and "Qwen3" in table
    bad = CliRunner().invoke(cli, [*logged, "changes", "--since", "last tuesday"])
    assert bad.exit_code == 2 and "neither a duration" in bad.output
    huge = CliRunner().invoke(cli, [*logged, "changes", "--since", "99999999999d"])
    assert huge.exit_code == 0 and huge.exception is None, huge.output  # all of them
    assert len(_json(logged, "--since", "99999999999d")) == len(_json(logged))


def test_show_and_dismiss(logged: list[str]) -> None:
    runner = CliRunner()
    chip = next(c for c in _json(logged) if c["kind"] == "chip")
    shown = runner.invoke(cli, [*logged, "show", str(chip["id"])])
    assert shown.exit_code == 0
    assert "Ascend 910C" in shown.output and "https://h.test/1" in shown.output
    assert runner.invoke(cli, [*logged, "show", "999"]).exit_code == 1
    result = runner.invoke(cli, [*logged, "dismiss", str(chip["id"]), "--reason", "not a product"])
    assert result.exit_code == 0, result.output
    assert chip["id"] not in [c["id"] for c in _json(logged)]
    everything = _json(logged, "--all")
    dismissed = next(c for c in everything if c["id"] == chip["id"])
    assert dismissed["dismissed"] and dismissed["dismiss_reason"] == "not a product"
    listed = runner.invoke(cli, [*logged, "changes", "--all"]).output
    assert "(1 dismissed)" in listed  # struck out on a terminal; its state says so anyway
    assert re.search(rf"^{chip['id']} .* dismissed ", listed, re.MULTILINE), listed
    assert runner.invoke(cli, [*logged, "dismiss", "999", "--reason", "x"]).exit_code == 1
    blank = runner.invoke(cli, [*logged, "dismiss", str(chip["id"]), "--reason", "  "])
    assert blank.exit_code == 2 and "say why" in blank.output


def test_report_lists_every_change_and_escapes_scraped_text(
    logged: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    runner = CliRunner()
    chip = next(c for c in _json(logged) if c["kind"] == "chip")
    runner.invoke(cli, [*logged, "dismiss", str(chip["id"]), "--reason", "test"])
    result = runner.invoke(cli, [*logged, "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for change in _json(logged, "--all"):
        assert f'id="change-{change["id"]}"' in html
    assert "Mexico (MX)" in html and "Ascend 910C" in html and "Qwen3" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Evil &lt;b&gt;Wire&lt;/b&gt;" in html
    assert "javascript:" not in html
    assert not re.search(
        r"""(src|href)=["']?(https?:)?//(?!q2?\.test|h\.test)""", html
    )  # no assets
    assert "<link" not in html
    # baseline vs discovered
    assert re.search(r"Malaysia \(MY\)</td><td>live</td><td><span class=\"badge baseline\">", html)
    assert re.search(
        r"Mexico \(MX\)</td><td>planned</td><td><span class=\"badge discovered\">", html
    )
    assert f'<li class="dismissed" id="change-{chip["id"]}">' in html


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("https://e.test/a", "https://e.test/a"),
        (3, 3),
    ],
    ids=["equals", "plus", "at", "plain-url", "number"],
)
def test_csv_cells_cannot_run_as_formulas(cell: object, written: object) -> None:
    from monitor.views import csv_cell

    assert csv_cell(cell) == written
