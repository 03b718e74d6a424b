"""Triage from the desk: setting the review state of changes (unread, seen, confirmed,
dismissed with a reason) from the change log's form, one row's button (htmx or plain
form) and the JSON API. Every state change goes through :func:`apply_state`, which calls
the same store function as the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.errors import ReviewError
from monitor.store.db import transaction, utcnow
from monitor.store.queries import get_change
from monitor.store.review import StateChange, set_state
from monitor.web.desk import Desk, form_field, parse_int
from monitor.web.present import BadRequest
from monitor.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, safe_next

if TYPE_CHECKING:
    from monitor.app import App


def apply_state(app: App, ids: list[int], state: str, reason: str) -> list[StateChange]:
    """Set the review state of the changes (the CLI's store function); what changed,
    for the ids that exist. BadRequest on an unknown state or a reasonless dismissal."""
    done = []
    try:
        with transaction(app.sessions) as session:
            now = utcnow()
            for change_id in ids:
                result = set_state(session, change_id, state, now, reason or None)
                if result is not None:
                    done.append(result)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from None
    return done


class Triage:
    """The review-state handlers of the pages over one :class:`Desk` (the API's is in
    :mod:`monitor.web.api`)."""

    def __init__(self, desk: Desk):
        self.desk = desk

    async def form_state(self, request: Request) -> Response:
        """The change log's form: bulk (checked ids + state) or one row's button."""
        desk = self.desk
        form = await request.form()
        cookie = request.cookies.get(SESSION_COOKIE)
        if not desk.guard.csrf_ok(cookie, form_field(form, CSRF_FIELD)):
            return desk.error(request, 403, "the form has expired: reload the page")
        one = form_field(form, "row_action")
        if one and ":" in one:
            raw_id, state = one.split(":", 1)
            ids = [i for i in [parse_int(raw_id)] if i is not None]
            reason = form_field(form, f"reason-{raw_id}")
        else:
            ids = [i for i in (parse_int(str(v)) for v in form.getlist("id")) if i is not None]
            state, reason = form_field(form, "state"), form_field(form, "reason")
        if not ids:
            return desk.error(request, 400, "select at least one change")
        try:
            await run_in_threadpool(apply_state, desk.app, ids, state, reason)
        except BadRequest as exc:
            return desk.error(request, 400, str(exc))
        return RedirectResponse(safe_next(form_field(form, "next")), status_code=303)

    async def row_state(self, request: Request) -> Response:
        """One row's action from htmx: answers the row, re-rendered."""
        desk = self.desk
        form = await request.form()
        token = request.headers.get(CSRF_HEADER) or form_field(form, CSRF_FIELD)
        if not desk.guard.csrf_ok(request.cookies.get(SESSION_COOKIE), token):
            return desk.error(request, 403, "the form has expired: reload the page")
        change_id = parse_int(request.path_params["change_id"])
        if change_id is None:
            return desk.error(request, 404, "no such change")
        state = form_field(form, "state")
        reason = form_field(form, "reason") or form_field(form, f"reason-{change_id}")
        try:
            done = await run_in_threadpool(apply_state, desk.app, [change_id], state, reason)
        except BadRequest as exc:
            return desk.error(request, 400, str(exc))
        if not done:
            return desk.error(request, 404, f"no change #{change_id}")
        if request.headers.get("hx-request") != "true":
            return RedirectResponse(safe_next(form_field(form, "next")), status_code=303)
        view = await run_in_threadpool(desk.read, lambda s: get_change(s, change_id))
        html = desk.env.get_template("_row.html.j2").render(
            r=desk.row(view), csrf=desk.guard.csrf_token(request.cookies.get(SESSION_COOKIE))
        )
        return HTMLResponse(html)
