"""The desk's machine-read endpoints: the Atom feed, the JSON API (the change log paged by
cursor, one change, setting a change's review state) and ``/healthz`` (the database and
the daemon's heartbeat)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.daemonlock import read_daemon_report
from monitor.errors import QueryError
from monitor.store.changelog import state_updated_at
from monitor.store.db import utcnow
from monitor.store.queries import ChangeQuery, count_changes, find_changes, get_change
from monitor.views import change_json
from monitor.web import present
from monitor.web.desk import Desk, parse_int
from monitor.web.present import BadRequest
from monitor.web.triage import apply_state

HEARTBEAT_KEY = "daemon.lock"


class Api:
    """The feed, API and health handlers over one :class:`Desk`."""

    def __init__(self, desk: Desk):
        self.desk = desk

    async def feed(self, request: Request) -> Response:
        params = dict(request.query_params)
        params.pop("cursor", None)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return self.desk.error(request, 400, str(exc))
        page = await run_in_threadpool(self.desk.read, lambda s: find_changes(s, query))
        base = str(request.base_url).rstrip("/")
        body = present.atom_feed(
            page.changes,
            base_url=base,
            self_url=str(request.url),
            title_of=self.desk.title_of,
            now=utcnow(),
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    async def api_changes(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            query = present.query_from_params(params, limit=present.limit_from_params(params))
        except BadRequest as exc:
            return self.desk.error(request, 400, str(exc))
        try:
            page = await run_in_threadpool(self.desk.read, lambda s: find_changes(s, query))
        except QueryError as exc:
            return self.desk.error(request, 400, str(exc))
        return JSONResponse(
            {"changes": [change_json(v) for v in page.changes], "next": page.next_cursor}
        )

    async def api_change(self, request: Request) -> Response:
        change_id = parse_int(request.path_params["change_id"])
        view = await run_in_threadpool(
            self.desk.read, lambda s: get_change(s, change_id) if change_id is not None else None
        )
        if view is None:
            return self.desk.error(request, 404, f"no change #{request.path_params['change_id']}")
        return JSONResponse(change_json(view))

    async def api_state(self, request: Request) -> Response:
        desk = self.desk
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return desk.error(request, 415, "send JSON (Content-Type: application/json)")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return desk.error(request, 400, "the body is not JSON")
        if not isinstance(body, dict):
            return desk.error(request, 400, 'send {"state": "...", "reason": "..."}')
        change_id = parse_int(request.path_params["change_id"])
        if change_id is None:
            return desk.error(request, 404, "no such change")
        try:
            done = await run_in_threadpool(
                apply_state,
                desk.app,
                [change_id],
                str(body.get("state") or ""),
                str(body.get("reason") or ""),
            )
        except BadRequest as exc:
            return desk.error(request, 400, str(exc))
        if not done:
            return desk.error(request, 404, f"no change #{change_id}")
        view = await run_in_threadpool(desk.read, lambda s: get_change(s, change_id))
        return JSONResponse({"change": change_json(view), "message": done[0].describe()})

    async def healthz(self, request: Request) -> Response:
        def probe(session: Session) -> dict[str, Any]:
            beat = state_updated_at(session, HEARTBEAT_KEY)
            count_changes(session, ChangeQuery(limit=1))
            age = (utcnow() - beat).total_seconds() if beat else None
            return {"database": "ok", "daemon_heartbeat_age_s": age}

        try:
            found = await run_in_threadpool(self.desk.read, probe)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
            return JSONResponse(
                {"ok": False, "database": f"error: {reason}", "daemon_heartbeat_age_s": None},
                status_code=503,
            )
        # The daemon says in its lock file when the database refuses its writes (readable
        # here all the same: locked, read-only, full).
        daemon = await run_in_threadpool(read_daemon_report, self.desk.app.engine)
        found["daemon"] = daemon.to_json()
        if not daemon.database_ok:
            found["database"] = f"daemon cannot write: {daemon.database_error}"
            return JSONResponse({"ok": False, **found}, status_code=503)
        return JSONResponse({"ok": True, **found})
