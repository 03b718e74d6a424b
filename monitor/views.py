"""The view layer: plain dicts and strings that every output renders.

The CLI table, ``--format json``, CSV, the HTML report, alert templates (and the coming web
pages, API and Atom feed) all show the same things: a change, a fact, a source's health, a
failed delivery. Each is built here once, from store rows and views, so that two outputs
cannot drift apart (as Datasette renders one dict as HTML or ``.json``). Pure functions: no
I/O, no database session; callers pass what they read.

- :func:`change_json`, :func:`fact_json`: the JSON records of ``monitor changes/show`` and
  ``monitor extract/eval``;
- :func:`change_context`: what an alert template or the report sees of one change;
- :func:`headline`: "new region Mexico (MX) (planned)", the one wording `show`, the alert
  titles and bodies and digests use (templates call it as ``headline()``);
- :func:`changes_csv` with :func:`csv_cell`, the guard against spreadsheet formulas;
- :func:`source_status`, :func:`failed_delivery`, :func:`channel_record`: `monitor status`;
- :func:`iso_z`: the one spelling of a stored (naive UTC) time in JSON;
- :func:`parse_since`: ``7d`` or a date, as ``--since`` (and the web's ``?since=``) take it.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from monitor.conftypes import parse_duration_text

if TYPE_CHECKING:
    from monitor.store.models import DeliveryRow, SourceRow
    from monitor.store.queries import ChangeView
    from monitor.store.status import FailedDelivery, SourceHealth
    from monitor.types import Fact

MAX_FIELD_CHARS = 1000  # cap scraped text placed in a message
SourceConfigT = TypeVar("SourceConfigT", bound="HasSourceConfig")
RowT = TypeVar("RowT")


class DisplayNames(Protocol):
    """Anything that names a watched company for people (``alibaba`` -> ``Alibaba Cloud``):
    the configured :class:`monitor.extract.watchlist.Watchlist` is one."""

    def display_name(self, entity_id: str) -> str: ...


class HasSourceConfig(Protocol):
    """What a status record needs of a configured source."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


