"""The web desk's counts (store/changelog.py) agree with ChangeQuery's own count and
per-facet counts, whatever the filters; narrowing a search changes no answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.store.changelog import change_facets, evidence_facets, narrow_search
from monitor.store.db import session_factory, transaction
from monitor.store.queries import (
    ChangeQuery,
    Facet,
    count_changes,
    count_changes_by,
    find_changes,
)
from monitor.store.review import set_state
from tests.web_support import fill_desk

FACETS: tuple[Facet, ...] = (
    "entity", "kind", "change", "status", "state", "backfill", "source", "lang",
)  # fmt: skip
QUERIES = {
    "all": ChangeQuery(),
    "company": ChangeQuery(entity="alibaba"),
    "kind and status": ChangeQuery(kind="region", status="planned"),
    "language": ChangeQuery(lang="fr"),
    "source and kind": ChangeQuery(source="Model Watch", kind="model"),
    "search": ChangeQuery(search="mexico"),
    "search and language": ChangeQuery(search="alibaba", lang="en"),
    "dismissed only": ChangeQuery(state="dismissed"),
    "unread, not backfill": ChangeQuery(state="unread", backfill=False),
    "confirmed regions": ChangeQuery(state="confirmed", kind="region"),
    "nothing": ChangeQuery(entity="nobody"),
}


@pytest.fixture
def logged(fresh_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.delenv("MONITOR_NOTIFY_URLS", raising=False)
    fill_desk(fresh_db, tmp_path)
    with transaction(session_factory(fresh_db)) as session:
        first = find_changes(session, ChangeQuery(entity="huawei", limit=1)).changes[0]
        assert set_state(session, first.id, "dismissed", datetime(2025, 6, 2), "a rumour")
        other = find_changes(session, ChangeQuery(entity="alibaba", kind="region", limit=1))
        assert set_state(session, other.changes[0].id, "confirmed", datetime(2025, 6, 2))
    return fresh_db


@pytest.mark.parametrize("name", QUERIES)
def test_facets_agree_with_count_changes_by(logged: Engine, name: str) -> None:
    query = QUERIES[name]
    with session_factory(logged)() as session:
        facets = change_facets(session, query)
        facets.values.update(evidence_facets(session, query))
        assert facets.total == count_changes(session, query)
        for facet in FACETS:
            expected = count_changes_by(session, query, facet)
            assert dict(facets.values[facet]) == expected, facet


def test_the_log_is_not_empty_and_counts_are_ordered(logged: Engine) -> None:
    with session_factory(logged)() as session:
        facets = change_facets(session, ChangeQuery())
    assert facets.total >= 6
    assert dict(facets.values["state"])["dismissed"] == 1  # Frankfurt: new and live at once
    assert dict(facets.values["state"])["confirmed"] >= 1
    counts = [n for _, n in facets.values["entity"]]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("name", ["search", "search and language", "all"])
def test_narrowing_a_search_changes_no_answer(logged: Engine, name: str) -> None:
    query = replace(QUERIES[name], order="id", limit=2)
    with session_factory(logged)() as session:
        narrowed = narrow_search(session, query)
        if query.search:
            assert narrowed.search is None and narrowed.ids is not None
        for q in (query, narrowed):
            assert count_changes(session, replace(q, limit=None)) == count_changes(
                session, replace(query, limit=None)
            )
        pages = []
        for q in (query, narrowed):
            ids, cursor = [], None
            while True:
                page = find_changes(session, replace(q, cursor=cursor))
                ids += [c.id for c in page.changes]
                cursor = page.next_cursor
                if cursor is None:
                    break
            pages.append(ids)
        assert pages[0] == pages[1]
