"""The analyst's review of the change log: each change's state, shared by the CLI and the
web desk (reading the log: ``monitor.store.queries``).

A change is ``unread`` when recorded, then ``seen``, ``confirmed`` or ``dismissed`` (a
false positive, with a reason). Dismissal is about the fact: it dismisses the fact (it
never alerts again) and every change of that fact, and cancels their unsent alerts.
Setting a dismissed change to any other state undoes that for the fact and its changes
(cancelled alerts stay cancelled: their moment has passed). Dismissing again keeps the
first date and updates the reason, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.errors import ReviewError
from monitor.store.models import ChangeRow, DeliveryRow, FactRow

STATES = ("unread", "seen", "confirmed", "dismissed")
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class StateChange:
    """What ``set_state`` did to one change: its state and reason before and after."""

    change_id: int
    state: str
    previous: str
    reason: str | None = None
    previous_reason: str | None = None

    @property
    def changed(self) -> bool:
        return (self.state, self.reason) != (self.previous, self.previous_reason)

    def describe(self) -> str:
        """One line for a person: ``change #12 dismissed: office, not a data centre``."""
        who = f"change #{self.change_id}"
        if self.state == "dismissed":
            if self.previous != "dismissed":
                return f"{who} dismissed: {self.reason}"
            if self.reason != self.previous_reason:
                return (
                    f"{who} was already dismissed; reason updated: {self.reason} "
                    f"(was: {self.previous_reason})"
                )
            return f"{who} was already dismissed: {self.reason}"
        if self.previous == self.state:
            return f"{who} is already {self.state}"
        undone = " (no longer dismissed)" if self.previous == "dismissed" else ""
        return f"{who} marked {self.state}{undone}"


def clean_reason(reason: str | None) -> str:
    """A dismissal reason on one line, capped; empty when none was given."""
    return " ".join((reason or "").split())[:MAX_REASON_CHARS]


def set_state(
    session: Session, change_id: int, state: str, now: datetime, reason: str | None = None
) -> StateChange | None:
    """Set a change's review state (None when there is no such change). ``dismissed``
    needs a reason; other states take none. ReviewError on an unknown state or a
    dismissal without a reason."""
    if state not in STATES:
        raise ReviewError(f"unknown state {state!r} (allowed: {', '.join(STATES)})")
    reason = clean_reason(reason)
    if state == "dismissed" and not reason:
        raise ReviewError("a dismissal needs a reason (it is kept in the log)")
    change = session.get(ChangeRow, change_id)
    if change is None:
        return None
    result = StateChange(
        change_id,
        state,
        change.state,
        reason if state == "dismissed" else None,
        change.dismiss_reason if change.state == "dismissed" else None,
    )
    if state == "dismissed":
        _dismiss(session, change, reason, now)
    elif change.state == "dismissed":
        _undismiss(session, change, state, now)
    elif change.state != state:
        change.state, change.state_at = state, now
    return result


def dismiss_change(session: Session, change_id: int, reason: str, now: datetime) -> bool:
    """Dismiss a change and its fact (no further alert); unsent deliveries are cancelled."""
    return set_state(session, change_id, "dismissed", now, reason) is not None


def _fact_changes(session: Session, fact_id: int) -> list[ChangeRow]:
    return list(session.scalars(select(ChangeRow).where(ChangeRow.fact_id == fact_id)))


def _dismiss(session: Session, change: ChangeRow, reason: str, now: datetime) -> None:
    fact = session.get(FactRow, change.fact_id)
    for row in _fact_changes(session, change.fact_id):
        if row.dismissed_at is None:
            row.dismissed_at = now
        if row.state != "dismissed":
            row.state_at = now
        row.state, row.dismiss_reason = "dismissed", reason
    if fact is not None:
        fact.dismissed_at = fact.dismissed_at or now
        fact.dismiss_reason = reason
    session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.change_id.in_(
                select(ChangeRow.id).where(ChangeRow.fact_id == change.fact_id)
            ),
            DeliveryRow.state.in_(["pending", "queued"]),
        )
        .values(state="cancelled", last_error=f"dismissed: {reason}")
    )


def _undismiss(session: Session, change: ChangeRow, state: str, now: datetime) -> None:
    fact = session.get(FactRow, change.fact_id)
    for row in _fact_changes(session, change.fact_id):
        if row.state == "dismissed" or row.id == change.id:
            row.state, row.state_at = state, now
            row.dismissed_at, row.dismiss_reason = None, None
    if fact is not None:
        fact.dismissed_at, fact.dismiss_reason = None, None
