"""The view layer: one spelling of times, durations, headlines and CSV cells."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.conftypes import parse_duration_text
from monitor.errors import ConfigError
from monitor.notify.render import Renderer
from monitor.views import headline, iso_z, parse_since

NOW = datetime(2025, 3, 10, 12, 0)


def test_iso_z_keeps_or_drops_microseconds() -> None:
    moment = datetime(2025, 3, 4, 8, 0, 5, 123456)
    assert iso_z(moment) == "2025-03-04T08:00:05.123456Z"  # changes --format json
    assert iso_z(moment, "seconds") == "2025-03-04T08:00:05Z"  # status --json
    assert iso_z(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        (" 12H ", NOW - timedelta(hours=12)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2025-03-01", datetime(2025, 3, 1)),
        ("2025-03-01T10:00:00+02:00", datetime(2025, 3, 1, 8, 0)),
        ("2025-03-01T10:00:00Z", datetime(2025, 3, 1, 10, 0)),
        ("99999999999d", datetime.min),  # before any date there is
    ],
)
def test_since_is_a_duration_back_or_a_date(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["15m", "30s", "yesterday", "7 days", ""])
def test_since_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since(text, NOW)


def test_one_duration_syntax_with_units_chosen_by_the_caller() -> None:
    assert parse_duration_text("1.5h") == timedelta(minutes=90)
    assert parse_duration_text("90s") == timedelta(seconds=90)
    assert parse_duration_text("90s", units="hdw") is None
    assert parse_duration_text("15x") is None
    with pytest.raises(OverflowError):
        parse_duration_text("99999999999w")


def test_a_huge_interval_is_one_clear_config_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {name: a, kind: feed, url: 'https://a.test/', every: 99999999999d}\n"
        "alerts:\n  source_down_after: 99999999999w\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "bad interval '99999999999d'" in text
    assert "bad duration '99999999999w'" in text


def test_headline_wordings() -> None:
    assert headline("region", "Mexico (MX)", "new", "planned") == "new region Mexico (MX) (planned)"
    assert headline("region", "Mexico (MX)", "new", "planned", with_status=False) == (
        "new region Mexico (MX)"
    )
    assert headline("model", "Qwen3", "live", "live") == "model Qwen3 now live"
    assert (
        headline("model", "Qwen3", "live", "live", live="is now live") == "model Qwen3 is now live"
    )


def _context(value: str, change: str = "new") -> dict[str, object]:
    return {
        "id": 1, "entity": "x", "entity_name": "X", "kind": "model", "value": value,
        "value_display": value, "change": change, "status": "planned", "at": NOW,
        "published": None, "sources": 1, "evidence": [], "first": None, "dismissed": False,
    }  # fmt: skip


def test_template_headline_escapes_for_each_format() -> None:
    renderer, ctx = Renderer(None), _context("A<b>&*c*")
    html = renderer.render("change", "html", ctx).body
    assert "new model <b>A&lt;b&gt;&amp;*c*</b> (planned)" in html
    md = renderer.render("change", "markdown", ctx).body
    assert r"new model **A\<b\>&\*c\*** (planned)" in md
    text = renderer.render("change", "text", ctx)
    assert text.body.startswith("X: new model A<b>&*c* (planned)\n")
    assert text.title == "X: new model A<b>&*c*"
    digest = {"changes": [_context("A<b>", "live")], "count": 1, "route": "all"}
    assert "model A&lt;b&gt; now live, 1 source" in renderer.render("digest", "html", digest).body


def test_status_lists_configured_sources_then_the_removed_ones() -> None:
    from monitor.config import Config
    from monitor.store.models import SourceRow
    from monitor.views import source_status, source_status_row, status_order

    config = Config.model_validate(
        {
            "sources": [
                {"name": "b", "kind": "feed", "url": "https://b.test/", "enabled": False},
                {"name": "a", "kind": "feed", "url": "https://a.test/"},
            ]
        }
    )
    failing = SourceRow(
        name="a", kind="feed", url="https://a.test/", last_error="x" * 120,
        last_error_at=NOW, consecutive_failures=3, next_due_at=NOW, retry_after_until=NOW,
        items_count=4,
    )  # fmt: skip
    gone = SourceRow(name="old", kind="ingest", url="ingest:old", items_count=2)
    entries = status_order(config.sources, {"old": gone, "a": failing})
    assert [(name, src is not None, row is not None) for name, src, row in entries] == [
        ("b", True, False),
        ("a", True, True),
        ("old", False, True),
    ]
    rows = [source_status_row(source_status(*entry), entry[2]) for entry in entries]
    assert rows[0] == ["b (disabled)", "feed", "never", "-", "0", "now", "0"]
    name, _, success, error, failures, next_due, items = rows[1]
    assert (name, success, failures, items) == ("a", "never", "3", "4")
    assert error.startswith("2025-03-10 12:00 xxx") and error.endswith("...") and len(error) == 80
    assert next_due == "2025-03-10 12:00 (Retry-After)"
    assert rows[2][:2] == ["old (removed)", "ingest"]
