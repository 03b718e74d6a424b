"""Serving the desk with uvicorn: in the foreground (`monitor serve`) or in a thread beside
the daemon (`monitor run --web`)."""

from __future__ import annotations

import os
import threading

import uvicorn
from starlette.types import ASGIApp

from monitor.web.security import TOKEN_ENV, Guard, check_bind, is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8350


def parse_bind(text: str) -> tuple[str, int]:
    """``8350``, ``127.0.0.1:8350``, ``[::1]:8350`` or ``0.0.0.0:80`` -> (host, port).
    ValueError with a one-line reason otherwise."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        host, port = DEFAULT_HOST, text.strip()
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not [HOST:]PORT (e.g. 8350 or 127.0.0.1:8350)")
    return host, int(port)


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def make_guard(host: str, token: str | None) -> Guard:
    """The guard for a bind; BindRefused when a public bind has no token."""
    check_bind(host, token)
    return Guard(token=token, loopback=is_loopback(host))


def build_server(
    app: ASGIApp, host: str, port: int, *, log_level: str = "warning"
) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """uvicorn in a daemon thread (it installs no signal handler off the main thread)."""

    def __init__(self, app: ASGIApp, host: str, port: int):
        self.host = host
        self.server = build_server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.thread.is_alive() and waited < timeout:
            threading.Event().wait(0.05)
            waited += 0.05

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS chose, when asked for port 0)."""
        for server in getattr(self.server, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    @property
    def where(self) -> str:
        """``127.0.0.1:8350`` (``[::1]:8350``): the host and port to put in a URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
