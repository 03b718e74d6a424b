"""store.state (key/value rows, the row lock) and the outbox's row-level state changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.store.db import session_factory, transaction
from monitor.store.outbox import (
    add_delivery,
    cancel_delivery,
    claim_delivery,
    digest_queued,
    pending_delivery,
)
from monitor.store.state import drop_lock, get_state, set_state, take_lock, touch_lock

T0 = datetime(2026, 11, 30, 12, 0)
STALE = timedelta(minutes=2)
ME = {"pid": 10, "host": "a"}
OTHER = {"pid": 20, "host": "b"}


def test_state_rows_are_written_then_overwritten(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    with transaction(sessions) as session:
        assert get_state(session, "digest:daily") is None
        set_state(session, "digest:daily", "one", T0)
    with transaction(sessions) as session:
        set_state(session, "digest:daily", "two", T0)
    with sessions() as session:
        assert get_state(session, "digest:daily") == "two"


def test_a_fresh_lock_refuses_another_holder_and_a_stale_one_is_taken_over(
    fresh_db: Engine,
) -> None:
    sessions = session_factory(fresh_db)
    with transaction(sessions) as session:
        assert take_lock(session, "lock", ME, T0, STALE) is None
    with transaction(sessions) as session:  # the holder again (a restart): fine
        assert take_lock(session, "lock", ME, T0 + timedelta(seconds=5), STALE) is None
    with transaction(sessions) as session:
        refused = take_lock(session, "lock", OTHER, T0 + timedelta(seconds=60), STALE)
    assert refused == (ME, T0 + timedelta(seconds=5))
    with transaction(sessions) as session:  # a heartbeat keeps it fresh
        touch_lock(session, "lock", T0 + timedelta(seconds=100))
    with transaction(sessions) as session:
        assert take_lock(session, "lock", OTHER, T0 + timedelta(seconds=200), STALE) is not None
    with transaction(sessions) as session:  # no heartbeat for 2 minutes: abandoned
        assert take_lock(session, "lock", OTHER, T0 + timedelta(seconds=221), STALE) is None
    with transaction(sessions) as session:
        assert not drop_lock(session, "lock", {"pid": ME["pid"]})  # no longer mine
        assert drop_lock(session, "lock", {"pid": OTHER["pid"]})
    with transaction(sessions) as session:
        assert not drop_lock(session, "lock", OTHER)
        assert take_lock(session, "lock", ME, T0, STALE) is None


def test_pending_delivery_cancel_and_digest_fold(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    with transaction(sessions) as session:
        first = add_delivery(session, kind="source", route="health", channel="c1", now=T0)
        second = add_delivery(session, kind="source", route="health", channel="c1", now=T0)
        queued = [
            add_delivery(
                session,
                kind="source",
                route="daily",
                channel=channel,
                now=T0 + timedelta(hours=hours),
                state="queued",
            )
            for channel, hours in (("c1", 0), ("c2", 1), ("c1", 5))
        ]
        session.flush()
        ids = [first.id, second.id, *(row.id for row in queued)]
    with transaction(sessions) as session:
        assert pending_delivery(session, ids[0]) is not None
        assert claim_delivery(session, ids[0], T0, timedelta(minutes=5))
    with transaction(sessions) as session:
        assert pending_delivery(session, ids[0]) is None  # claimed: sending
        assert not cancel_delivery(session, ids[0], "dismissed")  # only a pending row
        assert cancel_delivery(session, ids[1], "dismissed")
        assert pending_delivery(session, ids[1]) is None
        assert pending_delivery(session, 9999) is None
    with transaction(sessions) as session:
        folded = digest_queued(session, "daily", T0 + timedelta(hours=2), T0)
    assert folded == [("c1", None), ("c2", None)]  # the 05:00 row waits for the next one
    with transaction(sessions) as session:
        assert digest_queued(session, "daily", T0 + timedelta(hours=2), T0) == []
        assert digest_queued(session, "daily", T0 + timedelta(hours=6), T0) == [("c1", None)]
