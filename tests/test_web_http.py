"""The web desk over real HTTP (uvicorn on 127.0.0.1), without a browser: API paging,
the Atom feed, filters, security (Origin, CSRF, token, CSP), health."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import Engine

from monitor.cli import cli
from monitor.web.security import Guard
from tests.conftest import url_string
from tests.test_pipeline_support import item
from tests.web_support import HOSTILE_TITLE, desk_items, fill_desk, serving


@pytest.fixture
def desk(fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    fill_desk(fresh_db, tmp_path)
    with serving(fresh_db) as base:
        yield base


def _cli_json(engine: Engine, tmp_path: Path, *args: str) -> list[dict]:
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(tmp_path / "sources.yaml"),
            "--db",
            url_string(engine.url),
            "changes",
            "--all",
            "--format",
            "json",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_api_pages_through_exactly_the_change_log(
    fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    many = desk_items() + [
        item(f"Alibaba released Qwen3 and DeepSeek-R2 news {n}", url=f"https://m.test/{n}",
             published=f"2025-05-{10 + n:02d}T08:00:00", source=f"Outlet {n}")
        for n in range(3)
    ]  # fmt: skip
    fill_desk(fresh_db, tmp_path, many)
    expected = _cli_json(fresh_db, tmp_path)
    assert len(expected) >= 6
    with serving(fresh_db) as base:
        seen: list[dict] = []
        cursor: str | None = None
        pages = 0
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            answer = requests.get(f"{base}/api/changes", params=params, timeout=10)
            assert answer.status_code == 200
            body = answer.json()
            assert set(body) == {"changes", "next"}
            seen += body["changes"]
            pages += 1
            cursor = body["next"]
            if cursor is None:
                break
        one = requests.get(f"{base}/api/changes/{seen[0]['id']}", timeout=10).json()
    ids = [c["id"] for c in seen]
    assert len(ids) == len(set(ids)), "an id came twice"
    assert sorted(ids) == sorted(c["id"] for c in expected), "the API and the CLI disagree"
    assert pages == (len(expected) + 1) // 2
    # Newest detected first, and each object is the one `changes --format json` prints.
    assert [c["at"] for c in seen] == sorted((c["at"] for c in seen), reverse=True)
    by_id = {c["id"]: c for c in expected}
    assert all(c == by_id[c["id"]] for c in seen)
    assert one == by_id[seen[0]["id"]]


def test_api_refuses_a_bad_cursor_and_limit(desk: str) -> None:
    assert requests.get(f"{desk}/api/changes?cursor=%%%", timeout=10).status_code == 400
    assert requests.get(f"{desk}/api/changes?limit=501", timeout=10).status_code == 400
    assert requests.get(f"{desk}/api/changes/999999", timeout=10).status_code == 404


def test_feed_is_atom_that_feedparser_reads_without_bozo(desk: str) -> None:
    answer = requests.get(f"{desk}/feed.atom", timeout=10)
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    api = requests.get(f"{desk}/api/changes?limit=500", timeout=10).json()["changes"]
    assert len(feed.entries) == len(api)
    assert any("Ascend 910C" in t for t in titles)
    hostile = [e for e in feed.entries if "Evil" in e.content[0].value]
    assert hostile and "<script>" not in hostile[0].content[0].value
    # Filters and limit as query parameters.
    only = feedparser.parse(
        requests.get(f"{desk}/feed.atom?entity=huawei&limit=1", timeout=10).content
    )
    assert len(only.entries) == 1 and "Huawei" in only.entries[0].title
    assert requests.get(f"{desk}/feed.atom?limit=501", timeout=10).status_code == 400


def test_filters_search_and_counts_on_the_change_log(desk: str) -> None:
    page = requests.get(f"{desk}/", params={"q": "frankfurt"}, timeout=10).text
    assert "Germany (DE)" in page and "Ascend 910C" not in page
    french = requests.get(f"{desk}/", params={"lang": "fr"}, timeout=10).text
    assert "Mexico (MX)" in french and "Qwen3" not in french
    chips = requests.get(f"{desk}/", params={"kind": "chip"}, timeout=10).text
    assert re.search(r"1 change\b", chips)
    # The evidence's counts: a fragment for htmx, inline with counts=all (no script).
    later = requests.get(f"{desk}/facets", params={"kind": "region"}, timeout=10).text
    assert "Journal du Cloud" in later and "Chip Daily" not in later
    inline = requests.get(f"{desk}/", params={"kind": "region", "counts": "all"}, timeout=10)
    assert "Journal du Cloud" in inline.text and "Chip Daily" not in inline.text
    bad = requests.get(f"{desk}/", params={"kind": "planet"}, timeout=10)
    assert bad.status_code == 400 and "planet" in bad.text


def test_backfill_changes_are_marked(desk: str) -> None:
    changes = requests.get(f"{desk}/api/changes?limit=500", timeout=10).json()["changes"]
    page = requests.get(f"{desk}/?limit=500", timeout=10).text
    for change in changes:
        row = re.search(rf'<tr [^>]*id="change-{change["id"]}".*?</tr>', page, re.S)
        assert row, change["id"]
        assert ('class="badge backfill"' in row.group(0)) is change["backfill"], change["id"]
    only = requests.get(f"{desk}/api/changes?backfill=true&limit=500", timeout=10).json()
    assert [c["value"] for c in only["changes"]] == ["DeepSeek-R2"]


def test_hostile_title_is_escaped_and_links_are_http_only(desk: str) -> None:
    page = requests.get(f"{desk}/", timeout=10)
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in html  # shown, not evaluated
    assert 'href="javascript:' not in html
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_foreign_origin_is_refused_local_script_is_not(desk: str) -> None:
    target = requests.get(f"{desk}/api/changes?limit=1", timeout=10).json()["changes"][0]["id"]
    body = {"state": "dismissed", "reason": "not a data centre"}
    foreign = requests.post(
        f"{desk}/api/changes/{target}/state",
        json=body,
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert foreign.status_code == 403
    for headers in ({"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        sneaky = requests.post(
            f"{desk}/api/changes/{target}/state", json=body, headers=headers, timeout=10
        )
        assert sneaky.status_code == 403, headers
    assert requests.get(f"{desk}/api/changes/{target}", timeout=10).json()["dismissed"] is False
    local = requests.post(f"{desk}/api/changes/{target}/state", json=body, timeout=10)
    assert local.status_code == 200, local.text
    assert local.json()["change"]["state"] == "dismissed"
    assert local.json()["change"]["dismiss_reason"] == "not a data centre"
    assert local.json()["message"] == f"change #{target} dismissed: not a data centre"
    again = requests.post(
        f"{desk}/api/changes/{target}/state",
        json={"state": "dismissed", "reason": "an office"},
        timeout=10,
    ).json()
    assert "reason updated: an office" in again["message"]
    confirmed = requests.post(
        f"{desk}/api/changes/{target}/state", json={"state": "confirmed"}, timeout=10
    ).json()
    assert confirmed["change"]["state"] == "confirmed" and not confirmed["change"]["dismissed"]
    refused = requests.post(
        f"{desk}/api/changes/{target}/state", json={"state": "dismissed"}, timeout=10
    )
    assert refused.status_code == 400 and "reason" in refused.json()["error"]


def test_forms_need_their_csrf_token(desk: str) -> None:
    page = requests.get(f"{desk}/", timeout=10).text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert token
    change_id = re.search(r'data-id="(\d+)"', page)
    assert change_id
    form = {"id": change_id.group(1), "state": "dismissed", "reason": "dup"}
    refused = requests.post(f"{desk}/changes/state", data=form, timeout=10, allow_redirects=False)
    assert refused.status_code == 403
    done = requests.post(
        f"{desk}/changes/state",
        data={**form, "csrf": token.group(1), "next": "/"},
        timeout=10,
        allow_redirects=False,
    )
    assert done.status_code == 303
    assert requests.get(f"{desk}/api/changes/{change_id.group(1)}", timeout=10).json()["dismissed"]


def test_a_token_guards_api_and_pages(fresh_db: Engine, tmp_path: Path) -> None:
    fill_desk(fresh_db, tmp_path)
    with serving(fresh_db, Guard(token="s3cret-token", loopback=False)) as base:
        assert requests.get(f"{base}/api/changes", timeout=10).status_code == 401
        bearer = {"Authorization": "Bearer s3cret-token"}
        assert requests.get(f"{base}/api/changes", headers=bearer, timeout=10).status_code == 200
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(f"{base}/feed.atom", headers=wrong, timeout=10).status_code == 401
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        browser = requests.Session()
        first = browser.get(f"{base}/sources", timeout=10, allow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        login = browser.get(f"{base}/login?next=/sources", timeout=10).text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', login)
        assert csrf
        bad = browser.post(
            f"{base}/login",
            data={"token": "nope", "csrf": csrf.group(1), "next": "/sources"},
            timeout=10,
        )
        assert bad.status_code == 401
        good = browser.post(
            f"{base}/login",
            data={"token": "s3cret-token", "csrf": csrf.group(1), "next": "//evil.example/"},
            timeout=10,
            allow_redirects=False,
        )
        assert good.status_code == 303 and good.headers["location"] == "/"
        assert "HttpOnly" in good.headers["set-cookie"]
        assert browser.get(f"{base}/sources", timeout=10).status_code == 200


def test_healthz_reports_the_database(desk: str) -> None:
    answer = requests.get(f"{desk}/healthz", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True and body["database"] == "ok"
    assert "daemon_heartbeat_age_s" in body


def test_pages_answer(desk: str) -> None:
    first = requests.get(f"{desk}/api/changes?limit=1", timeout=10).json()["changes"][0]
    change = requests.get(f"{desk}/changes/{first['id']}", timeout=10)
    assert change.status_code == 200 and "Status history" in change.text
    assert requests.get(f"{desk}/changes/999999", timeout=10).status_code == 404
    company = requests.get(f"{desk}/companies/alibaba", timeout=10).text
    assert 'class="c MX planned discovered"' in company
    assert 'class="c MY live baseline"' in company
    sources = requests.get(f"{desk}/sources", timeout=10).text
    row = re.search(r"<tr [^>]*>\s*<td><strong>Journal du Cloud</strong>.*?</tr>", sources, re.S)
    assert row, sources
    numbers = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
    assert numbers == ["0", "1", "1"]  # failures in a row, items, facts found
    assert requests.get(f"{desk}/static/htmx.min.js", timeout=10).status_code == 200
    assert HOSTILE_TITLE not in sources


def test_a_public_bind_without_a_token_is_refused(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_WEB_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli,
        ["--db", empty_db_url, "serve", "--host", "0.0.0.0"],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "MONITOR_WEB_TOKEN" in lines[0], result.output
