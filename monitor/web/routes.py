"""The desk's routes: parse a request, call the store, render a template or JSON.

Reads run in Starlette's thread pool (the store is synchronous SQLAlchemy); each request
opens its own session. Every state change goes through :func:`apply_state`, which calls
the same store functions as the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.daemonlock import read_daemon_report
from monitor.errors import QueryError, ReviewError
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
    state_updated_at,
)
from monitor.store.db import transaction, utcnow
from monitor.store.queries import (
    ChangeQuery,
    ChangeView,
    count_changes,
    find_changes,
    get_change,
)
from monitor.store.review import StateChange, set_state
from monitor.store.sources import all_sources
from monitor.views import (
    change_json,
    change_title,
    display_value,
    entity_name,
    source_status,
    status_order,
)
from monitor.web import present
from monitor.web.present import BadRequest
from monitor.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Guard,
    GuardMiddleware,
    safe_next,
)

if TYPE_CHECKING:
    from monitor.app import App

HERE = Path(__file__).resolve().parent
HEARTBEAT_KEY = "daemon.lock"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["link"] = safe_link
    env.filters["when"] = lambda m: f"{m:%Y-%m-%d %H:%M}" if m else "–"
    env.filters["day"] = lambda m: f"{m:%Y-%m-%d}" if m else "–"
    env.globals["display_value"] = display_value
    env.globals["highlight"] = present.highlight
    return env


class Views:
    """The handlers, bound to one desk and one guard (no module state)."""

    def __init__(self, app: App, guard: Guard):
        self.app = app
        self.guard = guard
        self.env = _environment()

    # --- helpers ---------------------------------------------------------------------
    def name(self, entity: str) -> str:
        return entity_name(self.app.names, entity)

    def title_of(self, view: ChangeView) -> str:
        return change_title(view, self.app.names)

    def page(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        cookie = request.cookies.get(SESSION_COOKIE)
        html = self.env.get_template(template).render(
            request_path=request.url.path,
            csrf=self.guard.csrf_token(cookie),
            csrf_header=json.dumps({"X-CSRF-Token": self.guard.csrf_token(cookie)}),
            signed_in=bool(self.guard.token) and self.guard.session_nonce(cookie) is not None,
            name=self.name,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/feed.atom":
            return JSONResponse({"error": message}, status_code=status)
        return self.page(request, "error.html.j2", status=status, message=message)

    def read(self, work: Callable[[Session], Any]) -> Any:
        with self.app.sessions() as session:
            return work(session)

    # --- the change log --------------------------------------------------------------
    async def changes(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
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
            data = await run_in_threadpool(self.read, load)
        except QueryError as exc:  # a cursor this desk did not make
            return self.error(request, 400, str(exc))
        rows = [self.row(v) for v in data["page"].changes]
        following = data["page"].next_cursor
        return self.page(
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
            entity_names={e: self.name(e) for e, _ in data["facets"].values["entity"]},
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
            return self.error(request, 400, str(exc))

        def load(session: Session) -> dict[str, list[tuple[str, int]]]:
            return evidence_facets(session, narrow_search(session, query))

        facets = await run_in_threadpool(self.read, load)
        html = self.env.get_template("_evidence_facets.html.j2").render(
            facets=facets,
            params=params,
            link=lambda **changes: "/?" + urlencode(present.kept_params(params, **changes)),
        )
        return HTMLResponse(html)

    def row(self, view: ChangeView) -> dict[str, Any]:
        first = view.evidence[0] if view.evidence else None
        return {
            "id": view.id,
            "at": view.at,
            "published": view.published,
            "entity": view.entity,
            "entity_name": self.name(view.entity),
            "kind": view.kind,
            "value": view.value,
            "value_display": display_value(view.kind, view.value),
            "change": view.change,
            "status": view.status,
            "state": view.state,
            "state_at": view.state_at,
            "backfill": view.backfill,
            "dismiss_reason": view.dismiss_reason,
            "outlets": len({e.source for e in view.evidence}),
            "languages": len({e.lang for e in view.evidence if e.lang}),
            "headline": first.title if first else "",
            "headline_url": safe_link(first.url) if first else "#",
        }

    # --- one change ------------------------------------------------------------------
    async def change(self, request: Request) -> Response:
        change_id = _int(request.path_params["change_id"])

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

        data = await run_in_threadpool(self.read, load)
        if data is None:
            return self.error(request, 404, f"no change #{request.path_params['change_id']}")
        view = data["view"]
        return self.page(
            request,
            "change.html.j2",
            view=view,
            row=self.row(view),
            title=self.title_of(view),
            history=data["history"],
            deliveries=data["deliveries"],
        )

    # --- state changes ---------------------------------------------------------------
    def apply_state(self, ids: list[int], state: str, reason: str) -> list[StateChange]:
        """Set the review state of the changes (the CLI's store function); what changed,
        for the ids that exist. BadRequest on an unknown state or a reasonless dismissal."""
        done = []
        try:
            with transaction(self.app.sessions) as session:
                now = utcnow()
                for change_id in ids:
                    result = set_state(session, change_id, state, now, reason or None)
                    if result is not None:
                        done.append(result)
        except ReviewError as exc:
            raise BadRequest(str(exc)) from None
        return done

    async def form_state(self, request: Request) -> Response:
        """The change log's form: bulk (checked ids + state) or one row's button."""
        form = await request.form()
        if not self.guard.csrf_ok(request.cookies.get(SESSION_COOKIE), _field(form, CSRF_FIELD)):
            return self.error(request, 403, "the form has expired: reload the page")
        one = _field(form, "row_action")
        if one and ":" in one:
            raw_id, state = one.split(":", 1)
            ids = [i for i in [_int(raw_id)] if i is not None]
            reason = _field(form, f"reason-{raw_id}")
        else:
            ids = [i for i in (_int(str(v)) for v in form.getlist("id")) if i is not None]
            state, reason = _field(form, "state"), _field(form, "reason")
        if not ids:
            return self.error(request, 400, "select at least one change")
        try:
            await run_in_threadpool(self.apply_state, ids, state, reason)
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        return RedirectResponse(safe_next(_field(form, "next")), status_code=303)

    async def row_state(self, request: Request) -> Response:
        """One row's action from htmx: answers the row, re-rendered."""
        form = await request.form()
        token = request.headers.get(CSRF_HEADER) or _field(form, CSRF_FIELD)
        if not self.guard.csrf_ok(request.cookies.get(SESSION_COOKIE), token):
            return self.error(request, 403, "the form has expired: reload the page")
        change_id = _int(request.path_params["change_id"])
        if change_id is None:
            return self.error(request, 404, "no such change")
        state = _field(form, "state")
        reason = _field(form, "reason") or _field(form, f"reason-{change_id}")
        try:
            done = await run_in_threadpool(self.apply_state, [change_id], state, reason)
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        if not done:
            return self.error(request, 404, f"no change #{change_id}")
        if request.headers.get("hx-request") != "true":
            return RedirectResponse(safe_next(_field(form, "next")), status_code=303)
        view = await run_in_threadpool(self.read, lambda s: get_change(s, change_id))
        html = self.env.get_template("_row.html.j2").render(
            r=self.row(view), csrf=self.guard.csrf_token(request.cookies.get(SESSION_COOKIE))
        )
        return HTMLResponse(html)

    # --- footprint -------------------------------------------------------------------
    async def company(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        facts = await run_in_threadpool(self.read, lambda s: facts_of(s, entity))
        if not facts:
            return self.error(request, 404, f"no facts known for {entity!r}")
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
        return self.page(
            request,
            "company.html.j2",
            entity=entity,
            facts=by_kind,
            world=present.colour_map(svg, footprint),
        )

    async def companies(self, request: Request) -> Response:
        entities = await run_in_threadpool(self.read, known_entities)
        return self.page(request, "companies.html.j2", entities=entities)

    # --- sources ---------------------------------------------------------------------
    async def sources(self, request: Request) -> Response:
        """Each source's health as `monitor status` has it (configured ones in config
        order, then those only the database knows), failing ones first."""

        def load(session: Session) -> list[dict[str, Any]]:
            configured = self.app.config.sources if self.app.has_config else []
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

        records = await run_in_threadpool(self.read, load)
        return self.page(request, "sources.html.j2", sources=records)

    # --- feed, API, health -----------------------------------------------------------
    async def feed(self, request: Request) -> Response:
        params = dict(request.query_params)
        params.pop("cursor", None)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        page = await run_in_threadpool(self.read, lambda s: find_changes(s, query))
        base = str(request.base_url).rstrip("/")
        body = present.atom_feed(
            page.changes,
            base_url=base,
            self_url=str(request.url),
            title_of=self.title_of,
            now=utcnow(),
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    async def api_changes(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        try:
            page = await run_in_threadpool(self.read, lambda s: find_changes(s, query))
        except QueryError as exc:
            return self.error(request, 400, str(exc))
        return JSONResponse(
            {"changes": [change_json(v) for v in page.changes], "next": page.next_cursor}
        )

    async def api_change(self, request: Request) -> Response:
        change_id = _int(request.path_params["change_id"])
        view = await run_in_threadpool(
            self.read, lambda s: get_change(s, change_id) if change_id is not None else None
        )
        if view is None:
            return self.error(request, 404, f"no change #{request.path_params['change_id']}")
        return JSONResponse(change_json(view))

    async def api_state(self, request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return self.error(request, 415, "send JSON (Content-Type: application/json)")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self.error(request, 400, "the body is not JSON")
        if not isinstance(body, dict):
            return self.error(request, 400, 'send {"state": "...", "reason": "..."}')
        change_id = _int(request.path_params["change_id"])
        if change_id is None:
            return self.error(request, 404, "no such change")
        try:
            done = await run_in_threadpool(
                self.apply_state,
                [change_id],
                str(body.get("state") or ""),
                str(body.get("reason") or ""),
            )
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        if not done:
            return self.error(request, 404, f"no change #{change_id}")
        view = await run_in_threadpool(self.read, lambda s: get_change(s, change_id))
        return JSONResponse({"change": change_json(view), "message": done[0].describe()})

    async def healthz(self, request: Request) -> Response:
        def probe(session: Session) -> dict[str, Any]:
            beat = state_updated_at(session, HEARTBEAT_KEY)
            count_changes(session, ChangeQuery(limit=1))
            age = (utcnow() - beat).total_seconds() if beat else None
            return {"database": "ok", "daemon_heartbeat_age_s": age}

        try:
            found = await run_in_threadpool(self.read, probe)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
            return JSONResponse(
                {"ok": False, "database": f"error: {reason}", "daemon_heartbeat_age_s": None},
                status_code=503,
            )
        # The daemon says in its lock file when the database refuses its writes (readable
        # here all the same: locked, read-only, full).
        daemon = await run_in_threadpool(read_daemon_report, self.app.engine)
        found["daemon"] = daemon.to_json()
        if not daemon.database_ok:
            found["database"] = f"daemon cannot write: {daemon.database_error}"
            return JSONResponse({"ok": False, **found}, status_code=503)
        return JSONResponse({"ok": True, **found})

    # --- sign in ---------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return self.page(request, "login.html.j2", next=target, failed=False)
        form = await request.form()
        target = safe_next(_field(form, "next"))
        if not self.guard.csrf_ok(None, _field(form, CSRF_FIELD)):
            return self.error(request, 403, "the form has expired: reload the page")
        if not self.guard.token_ok(_field(form, "token")):
            return self.page(request, "login.html.j2", status=401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            self.guard.session_value(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        if not self.guard.csrf_ok(request.cookies.get(SESSION_COOKIE), _field(form, CSRF_FIELD)):
            return self.error(request, 403, "the form has expired: reload the page")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def _int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def create_app(app: App, guard: Guard | None = None) -> Starlette:
    """The desk over ``app`` (its database, names and sources) as an ASGI app."""
    guard = guard or Guard()
    views = Views(app, guard)
    routes = [
        Route("/", views.changes),
        Route("/changes/state", views.form_state, methods=["POST"]),
        Route("/changes/{change_id}", views.change),
        Route("/changes/{change_id}/state", views.row_state, methods=["POST"]),
        Route("/facets", views.evidence_counts),
        Route("/companies", views.companies),
        Route("/companies/{entity}", views.company),
        Route("/sources", views.sources),
        Route("/feed.atom", views.feed),
        Route("/api/changes", views.api_changes),
        Route("/api/changes/{change_id}", views.api_change),
        Route("/api/changes/{change_id}/state", views.api_state, methods=["POST"]),
        Route("/healthz", views.healthz),
        Route("/login", views.login, methods=["GET", "POST"]),
        Route("/logout", views.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    web = Starlette(routes=routes)
    web.add_middleware(GuardMiddleware, guard=guard)
    return web