class HasChannel(Protocol):
    """What a status record shows of an alert channel (URL masked)."""

    @property
    def id(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def tags(self) -> frozenset[str]: ...
    @property
    def masked(self) -> str: ...


# --- small pieces ---------------------------------------------------------------------------


def iso_z(moment: datetime | None, timespec: str = "auto") -> str | None:
    """A stored time (naive UTC) as ISO 8601 with ``Z``; ``timespec`` as for
    ``datetime.isoformat`` (``"seconds"`` drops the microseconds). None stays None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def minute(moment: datetime | None, empty: str = "-") -> str:
    """``2025-03-04 08:00``: a stored (UTC) time in tables; ``empty`` for None."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment else empty


def clip(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """Whitespace folded to single spaces, cut to ``limit`` characters (with an ellipsis)."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)  # a constant table, read once (not a cache of anything mutable)
def _territories() -> dict[str, str]:
    from babel import Locale

    return dict(Locale("en").territories)


def country_name(code: str) -> str:
    """``MX`` -> ``Mexico``; an unknown code as given."""
    return _territories().get(code.upper(), code)


def display_value(kind: str, value: str) -> str:
    """``MX`` -> ``Mexico (MX)``; chips and models as written."""
    if kind == "region" and len(value) == 2 and value.isalpha():
        return f"{country_name(value)} ({value.upper()})"
    return value


def entity_name(names: DisplayNames | None, entity: str) -> str:
    """The watchlist's display name (``alibaba`` -> ``Alibaba Cloud``), else the id with a
    capital letter."""
    if names is not None:
        try:
            return str(names.display_name(entity))
        except (KeyError, ValueError):
            pass
    return entity[:1].upper() + entity[1:]


def headline(
    kind: str,
    value_display: str,
    change: str,
    status: str,
    *,
    with_status: bool = True,
    live: str = "now live",
) -> str:
    """What happened, after the company's name: ``new region Mexico (MX) (planned)`` or
    ``model Qwen3 now live``.

    ``with_status=False`` leaves out ``(planned)`` (alert titles); ``live`` is the live
    wording (``is now live`` in alert bodies). Alert templates call it as ``headline()``
    (``monitor.notify.render``), which escapes the parts for HTML and Markdown first."""
    if change == "live":
        return f"{kind} {value_display} {live}"
    return f"new {kind} {value_display}" + (f" ({status})" if with_status else "")


def parse_since(value: str, now: datetime) -> datetime:
    """``7d`` / ``12h`` / ``2w`` before ``now``, or an ISO date / date-time (taken as UTC when
    it has no offset), as naive UTC. ValueError names both forms."""
    try:
        delta = parse_duration_text(value, units="hdw")
        if delta is not None:
            return now - delta
    except OverflowError:  # "99999999999d": before any date there is
        return datetime.min
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is neither a duration (7d, 12h, 2w) nor a date (2025-03-01)"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


# --- changes --------------------------------------------------------------------------------


def change_json(view: ChangeView) -> dict[str, Any]:
    """One change as ``monitor changes --format json`` and ``monitor show --format json``
    print it (times ISO 8601 UTC with ``Z``)."""
    return {
        "id": view.id,
        "entity": view.entity,
        "kind": view.kind,
        "value": view.value,
        "status": view.status,
        "change": view.change,
        "at": iso_z(view.at),
        "published": iso_z(view.published),
        "sources": view.sources,
        "state": view.state,
        "state_at": iso_z(view.state_at),
        "dismissed": view.dismissed_at is not None,
        "dismiss_reason": view.dismiss_reason,
        "backfill": view.backfill,
        "evidence": [
            {
                "url": e.url,
                "title": e.title,
                "source": e.source,
                "sentence": e.sentence,
                "published": iso_z(e.published),
            }
            for e in view.evidence
        ],
    }


def change_title(view: ChangeView, names: DisplayNames | None) -> str:
    """``Alibaba Cloud: new region Mexico (MX) (planned)``: the first line of `show`."""
    what = headline(view.kind, display_value(view.kind, view.value), view.change, view.status)
    return f"{entity_name(names, view.entity)}: {what}"


def change_context(view: ChangeView, names: DisplayNames | None) -> dict[str, Any]:
    """What an alert template (``change``, and each of a digest's ``changes``) and the HTML
    report see of one change. Scraped text is clipped; templates escape it."""
    evidence = [
        {
            "url": e.url,
            "title": clip(e.title, 300),
            "source": clip(e.source, 200),
            "sentence": clip(e.sentence),
            "published": e.published,
            "lang": e.lang,
            "status": e.status,
        }
        for e in view.evidence
    ]
    return {
        "id": view.id,
        "entity": view.entity,
        "entity_name": entity_name(names, view.entity),
        "kind": view.kind,
        "value": view.value,
        "value_display": display_value(view.kind, view.value),
        "change": view.change,
        "status": view.status,
        "at": view.at,
        "published": view.published,
        "sources": view.sources,
        "evidence": evidence,
        "first": evidence[0] if evidence else None,
        "dismissed": view.dismissed_at is not None,
    }


# ``monitor changes``' table: (name, widest it is kept at before the headline gives way;
# None: the headline, which takes what the other columns leave)
TABLE_COLUMNS: list[tuple[str, int | None]] = [
    ("id", 8), ("date", 10), ("company", 20), ("kind", 6), ("value", 30),
    ("change", 11), ("state", 9), ("src", 3), ("headline", None),
]  # fmt: skip


def change_row(view: ChangeView, names: DisplayNames | None) -> list[str]:
    """One change as a row of ``monitor changes`` (``TABLE_COLUMNS``): ``*`` after the id
    of a backfill change, the company's and the value's names, the first headline."""
    return [
        f"{view.id}{'*' if view.backfill else ''}",
        (view.published or view.at).strftime("%Y-%m-%d"),
        entity_name(names, view.entity),
        view.kind,
        display_value(view.kind, view.value),
        "now live" if view.change == "live" else f"new {view.status}",
        view.state,
        str(view.sources),
        first_title(view),
    ]


CSV_COLUMNS = [
    "id", "published", "at", "entity", "kind", "value", "status", "change", "sources",
    "dismissed", "first_url", "state", "backfill", "first_title",
]  # fmt: skip


def csv_cell(value: Any) -> Any:
    """A scraped string that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def change_csv_row(view: ChangeView) -> list[Any]:
    """One change as a CSV row (``CSV_COLUMNS``), formula-guarded."""
    first_url = (view.evidence[0].url or "") if view.evidence else ""
    row: list[Any] = [view.id, iso_z(view.published), iso_z(view.at), view.entity, view.kind]
    row += [view.value, view.status, view.change, view.sources]
    row += ["yes" if view.dismissed_at else "", first_url]
    row += [view.state, "yes" if view.backfill else "", first_title(view)]
    return [csv_cell(value) for value in row]


def first_title(view: ChangeView) -> str:
    """The headline of the first item that reported the change, on one line ("" if none)."""
    return " ".join(view.evidence[0].title.split()) if view.evidence else ""


def changes_csv_lines(views: Iterable[ChangeView]) -> Iterator[str]:
    """The change log as CSV, one line at a time (the header first), as the views come."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in itertools.chain([CSV_COLUMNS], (change_csv_row(view) for view in views)):
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def changes_csv(views: Iterable[ChangeView]) -> str:
    """The change log as CSV text with a header row."""
    return "".join(changes_csv_lines(views))


# --- facts ----------------------------------------------------------------------------------


def fact_json(fact: Fact) -> dict[str, Any]:
    """An extracted fact as ``monitor extract`` prints it (evidence when it has some)."""
    out: dict[str, Any] = {
        "entity": fact.entity,
        "kind": fact.kind,
        "value": fact.value,
        "status": fact.status,
    }
    if fact.evidence is not None:
        ev = fact.evidence
        out["evidence"] = {
            "sentence": ev.sentence,
            "start": ev.start,
            "end": ev.end,
            "field": ev.field,
        }
    return out


# --- status ---------------------------------------------------------------------------------


def source_status(
    name: str, source: HasSourceConfig | None, row: SourceRow | SourceHealth | None
) -> dict[str, Any]:
    """One source's health (`monitor status --json`): ``source`` is its configuration (None
    when only the database still knows it), ``row`` its stored state (None: never polled)."""
    return {
        "name": name,
        "kind": source.kind if source else (row.kind if row else None),
        "enabled": bool(source.enabled) if source else False,
        "in_config": source is not None,
        "last_success_at": iso_z(row.last_success_at, "seconds") if row else None,
        "last_status": row.last_status if row else None,
        "last_error": row.last_error if row else None,
        "last_error_at": iso_z(row.last_error_at, "seconds") if row else None,
        "consecutive_failures": (row.consecutive_failures or 0) if row else 0,
        "failing_since": iso_z(row.failing_since, "seconds") if row else None,
        "next_due_at": iso_z(row.next_due_at, "seconds") if row else None,
        "retry_after_until": iso_z(row.retry_after_until, "seconds") if row else None,
        "items": (row.items_count or 0) if row else 0,
    }


def status_order(
    sources: Sequence[SourceConfigT], rows: Mapping[str, RowT]
) -> list[tuple[str, SourceConfigT | None, RowT | None]]:
    """(name, configuration, stored row) of each source `monitor status` shows: the
    configured ones in config order, then those only the database still knows, by name."""
    by_name = {s.name: s for s in sources}
    names = [s.name for s in sources] + sorted(set(rows) - set(by_name))
    return [(name, by_name.get(name), rows.get(name)) for name in names]


SOURCE_COLUMNS = ["source", "kind", "last success", "last error", "failures", "next due", "items"]


def source_status_row(record: dict[str, Any], row: SourceRow | SourceHealth | None) -> list[str]:
    """A :func:`source_status` record as a row of the `monitor status` table
    (``SOURCE_COLUMNS``): times to the minute, the last error cut to 80 characters."""
    state = "" if record["enabled"] else (" (disabled)" if record["in_config"] else " (removed)")
    error = record["last_error"] or "-"
    if record["last_error"] and row is not None:
        error = f"{minute(row.last_error_at)} {error}"
    next_due = minute(row.next_due_at) if row else "now"
    if row is not None and row.retry_after_until:
        next_due += " (Retry-After)"
    return [
        f"{record['name']}{state}",
        record["kind"] or "-",
        minute(row.last_success_at, "never") if row else "never",
        error if len(error) <= 80 else error[:77] + "...",
        str(record["consecutive_failures"]),
        next_due,
        str(record["items"]),
    ]


def failed_delivery(row: DeliveryRow | FailedDelivery, masked: dict[str, str]) -> dict[str, Any]:
    """A failed outbox row; ``masked`` maps channel ids to masked URLs (an id stays when
    its channel is no longer configured)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "change_id": row.change_id,
        "channel": masked.get(row.channel, row.channel),
        "attempts": row.attempts,
        "last_error": row.last_error,
    }


def channel_record(channel: HasChannel) -> dict[str, Any]:
    """An alert channel as `monitor status --json` lists it (URL masked)."""
    return {
        "id": channel.id,
        "format": channel.format,
        "tags": sorted(channel.tags),
        "url": channel.masked,
    }


def outbox_counts(summary: dict[str, int]) -> str:
    """``3 failed, 12 sent`` (states sorted), or empty text for an empty outbox."""
    return ", ".join(f"{n} {state}" for state, n in sorted(summary.items()))
