"""The desk's read-only HTML pages: the change log (and its source/language counts for
htmx), one change with its history and deliveries, the companies and one company's
footprint on the world map, and the sources' health."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from monitor.errors import QueryError
from monitor.notify.render import safe_link
from monitor.safetext import safe_url
from monitor.store.changelog import (
    change_facets,
    change_history,
    deliveries_of,
    evidence_facets,
    facts_of,
    facts_per_source,
    known_entities,
    narrow_search,
)
from monitor.store.queries import find_changes, get_change
from monitor.store.sources import all_sources
from monitor.views import display_value, source_status, status_order
from monitor.web import present
from monitor.web.desk import HERE, Desk, parse_int
from monitor.web.present import BadRequest


class Pages:
    """The page handlers over one :class:`Desk`."""

    def __init__(self, desk: Desk):
        self.desk = desk

    # --- the change log --------------------------------------------------------------
    async def changes(self, request: Request) -> Response:
        desk = self.desk
        params = dict(request.query_params)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return desk.error(request, 400, str(exc))
        # The evidence's counts (source, language) read every piece of evidence: htmx loads
        # them after the page from /facets; without script, ?counts=all shows them inline.
        every_count = params.get("counts") == "all"

        def load(session: Session) -> dict[str, Any]:
            narrowed = narrow_search(session, query)
            facets = change_facets(session, narrowed)
            if every_count:
                facets.values.update(evidence_facets(session, narrowed))
            return {"page": find_changes(session, narrowed), "facets": facets}

        try:
            data = await run_in_threadpool(desk.read, load)
        except QueryError as exc:  # a cursor this desk did not make
            return desk.error(request, 400, str(exc))
        rows = [desk.row(v) for v in data["page"].changes]
        following = data["page"].next_cursor
        return desk.page(
            request,
            "changes.html.j2",
            rows=rows,
            total=data["facets"].total,
            facets=data["facets"].values,
            params=params,
            filtered=present.is_filtered(params),
            link=lambda **changes: "?" + urlencode(present.kept_params(params, **changes)),
            next_link=(
                "?" + urlencode({**present.kept_params(params), "cursor": following})
                if following
                else None
            ),
            first_link=("?" + urlencode(present.kept_params(params))) if query.cursor else None,
            entity_names={e: desk.name(e) for e, _ in data["facets"].values["entity"]},
            feed_link="/feed.atom?" + urlencode(present.kept_params(params)),
            every_count=every_count,
            facets_link="/facets?" + urlencode(present.kept_params(params)),
            all_counts_link="?" + urlencode({**present.kept_params(params), "counts": "all"}),
        )

    async def evidence_counts(self, request: Request) -> Response:
        """The source and language counts of the change log's current filters (htmx)."""
        params = dict(request.query_params)
        try:
            query = present.query_from_params(params)
        except BadRequest as exc:
            return self.desk.error(request, 400, str(exc))

        def load(session: Session) -> dict[str, list[tuple[str, int]]]:
            return evidence_facets(session, narrow_search(session, query))

        facets = await run_in_threadpool(self.desk.read, load)
        html = self.desk.env.get_template("_evidence_facets.html.j2").render(
            facets=facets,
            params=params,
            link=lambda **changes: "/?" + urlencode(present.kept_params(params, **changes)),
        )
        return HTMLResponse(html)

    # --- one change ------------------------------------------------------------------
    async def change(self, request: Request) -> Response:
        desk = self.desk
        change_id = parse_int(request.path_params["change_id"])

        def load(session: Session) -> dict[str, Any] | None:
            view = get_change(session, change_id) if change_id is not None else None
            if view is None:
                return None
            return {
                "view": view,
                "history": [
                    {"change": h.change, "status": h.status, "at": h.at, "id": h.id}
                    for h in change_history(session, view.fact_id)
                ],
                "deliveries": [
                    {
                        "channel": d.channel,
                        "route": d.route,
                        "state": d.state,
                        "attempts": d.attempts,
                        "error": d.last_error,
                        "sent_at": d.sent_at,
                    }
                    for d in deliveries_of(session, view.id)
                ],
            }

        data = await run_in_threadpool(desk.read, load)
        if data is None:
            return desk.error(request, 404, f"no change #{request.path_params['change_id']}")
        view = data["view"]
        return desk.page(
            request,
            "change.html.j2",
            view=view,
            row=desk.row(view),
            title=desk.title_of(view),
            history=data["history"],
            deliveries=data["deliveries"],
        )

    # --- footprint -------------------------------------------------------------------
    async def company(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        facts = await run_in_threadpool(self.desk.read, lambda s: facts_of(s, entity))
        if not facts:
            return self.desk.error(request, 404, f"no facts known for {entity!r}")
        footprint = present.Footprint()
        by_kind: dict[str, list[dict[str, Any]]] = {k: [] for k in present.KINDS}
        for fact in facts:
            if fact.dismissed_at is not None:
                continue
            origin = "baseline" if fact.origin == "baseline" else "discovered"
            if fact.kind == "region" and len(fact.value) == 2:
                footprint.add(fact.value, fact.status, origin)
            by_kind.setdefault(fact.kind, []).append(
                {
                    "value": display_value(fact.kind, fact.value),
                    "status": fact.status,
                    "origin": origin,
                    "first_seen": fact.first_seen_at,
                }
            )
        svg = (HERE / "static" / "world.svg").read_text(encoding="utf-8")
        return self.desk.page(
            request,
            "company.html.j2",
            entity=entity,
            facts=by_kind,
            world=present.colour_map(svg, footprint),
        )

    async def companies(self, request: Request) -> Response:
        entities = await run_in_threadpool(self.desk.read, known_entities)
        return self.desk.page(request, "companies.html.j2", entities=entities)

    # --- sources ---------------------------------------------------------------------
    async def sources(self, request: Request) -> Response:
        """Each source's health as `monitor status` has it (configured ones in config
        order, then those only the database knows), failing ones first."""
        app = self.desk.app

        def load(session: Session) -> list[dict[str, Any]]:
            configured = app.config.sources if app.has_config else []
            facts = facts_per_source(session)
            records = []
            for name, source, row in status_order(configured, all_sources(session)):
                record = source_status(name, source, row)
                record.update(
                    url=safe_link(safe_url(row.url if row else source.url if source else "")),
                    failing=record["consecutive_failures"] > 0,
                    last_success=row.last_success_at if row else None,
                    last_error_moment=row.last_error_at if row else None,
                    next_due=row.next_due_at if row else None,
                    item_count=record["items"],  # ("items" is a dict method in templates)
                    fact_count=facts.get(name, 0),
                )
                records.append(record)
            records.sort(key=lambda r: not r["failing"])  # stable: config order otherwise
            return records

        records = await run_in_threadpool(self.desk.read, load)
        return self.desk.page(request, "sources.html.j2", sources=records)
