"""A real HTTP server on 127.0.0.1 for tests: routes map a path to a handler.

    server = LocalServer()            # started in a thread, port chosen by the OS
    server.route("/feed.xml", Reply(body=b"...", headers={"Content-Type": "application/rss+xml"}))
    server.route("/flaky", lambda req: Reply(status=500) if req.count < 3 else Reply(body=b"ok"))
    server.url("/feed.xml")           # http://127.0.0.1:PORT/feed.xml
    server.requests                   # every Request seen, in order

A handler is a Reply or a callable taking a Request and returning a Reply.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str  # including the query string
    headers: dict[str, str]
    body: bytes
    count: int  # how many requests this route had before this one


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (models latency or a hang)
    drip: float = 0.0  # seconds between body bytes (a slow-drip server); 0: all at once
    reason: str | None = None  # the status line's reason phrase (None: the standard one)


Handler = Reply | Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that drops its keep-alive connection (or is cut by a deadline) is normal
        # here; socketserver would print a traceback on stderr, which CLI tests capture.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.counts: dict[str, int] = {}
        self.requests: list[Request] = []
        self.active = 0  # requests being answered right now
        self.max_active = 0  # the most answered at once (checks concurrency limits)
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path_only = self.path.split("?", 1)[0]
                key = self.path if self.path in server.routes else path_only
                with server._lock:
                    count = server.counts.get(key, 0)
                    server.counts[key] = count + 1
                    req = Request(
                        self.command,
                        self.path,
                        {k: v for k, v in self.headers.items()},
                        body,
                        count,
                    )
                    server.requests.append(req)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    self._answer(key, req)
                finally:
                    with server._lock:
                        server.active -= 1

            def _answer(self, key: str, req: Request) -> None:
                handler = server.routes.get(key)
                if handler is None:
                    reply = Reply(status=404, body=b"not found")
                else:
                    reply = handler(req) if callable(handler) else handler
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status, reply.reason)
                    headers = dict(reply.headers)
                    headers.setdefault("Content-Length", str(len(reply.body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD" and reply.drip:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    elif self.command != "HEAD":
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = do_PUT = _serve

        self.httpd = _QuietServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host
        # A short poll interval makes close() quick (the default waits up to 0.5 s).
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path or r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
