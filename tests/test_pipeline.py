"""tasks.process_pending / deliver_due on a real SQLite file with a tiny rule-based extractor."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, update

from monitor import tasks
from monitor.store.baseline import load_baseline
from monitor.store.db import session_factory, transaction
from monitor.store.models import ChangeRow, DeliveryRow, FactRow, ItemRow, ObservationRow
from monitor.store.queries import ChangeQuery, find_changes
from monitor.store.review import dismiss_change
from monitor.types import Fact
from tests.httpserver import LocalServer, Reply
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    apprise_file,
    item,
    json_channel,
    make_app,
    make_config,
)
from tests.test_pipeline_support import (
    store as store_items,
)

T0 = datetime(2025, 3, 10, 12, 0)


def _count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_new_fact_once_then_later_reports_attach_as_evidence(
    fresh_db: Engine, tmp_path: Path
) -> None:
    sessions = session_factory(fresh_db)
    config = make_config(tmp_path)
    store_items(
        sessions,
        [
            item(
                "Alibaba Cloud plans Mexico region",
                url="https://a.test/1",
                published="2025-03-04T08:00:00",
                source="Wire A",
            ),
            item(
                "Alibaba to build data centre in Querétaro",
                url="https://b.test/2",
                published="2025-03-04T10:00:00",
                source="Wire B",
            ),
            item(
                "Alibaba Cloud Mexico region: more details",
                url="https://a.test/3",
                published="2025-03-05T10:00:00",
                source="Wire A",
            ),
        ],
    )
    report = tasks.process_pending(make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES)), now=T0)
    assert (report.items, report.new, report.live) == (3, 1, 0)
    with sessions() as s:
        views = find_changes(s, ChangeQuery()).changes
    assert len(views) == 1
    change = views[0]
    assert (change.entity, change.kind, change.value, change.change, change.status) == (
        "alibaba",
        "region",
        "MX",
        "new",
        "planned",
    )
    assert [e.url for e in change.evidence] == [
        "https://a.test/1",
        "https://b.test/2",
        "https://a.test/3",
    ]
    assert change.sources == 2  # distinct sources, not items
    assert change.published == datetime(2025, 3, 4, 8, 0)


def test_items_are_processed_in_published_order(fresh_db: Engine, tmp_path: Path) -> None:
    sessions = session_factory(fresh_db)
    # Stored newest first; the change must still name the earliest item as its first.
    store_items(
        sessions,
        [
            item(
                "Later: Alibaba opened its Mexico region",
                url="https://a.test/late",
                published="2025-04-01T00:00:00",
            ),
            item(
                "Alibaba plans Mexico region",
                url="https://a.test/early",
                published="2025-03-01T00:00:00",
            ),
        ],
    )
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=T0)
    with sessions() as s:
        views = find_changes(s, ChangeQuery()).changes
    # planned first (new), then the later "opened" report is an upgrade (live)
    assert [(v.change, v.status) for v in views] == [("live", "live"), ("new", "planned")]
    assert views[1].evidence[0].url == "https://a.test/early"


def test_baseline_known_fact_no_change_but_planned_to_live_is(
    fresh_db: Engine, tmp_path: Path
) -> None:
    sessions = session_factory(fresh_db)
    with transaction(sessions) as s:
        load_baseline(
            s,
            [
                Fact("deepseek", "model", "DeepSeek-R2", "planned"),
                Fact("huawei", "chip", "Ascend 910C", "live"),
            ],
        )
    store_items(
        sessions,
        [
            item(
                "DeepSeek R2 expected in May",
                url="https://x.test/1",
                published="2025-03-02T00:00:00",
            ),
            item(
                "Huawei Ascend 910C shipping in volume, it launched",
                url="https://x.test/2",
                published="2025-03-03T00:00:00",
            ),
            item(
                "DeepSeek released DeepSeek-R2 today",
                url="https://x.test/3",
                published="2025-03-04T00:00:00",
            ),
            item(
                "DeepSeek-R2 now live for everyone",
                url="https://y.test/4",
                published="2025-03-05T00:00:00",
                source="Other",
            ),
        ],
    )
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
    report = tasks.process_pending(app, now=T0)
    assert (report.new, report.live) == (0, 1)
    with sessions() as s:
        (view,) = find_changes(s, ChangeQuery()).changes
        fact = s.get(FactRow, view.fact_id)
        assert fact is not None and (fact.status, fact.origin) == ("live", "baseline")
    assert (view.value, view.change) == ("DeepSeek-R2", "live")
    assert [e.url for e in view.evidence] == ["https://x.test/3", "https://y.test/4"]
    # the baseline facts still collected observations (4 items, 4 observations)
    assert _count(fresh_db, ObservationRow) == 4


def test_dismissed_fact_never_alerts_again(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    sessions = session_factory(fresh_db)
    http_server.route("/hook", Reply(status=200))
    config = make_config(tmp_path, apprise_file(json_channel(http_server.url("/hook"))))
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    store_items(
        sessions,
        [
            item(
                "Alibaba plans Riyadh region",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            )
        ],
    )
    tasks.process_pending(app, now=T0)
    with transaction(sessions) as s:
        (view,) = find_changes(s, ChangeQuery()).changes
        assert dismiss_change(s, view.id, "not infrastructure", T0)
    store_items(
        sessions,
        [
            item(
                "Alibaba opened Riyadh region",
                url="https://a.test/2",
                published="2025-03-02T00:00:00",
            )
        ],
    )
    tasks.process_pending(app, now=T0)
    assert tasks.deliver_due(app, now=T0).sent == 0  # the first one was cancelled too
    assert http_server.hits("/hook") == []
    assert _count(fresh_db, ChangeRow) == 1
    with sessions() as s:
        (view,) = find_changes(s, ChangeQuery()).changes
        assert view.dismiss_reason == "not infrastructure"
        assert len(view.evidence) == 2
        assert find_changes(s, ChangeQuery(dismissed=False)).changes == []


def test_rerun_after_crash_never_doubles(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    sessions = session_factory(fresh_db)
    http_server.route("/hook", Reply(status=200))
    config = make_config(tmp_path, apprise_file(json_channel(http_server.url("/hook"))))
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    store_items(
        sessions,
        [
            item(
                "Alibaba plans Mexico region and Qwen3",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            ),
            item(
                "Qwen3 and the Mexico region: details",
                url="https://b.test/2",
                published="2025-03-02T00:00:00",
                source="B",
            ),
        ],
    )
    assert tasks.process_pending(app, now=T0).items == 2
    assert tasks.process_pending(app, now=T0).items == 0
    counts = (
        _count(fresh_db, ChangeRow),
        _count(fresh_db, ObservationRow),
        _count(fresh_db, DeliveryRow),
    )
    # As if the process had died after writing but before marking the items processed.
    with transaction(sessions) as s:
        s.execute(update(ItemRow).values(processed_at=None))
    assert tasks.process_pending(app, now=T0).items == 2
    assert (
        _count(fresh_db, ChangeRow),
        _count(fresh_db, ObservationRow),
        _count(fresh_db, DeliveryRow),
    ) == counts
    assert tasks.deliver_due(app, now=T0).sent == counts[2]
    assert len(http_server.hits("/hook")) == counts[2] == 2  # Mexico new, Qwen3 new


def test_extractor_error_does_not_stall(fresh_db: Engine, tmp_path: Path) -> None:
    class Broken:
        def extract(self, it: object) -> list[Fact]:
            raise ValueError("boom")

    sessions = session_factory(fresh_db)
    store_items(
        sessions, [item("anything", url="https://a.test/1", published="2025-03-01T00:00:00")]
    )
    app = make_app(fresh_db, make_config(tmp_path), Broken())
    report = tasks.process_pending(app, now=T0)
    assert (report.items, report.errors) == (1, 1)
    assert tasks.process_pending(app).items == 0


def test_json_endpoint_500_three_times_then_200_arrives_once(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    sessions = session_factory(fresh_db)
    http_server.route(
        "/hook", lambda req: Reply(status=500) if req.count < 3 else Reply(status=200)
    )
    config = make_config(
        tmp_path,
        apprise_file(json_channel(http_server.url("/hook"))),
        retry={"max_attempts": 8, "backoff": "30s", "max_backoff": "1h"},
    )
    store_items(
        sessions,
        [
            item(
                "Alibaba opened <b>Mexico</b> region",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            )
        ],
    )
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=T0)
    now, sent, waits = T0, 0, []
    for _ in range(20):
        report = tasks.deliver_due(app, now=now)
        sent += report.sent
        with sessions() as s:
            row = s.scalars(select(DeliveryRow)).one()
        if row.state == "sent":
            break
        assert row.next_attempt_at is not None
        # not due before its backoff: a pass one second early sends nothing
        assert tasks.deliver_due(app, now=row.next_attempt_at - timedelta(seconds=1)).sent == 0
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert sent == 1 and row.state == "sent" and row.attempts == 4
    hits = http_server.hits("/hook")
    assert len(hits) == 4 and [h.count for h in hits] == [0, 1, 2, 3]
    assert b"Alibaba Cloud: new region Mexico (MX)" in hits[-1].body
    assert tasks.deliver_due(app, now=now + timedelta(days=1)).sent == 0
    assert len(http_server.hits("/hook")) == 4
