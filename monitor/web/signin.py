"""Signing in to a desk that has a token: the login form (which sets the session cookie,
throttled per address like a Bearer token: :class:`monitor.web.security.LoginThrottle`)
and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.web.desk import Desk, form_field
from monitor.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Throttled,
    client_key,
    safe_next,
    scope_client,
)


def wait_text(seconds: int) -> str:
    """``40 seconds``, ``1 minute``, ``5 minutes``: how long the login page asks to wait."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class SignIn:
    """The login and logout handlers over one :class:`Desk`."""

    def __init__(self, desk: Desk):
        self.desk = desk

    async def login(self, request: Request) -> Response:
        desk = self.desk
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return desk.page(request, "login.html.j2", next=target, failed=False, wait=None)
        form = await request.form()
        target = safe_next(form_field(form, "next"))
        if not desk.guard.csrf_ok(None, form_field(form, CSRF_FIELD)):
            return desk.error(request, 403, "the form has expired: reload the page")
        client = client_key(scope_client(request.scope))
        try:
            right = desk.guard.attempt(client, form_field(form, "token"))
        except Throttled as exc:
            page = desk.page(
                request,
                "login.html.j2",
                status=429,
                next=target,
                failed=False,
                wait=wait_text(exc.retry_after),
            )
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        if not right:
            return desk.page(
                request, "login.html.j2", status=401, next=target, failed=True, wait=None
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            desk.guard.session_value(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(SESSION_COOKIE)
        if not self.desk.guard.csrf_ok(cookie, form_field(form, CSRF_FIELD)):
            return self.desk.error(request, 403, "the form has expired: reload the page")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response
