"""The web desk in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright): filter, open, dismiss with a reason, keyboard triage, the map, hostile text.

Skipped with a reason where Chromium or Playwright is missing; `.ci/run` installs Chromium
so CI always runs these."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from monitor.cli import cli
from tests.conftest import url_string
from tests.web_support import fill_desk, serving

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("MONITOR_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install -y chromium; .ci/run does this)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page with everything a hostile page could do recorded: dialogs, errors."""

    def __init__(self, browser: Any):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def desk(fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    fill_desk(fresh_db, tmp_path)
    with serving(fresh_db) as base:
        yield base


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    tab = Watched(browser)
    try:
        yield tab
    finally:
        tab.close()


def _cli_changes(engine: Engine, tmp_path: Path) -> list[dict]:
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    db = url_string(engine.url)
    args = ["--config", str(tmp_path / "sources.yaml"), "--db", db]
    result = CliRunner().invoke(cli, [*args, "changes", "--all", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_filter_open_and_dismiss_with_a_reason(
    desk: str, watched: Watched, fresh_db: Engine, tmp_path: Path
) -> None:
    page = watched.page
    page.goto(desk + "/")
    # The source and language counts arrive after the page (htmx), then filter too.
    page.locator(".evidence-facets a", has_text="Journal du Cloud").wait_for()
    page.get_by_role("link", name="Huawei").first.click()
    page.wait_for_url("**entity=huawei**")
    rows = page.locator("tr.change")
    assert rows.count() == 2
    assert "Alibaba" not in page.locator("table.changes").inner_text()
    # Search within the filter.
    page.fill("#q", "ascend")
    page.press("#q", "Enter")
    page.wait_for_url("**q=ascend**")
    assert page.locator("tr.change").count() == 1
    row = page.locator("tr.change").first
    change_id = int(row.get_attribute("data-id") or 0)
    # Dismiss with a reason, in place (htmx swaps the row).
    row.locator("details.dismiss summary").click()
    row.locator("input.reason").fill("a rumour, not a product")
    row.locator(".act-dismiss").click()
    swapped = page.locator(f"#change-{change_id}")
    swapped.locator(".review-dismissed").wait_for()
    # The state survives a reload, shows on the change's page and in `monitor changes`.
    page.reload()
    assert "state-dismissed" in (page.locator(f"#change-{change_id}").get_attribute("class") or "")
    page.locator(f"#change-{change_id} a.open").click()
    page.wait_for_url(f"**/changes/{change_id}")
    assert "a rumour, not a product" in page.inner_text("dl.fact")
    # Confirm another change with its row's button; the state survives a reload too.
    page.goto(desk + "/?kind=model")
    other = page.locator("tr.change").first
    other_id = int(other.get_attribute("data-id") or 0)
    other.locator(".act-confirm").click()
    page.locator(f"#change-{other_id} .review-confirmed").wait_for()
    page.reload()
    assert "state-confirmed" in (page.locator(f"#change-{other_id}").get_attribute("class") or "")
    cli_view = {c["id"]: c for c in _cli_changes(fresh_db, tmp_path)}
    assert cli_view[change_id]["state"] == "dismissed"
    assert cli_view[change_id]["dismiss_reason"] == "a rumour, not a product"
    assert cli_view[other_id]["state"] == "confirmed"
    assert watched.errors == [] and watched.dialogs == []


def test_keyboard_moves_opens_and_dismisses(desk: str, watched: Watched) -> None:
    page = watched.page
    page.goto(desk + "/")
    ids = [r.get_attribute("data-id") for r in page.locator("tr.change").all()]
    assert len(ids) >= 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    current = page.locator("tr.change.current")
    assert current.count() == 1 and current.get_attribute("data-id") == ids[1]
    # d asks for the reason in the row; Enter dismisses it.
    page.keyboard.press("d")
    reason = page.locator(f"#change-{ids[1]} input.reason")
    assert reason.evaluate("el => el === document.activeElement")
    page.keyboard.type("duplicate of an older change")
    page.keyboard.press("Enter")
    page.locator(f"#change-{ids[1]} .review-dismissed").wait_for()
    assert page.locator("tr.change.current").get_attribute("data-id") == ids[1]
    # o opens the current change.
    # c confirms the next one, u makes it unread again.
    page.keyboard.press("j")
    page.keyboard.press("c")
    page.locator(f"#change-{ids[2]} .review-confirmed").wait_for()
    page.keyboard.press("u")
    page.locator(f"#change-{ids[2]} .review-unread").wait_for()
    page.keyboard.press("k")
    page.keyboard.press("o")
    page.wait_for_url(f"**/changes/{ids[1]}")
    assert "duplicate of an older change" in page.inner_text("dl.fact")
    assert watched.errors == [] and watched.dialogs == []


def test_the_map_shows_a_discovered_country(desk: str, watched: Watched) -> None:
    page = watched.page
    page.goto(desk + "/companies/alibaba")
    mexico = page.locator("svg.worldmap path#MX")
    assert "discovered" in (mexico.get_attribute("class") or "")
    fill = mexico.evaluate("el => getComputedStyle(el).fill")
    land = page.locator("svg.worldmap path#BR").evaluate("el => getComputedStyle(el).fill")
    baseline = page.locator("svg.worldmap path#MY").evaluate("el => getComputedStyle(el).fill")
    assert fill != land and fill != baseline and baseline != land
    box = mexico.bounding_box()
    assert box is not None and box["width"] > 10 and box["height"] > 10  # drawn, not hidden
    assert "Mexico (MX)" in page.inner_text(".factlists")
    assert watched.errors == [] and watched.dialogs == []


def test_a_hostile_title_runs_no_script(desk: str, watched: Watched) -> None:
    page = watched.page
    page.goto(desk + "/?q=Saudi")
    row = page.locator("tr.change").first
    headline = row.locator("td.headline").inner_text()
    assert "<script>" in headline and "{{ 7*7 }}" in headline  # shown as text
    assert row.locator("td.headline a").count() == 0  # the javascript: link was dropped
    assert page.locator("td.headline img").count() == 0
    row.locator("a.open").click()
    page.wait_for_load_state()
    assert "{{ 7*7 }}" in page.inner_text("ul.evidence")
    page.goto(desk + "/feed.atom")
    assert watched.dialogs == [], watched.dialogs
    assert watched.errors == [], watched.errors


def test_the_change_page_dismisses_on_enter_and_confirms(desk: str, watched: Watched) -> None:
    page = watched.page
    page.goto(desk + "/?kind=chip")
    page.locator("tr.change a.open").first.click()
    page.wait_for_url("**/changes/*")
    page.fill("input[name=reason]", "a rumour")
    with page.expect_navigation():
        page.press("input[name=reason]", "Enter")
    assert "dismissed" in page.inner_text("dl.fact") and "a rumour" in page.inner_text("dl.fact")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    review = page.inner_text("dl.fact")
    assert "confirmed" in review and "a rumour" not in review
    assert watched.errors == [] and watched.dialogs == []
