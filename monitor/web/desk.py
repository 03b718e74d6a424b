"""What every handler of the desk shares: the app and guard it serves, the Jinja
environment, rendering a page or an error, a read in its own session, a change log row,
and the parsing of path and form values.

Reads run in Starlette's thread pool (the store is synchronous SQLAlchemy); each request
opens its own session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from monitor.notify.render import safe_link
from monitor.store.queries import ChangeView
from monitor.views import change_title, display_value, entity_name
from monitor.web import present
from monitor.web.security import SESSION_COOKIE, Guard

if TYPE_CHECKING:
    from monitor.app import App

HERE = Path(__file__).resolve().parent


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


class Desk:
    """One served desk: its app and guard, and the helpers its handlers share (no module
    state)."""

    def __init__(self, app: App, guard: Guard):
        self.app = app
        self.guard = guard
        self.env = _environment()

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

    def row(self, view: ChangeView) -> dict[str, Any]:
        """One change as the change log's row (``_row.html.j2``) shows it."""
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


def parse_int(raw: str) -> int | None:
    """A change id from a path or a form: digits only (and not absurdly long), else None."""
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def form_field(form: Any, name: str) -> str:
    """A form's text field, "" when missing (or an upload)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
