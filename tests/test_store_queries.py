"""ChangeQuery on a real SQLite file: filters, keyset pages, counts, facets, evidence.

The log is recorded through the real write path (store_items, decide, record_item,
dismiss_change); each query's answer is checked against a plain Python filter over the
whole log, read once with every change and its evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes import decide
from monitor.errors import QueryError
from monitor.store.db import make_engine, session_factory, transaction
from monitor.store.facts import known_facts, record_item
from monitor.store.items import get_or_create_source, store_items
from monitor.store.models import SourceRow
from monitor.store.queries import (
    ChangeQuery,
    ChangeView,
    count_changes,
    count_changes_by,
    find_changes,
    get_change,
)
from monitor.store.review import dismiss_change
from monitor.types import Evidence, Fact, Item
from tests.statements import statements_on

BASE = datetime(2025, 3, 1, 8, 0)
ENTITIES = ("alibaba", "deepseek", "huawei")
KINDS = ("region", "chip", "model")
SOURCES = (("Wire A", "en"), ("Wire B", "zh"), ("Blog", None))
COUNT = 40


def _record(
    session: Session, source: SourceRow, n: int, fact: Fact, item: Item, now: datetime
) -> None:
    (row,) = store_items(session, source, [item])
    record_item(session, row, decide([fact], known_facts(session, [fact.key])), now)


def build_log(sessions: sessionmaker[Session]) -> None:
    """COUNT changes 'new' (ties on the log's date, dates out of record order), a few
    'live' ones, a second report of one fact from another source, two dismissed."""
    with transaction(sessions) as session:
        rows = {
            name: get_or_create_source(session, name, "ingest", f"ingest:{name}")
            for name, _ in SOURCES
        }
        for n in range(COUNT):
            entity, kind = ENTITIES[n % 3], KINDS[(n // 3) % 3]
            name, lang = SOURCES[(n // 2) % 3]
            value = f"Value{n}"
            sentence = f"{entity} plans {value} at 50% capacity" if n % 4 == 0 else f"{value}."
            fact = Fact(entity, kind, value, "planned", Evidence(sentence, 0, len(sentence)))
            published = BASE + timedelta(hours=(n * 7) % 11)  # ties and a shuffled order
            item = Item(
                title=f"Report {n} on {entity}",
                text=sentence,
                url=f"https://news.test/{n}",
                published=published.replace(tzinfo=UTC),
                lang=lang,
                source=name,
            )
            _record(session, rows[name], n, fact, item, BASE + timedelta(days=1, minutes=n))
        for n in (0, 5, 10):  # now live: a 'live' change of the same fact
            entity, kind = ENTITIES[n % 3], KINDS[(n // 3) % 3]
            sentence = f"Value{n} opened."
            fact = Fact(entity, kind, f"Value{n}", "live", Evidence(sentence, 0, len(sentence)))
            item = Item(
                title=f"Value{n} is live",
                text=sentence,
                url=f"https://news.test/live/{n}",
                published=(BASE + timedelta(days=2)).replace(tzinfo=UTC),
                lang="en",
                source="Blog",
            )
            _record(session, rows["Blog"], n, fact, item, BASE + timedelta(days=3))
        # Fact 1 reported again from another source: evidence for the same change.
        sentence = "Value1 again."
        again = Fact("deepseek", "region", "Value1", "planned", Evidence(sentence, 0, 13))
        item = Item(title="Again", text=sentence, url="https://news.test/again", lang="fr")
        _record(session, rows["Wire A"], 1, again, item, BASE + timedelta(days=3))
    with transaction(sessions) as session:
        for change_id in (3, 4):
            assert dismiss_change(session, change_id, "not infrastructure", BASE)


@pytest.fixture(scope="module")
def log_db(module_db_url: str) -> Iterator[Engine]:
    """One recorded log for the tests that only read it (building it takes a second)."""
    engine = make_engine(module_db_url)
    try:
        build_log(session_factory(engine))
        yield engine
    finally:
        engine.dispose()


@pytest.fixture()
def sessions(log_db: Engine) -> sessionmaker[Session]:
    return session_factory(log_db)


@pytest.fixture()
def own_sessions(fresh_db: Engine) -> sessionmaker[Session]:
    """A log of the test's own, for the tests that write."""
    made = session_factory(fresh_db)
    build_log(made)
    return made


def _all(sessions: sessionmaker[Session]) -> list[ChangeView]:
    with sessions() as session:
        return find_changes(session, ChangeQuery()).changes


def _reported(view: ChangeView) -> datetime:
    return view.published or view.at


def _words_in(view: ChangeView, words: list[str]) -> bool:
    texts = [view.value, view.entity, view.kind]
    texts += [e.sentence for e in view.evidence] + [e.title for e in view.evidence]
    return all(any(w.lower() in t.lower() for t in texts) for w in words)


FILTERS: list[tuple[str, dict[str, Any], Callable[[ChangeView], bool]]] = [
    ("entity", {"entity": "huawei"}, lambda v: v.entity == "huawei"),
    ("kind", {"kind": "chip"}, lambda v: v.kind == "chip"),
    ("change-live", {"change": "live"}, lambda v: v.change == "live"),
    ("status", {"status": "live"}, lambda v: v.status == "live"),
    (
        "since",
        {"since": BASE + timedelta(hours=5)},
        lambda v: _reported(v) >= BASE + timedelta(hours=5),
    ),
    (
        "until",
        {"until": BASE + timedelta(hours=5)},
        lambda v: _reported(v) < BASE + timedelta(hours=5),
    ),
    (
        "detected",
        {
            "detected_since": BASE + timedelta(days=1, minutes=10),
            "detected_until": BASE + timedelta(days=1, minutes=20),
        },
        lambda v: (
            BASE + timedelta(days=1, minutes=10) <= v.at < BASE + timedelta(days=1, minutes=20)
        ),
    ),
    ("source", {"source": "Wire B"}, lambda v: any(e.source == "Wire B" for e in v.evidence)),
    ("lang", {"lang": "fr"}, lambda v: any(e.lang == "fr" for e in v.evidence)),
    ("not-dismissed", {"dismissed": False}, lambda v: v.dismissed_at is None),
    ("dismissed", {"dismissed": True}, lambda v: v.dismissed_at is not None),
    ("search-value", {"search": "value1"}, lambda v: _words_in(v, ["value1"])),
    (
        "search-words",
        {"search": "DEEPSEEK value2"},
        lambda v: _words_in(v, ["deepseek", "value2"]),
    ),
    ("search-evidence", {"search": "capacity"}, lambda v: _words_in(v, ["capacity"])),
    ("search-title", {"search": "is live"}, lambda v: _words_in(v, ["is", "live"])),
    ("search-percent", {"search": "50%"}, lambda v: _words_in(v, ["50%"])),
    ("search-underscore", {"search": "Value_"}, lambda v: False),  # _ is no wildcard
    ("ids", {"ids": [2, 7, 999]}, lambda v: v.id in (2, 7)),
    ("ids-empty", {"ids": []}, lambda v: False),
    (
        "combined",
        {"entity": "alibaba", "kind": "region", "dismissed": False},
        lambda v: v.entity == "alibaba" and v.kind == "region" and not v.dismissed_at,
    ),
]


EMPTY = {"search-underscore", "ids-empty"}  # filters that must match nothing


@pytest.mark.parametrize(("name", "fields", "wanted"), FILTERS, ids=[f[0] for f in FILTERS])
def test_filter_matches_a_plain_python_filter(
    sessions: sessionmaker[Session],
    name: str,
    fields: dict[str, Any],
    wanted: Callable[[ChangeView], bool],
) -> None:
    everything = _all(sessions)
    expected = [v.id for v in everything if wanted(v)]
    assert (expected == []) == (name in EMPTY)  # the table itself selects something
    assert len(expected) < len(everything)
    query = ChangeQuery(**fields)
    with sessions() as session:
        got = [v.id for v in find_changes(session, query).changes]
        count = count_changes(session, query)
    assert got == expected
    assert count == len(expected)


def test_the_log_is_what_was_recorded(sessions: sessionmaker[Session]) -> None:
    everything = _all(sessions)
    assert len(everything) == COUNT + 3
    assert Counter(v.change for v in everything) == {"new": COUNT, "live": 3}
    assert sum(1 for v in everything if v.dismissed_at) == 2
    # newest first by the log's date, then id
    assert [v.id for v in everything] == [
        v.id for v in sorted(everything, key=lambda v: (_reported(v), v.id), reverse=True)
    ]
    (again,) = [v for v in everything if v.value == "Value1"]
    assert [e.source for e in again.evidence] == ["Wire A", "Wire A"]
    assert again.sources == 1 and len(again.evidence) == 2


@pytest.mark.parametrize("order", ["reported", "id"])
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_cursor_pages_through_everything_once(
    sessions: sessionmaker[Session], order: Any, descending: bool, limit: int
) -> None:
    full = ChangeQuery(order=order, descending=descending, dismissed=False)
    with sessions() as session:
        expected = [v.id for v in find_changes(session, full).changes]
        query = replace(full, limit=limit)
        seen: list[int] = []
        pages = 0
        while True:
            page = find_changes(session, query)
            pages += 1
            assert len(page.changes) <= limit
            seen += [v.id for v in page.changes]
            if page.next_cursor is None:
                break
            assert len(page.changes) == limit
            query = replace(query, cursor=page.next_cursor)
    assert len(seen) == len(set(seen))
    assert seen == expected
    assert pages == max(1, -(-len(expected) // limit))
    key: Callable[[ChangeView], Any] = (
        (lambda v: v.id) if order == "id" else (lambda v: (_reported(v), v.id))
    )
    everything = {v.id: v for v in _all(sessions)}
    assert seen == [
        v.id for v in sorted((everything[i] for i in seen), key=key, reverse=descending)
    ]


def test_pages_stay_put_while_new_changes_arrive(own_sessions: sessionmaker[Session]) -> None:
    sessions = own_sessions
    """A change recorded between two pages (dated newer) neither shifts nor repeats."""
    query = ChangeQuery(limit=5)
    with sessions() as session:
        first = find_changes(session, query)
    with transaction(sessions) as session:
        source = get_or_create_source(session, "Wire A", "ingest", "ingest:Wire A")
        sentence = "Brand new."
        fact = Fact("alibaba", "model", "Brandnew", "planned", Evidence(sentence, 0, 10))
        item = Item(
            title="Brand new",
            text=sentence,
            url="https://news.test/brand-new",
            published=(BASE + timedelta(days=30)).replace(tzinfo=UTC),
        )
        _record(session, source, 0, fact, item, BASE + timedelta(days=30))
    with sessions() as session:
        second = find_changes(session, replace(query, cursor=first.next_cursor))
        fresh = find_changes(session, ChangeQuery(limit=6)).changes
    assert {v.id for v in first.changes}.isdisjoint(v.id for v in second.changes)
    assert [v.id for v in fresh[1:]] == [v.id for v in first.changes]
    assert fresh[0].value == "Brandnew"


def test_count_ignores_limit_and_cursor(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        page = find_changes(session, ChangeQuery(kind="model", limit=2))
        limited = ChangeQuery(kind="model", limit=2, cursor=page.next_cursor)
        assert count_changes(session, limited) == count_changes(session, ChangeQuery(kind="model"))
        assert count_changes(session, ChangeQuery()) == COUNT + 3


def _facet_counts(views: list[ChangeView], facet: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for view in views:
        if facet in ("source", "lang"):
            counts.update(str(v) for v in {getattr(e, facet) for e in view.evidence} - {None})
        else:
            counts[getattr(view, facet)] += 1
    return dict(counts)


CHOSEN = {"entity": "huawei", "kind": "chip", "change": "live", "status": "live"}
CHOSEN |= {"source": "Blog", "lang": "en"}


@pytest.mark.parametrize("facet", list(CHOSEN))
def test_facet_counts_leave_their_own_filter_out(
    sessions: sessionmaker[Session], facet: Any
) -> None:
    everything = _all(sessions)
    query = ChangeQuery(dismissed=False, **{facet: CHOSEN[facet]})
    with sessions() as session:
        counts = count_changes_by(session, query, facet)
        dismissed = count_changes_by(session, replace(query, dismissed=True), facet)
    assert counts == _facet_counts([v for v in everything if not v.dismissed_at], facet)
    assert len(counts) > 1  # more than the chosen value
    assert dismissed == _facet_counts([v for v in everything if v.dismissed_at], facet)


def test_evidence_is_optional_and_loaded_in_one_query(
    sessions: sessionmaker[Session], log_db: Engine
) -> None:
    with sessions() as session, statements_on(log_db) as seen:
        bare = find_changes(session, ChangeQuery(evidence=False)).changes
    assert len(seen) == 1 and all(v.evidence == [] for v in bare)
    with sessions() as session, statements_on(log_db) as seen:
        full = find_changes(session, ChangeQuery()).changes
    assert len(seen) == 2  # the changes, then the evidence of all of them
    assert all(v.evidence for v in full)


def test_get_change_and_bad_queries(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        view = get_change(session, 2)
        assert view is not None and view.id == 2 and view.evidence
        assert get_change(session, 9999) is None
        cursor = find_changes(session, ChangeQuery(limit=2)).next_cursor
        assert cursor is not None
        for bad in ("nonsense", "", "e30", cursor[:-3]):
            with pytest.raises(QueryError, match="bad cursor"):
                find_changes(session, ChangeQuery(cursor=bad))
        with pytest.raises(QueryError, match="bad cursor"):  # from another order
            find_changes(session, ChangeQuery(order="id", cursor=cursor))
        with pytest.raises(QueryError, match="unknown facet"):
            count_changes_by(session, ChangeQuery(), "value")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="limit"):
        ChangeQuery(limit=0)
