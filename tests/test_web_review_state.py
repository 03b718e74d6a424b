"""The web API sets the same review state as the CLI (monitor.store.review.set_state):
every state, over real HTTP, visible in `monitor changes` and back."""

from __future__ import annotations

from pathlib import Path

import requests
from sqlalchemy import Engine

from monitor import tasks
from monitor.store.db import session_factory
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    item,
    make_app,
    make_config,
    store,
)
from tests.test_web_http import _cli_json, desk  # noqa: F401 (the fixture)
from tests.web_support import serving


def test_every_state_through_the_api_shows_in_the_cli(
    desk: str,  # noqa: F811
    fresh_db: Engine,
    tmp_path: Path,
) -> None:
    target = requests.get(f"{desk}/api/changes?limit=1", timeout=10).json()["changes"][0]["id"]

    def post(body: dict) -> requests.Response:
        return requests.post(f"{desk}/api/changes/{target}/state", json=body, timeout=10)

    def in_cli() -> dict:
        return next(c for c in _cli_json(fresh_db, tmp_path, "--all") if c["id"] == target)

    for state in ("seen", "confirmed", "unread"):
        answer = post({"state": state})
        assert answer.status_code == 200, answer.text
        assert answer.json()["change"]["state"] == state and in_cli()["state"] == state
    first = post({"state": "dismissed", "reason": "an office"}).json()
    assert first["change"]["state"] == "dismissed"
    again = post({"state": "dismissed", "reason": "a sales office"}).json()["change"]
    assert again["dismiss_reason"] == "a sales office"
    assert in_cli()["dismiss_reason"] == "a sales office" and in_cli()["dismissed"] is True
    back = post({"state": "confirmed"}).json()["change"]
    assert back["state"] == "confirmed" and back["dismissed"] is False
    assert post({"state": "read"}).status_code == 400
    page = requests.get(f"{desk}/changes/{target}", timeout=10).text
    assert "review-confirmed" in page


def test_a_backfill_change_is_marked_on_the_page(fresh_db: Engine, tmp_path: Path) -> None:
    store(
        session_factory(fresh_db),
        [item("Alibaba plans Mexico region", url="https://a.test/1", published="2025-03-01")],
    )
    config = make_config(tmp_path, max_age="7d")  # a 2025 item is old news now
    tasks.process_pending(make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES)))
    with serving(fresh_db) as base:
        page = requests.get(f"{base}/", timeout=10).text
        assert "Mexico (MX)" in page and 'class="badge backfill"' in page
        assert requests.get(f"{base}/api/changes", timeout=10).json()["changes"][0]["backfill"]
