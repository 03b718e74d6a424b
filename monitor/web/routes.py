"""The desk as an ASGI app: the route table over its handlers, behind the guard.

The handlers parse a request, call the store, render a template or JSON (no SQL here):

- :mod:`monitor.web.desk`: what they share (rendering, reads, a change log row);
- :mod:`monitor.web.pages`: the HTML pages (change log, one change, companies, sources);
- :mod:`monitor.web.triage`: review-state changes from the pages (:func:`apply_state`);
- :mod:`monitor.web.api`: the Atom feed, the JSON API and ``/healthz``;
- :mod:`monitor.web.signin`: the login form and signing out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.web.api import Api
from monitor.web.desk import HERE, Desk
from monitor.web.pages import Pages
from monitor.web.security import Guard, GuardMiddleware
from monitor.web.signin import SignIn
from monitor.web.triage import Triage

if TYPE_CHECKING:
    from monitor.app import App


def create_app(app: App, guard: Guard | None = None) -> Starlette:
    """The desk over ``app`` (its database, names and sources) as an ASGI app."""
    guard = guard or Guard()
    desk = Desk(app, guard)
    pages, triage, api, signin = Pages(desk), Triage(desk), Api(desk), SignIn(desk)
    routes = [
        Route("/", pages.changes),
        Route("/changes/state", triage.form_state, methods=["POST"]),
        Route("/changes/{change_id}", pages.change),
        Route("/changes/{change_id}/state", triage.row_state, methods=["POST"]),
        Route("/facets", pages.evidence_counts),
        Route("/companies", pages.companies),
        Route("/companies/{entity}", pages.company),
        Route("/sources", pages.sources),
        Route("/feed.atom", api.feed),
        Route("/api/changes", api.api_changes),
        Route("/api/changes/{change_id}", api.api_change),
        Route("/api/changes/{change_id}/state", api.api_state, methods=["POST"]),
        Route("/healthz", api.healthz),
        Route("/login", signin.login, methods=["GET", "POST"]),
        Route("/logout", signin.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    web = Starlette(routes=routes)
    web.add_middleware(GuardMiddleware, guard=guard)
    return web
