"""The Fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import threading

import pytest

from monitor import USER_AGENT
from monitor.errors import BodyTooLarge, FetchError, HTTPStatusError, RateLimited
from monitor.fetch import FetchCancelled, Fetcher, parse_retry_after, safe_url
from tests.httpserver import LocalServer, Reply, Request

LAST_MODIFIED = "Wed, 05 Nov 2025 07:28:00 GMT"


def quick(**kwargs: object) -> Fetcher:
    """A Fetcher whose retry pauses are short (the policy is the same)."""
    options: dict[str, object] = {"retry_backoff": 0.01}
    options.update(kwargs)
    return Fetcher(**options)  # type: ignore[arg-type]


def test_conditional_get_echoes_the_servers_validators(http_server: LocalServer) -> None:
    def handler(req: Request) -> Reply:
        if req.headers.get("If-None-Match") == '"v1"':
            return Reply(status=304, headers={"ETag": '"v1"'})
        return Reply(body=b"<rss/>", headers={"ETag": '"v1"', "Last-Modified": LAST_MODIFIED})

    http_server.route("/feed", handler)
    fetcher = quick()
    first = fetcher.get(http_server.url("/feed"), source="s")
    assert (first.status, first.body, first.not_modified) == (200, b"<rss/>", False)
    assert (first.etag, first.last_modified) == ('"v1"', LAST_MODIFIED)
    second = fetcher.get(
        http_server.url("/feed"), source="s", etag=first.etag, last_modified=first.last_modified
    )
    assert second.not_modified and second.body == b"" and second.status == 304
    sent = http_server.requests[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == LAST_MODIFIED  # verbatim, not the client's clock
    assert "If-None-Match" not in http_server.requests[0].headers


def test_honest_user_agent_and_gzip(http_server: LocalServer) -> None:
    payload = b"<rss>" + b"x" * 5000 + b"</rss>"
    http_server.route(
        "/gz", Reply(body=gzip.compress(payload), headers={"Content-Encoding": "gzip"})
    )
    result = quick().get(http_server.url("/gz"))
    assert result.body == payload
    request = http_server.requests[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert "monitor/" in USER_AGENT
    assert "gzip" in request.headers["Accept-Encoding"]


def test_cap_applies_to_decompressed_bytes(http_server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 2_000_000)  # ~2 KB on the wire, 2 MB decoded
    assert len(bomb) < 10_000
    http_server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(BodyTooLarge) as info:
        quick().get(http_server.url("/bomb"), source="bomb", max_body=1_000_000)
    assert "cap" in str(info.value) and "bomb" in str(info.value)


def test_declared_length_over_cap_fails_before_reading(http_server: LocalServer) -> None:
    http_server.route("/big", Reply(body=b"a" * 4096))
    with pytest.raises(BodyTooLarge, match="the 1 KiB cap"):
        quick(max_body=1024).get(http_server.url("/big"), source="big")


def test_5xx_is_retried_then_succeeds(http_server: LocalServer) -> None:
    http_server.route(
        "/flaky", lambda req: Reply(status=502) if req.count < 2 else Reply(body=b"ok")
    )
    assert quick(retries=2).get(http_server.url("/flaky")).body == b"ok"
    assert http_server.counts["/flaky"] == 3


def test_5xx_gives_up_after_the_retries(http_server: LocalServer) -> None:
    http_server.route("/down", Reply(status=500))
    with pytest.raises(HTTPStatusError) as info:
        quick(retries=2).get(http_server.url("/down"), source="down")
    assert info.value.status == 500
    assert http_server.counts["/down"] == 3  # 1 + 2 retries, no more


def test_4xx_is_not_retried(http_server: LocalServer) -> None:
    http_server.route("/gone", Reply(status=404))
    with pytest.raises(HTTPStatusError) as info:
        quick(retries=2).get(http_server.url("/gone"))
    assert info.value.status == 404
    assert http_server.counts["/gone"] == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_raises_rate_limited_without_retrying(
    http_server: LocalServer, status: int
) -> None:
    http_server.route("/slow-down", Reply(status=status, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as info:
        quick(retries=2).get(http_server.url("/slow-down"), source="s")
    assert info.value.retry_after == 120
    assert http_server.counts["/slow-down"] == 1


def test_retry_after_http_date_is_measured_against_the_server_date() -> None:
    # The client's clock is irrelevant: 90 s between the server's Date and Retry-After.
    wait = parse_retry_after("Wed, 05 Nov 2025 07:31:30 GMT", "Wed, 05 Nov 2025 07:30:00 GMT")
    assert wait == 90
    assert parse_retry_after("soon") is None
    assert parse_retry_after("99999999") == 24 * 3600  # capped at a day


def test_redirects_followed_up_to_the_limit(http_server: LocalServer) -> None:
    for i in range(7):
        http_server.route(f"/r{i}", Reply(status=302, headers={"Location": f"/r{i + 1}"}))
    http_server.route("/r7", Reply(body=b"end"))
    http_server.route("/short", Reply(status=301, headers={"Location": "/r6"}))
    result = quick().get(http_server.url("/short"))
    assert result.body == b"end" and result.final_url.endswith("/r7")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        quick().get(http_server.url("/r0"))


def test_slow_drip_body_is_cut_at_the_deadline(http_server: LocalServer) -> None:
    # Each byte arrives well within the read timeout, so only the overall deadline stops it.
    http_server.route("/drip", Reply(body=b"x" * 1000, drip=0.05))
    with pytest.raises(FetchError, match="no complete response within"):
        quick(read_timeout=5, deadline=0.5, retries=2).get(http_server.url("/drip"))
    assert http_server.counts["/drip"] == 1  # a timeout is not retried


def test_hang_before_headers_hits_the_read_timeout(http_server: LocalServer) -> None:
    http_server.route("/hang", Reply(body=b"late", delay=3))
    with pytest.raises(FetchError, match=r"timed out|no complete response"):
        quick(read_timeout=0.3, retries=1).get(http_server.url("/hang"), source="hang")
    assert http_server.counts["/hang"] == 1


def test_connection_refused_is_a_fetch_error_without_credentials() -> None:
    with pytest.raises(FetchError) as info:
        quick(retries=1).get("http://user:s3cret@127.0.0.1:1/feed", source="dead")
    message = str(info.value)
    assert "connection failed" in message and "s3cret" not in message
    assert info.value.source == "dead"


def test_safe_url_masks_credentials() -> None:
    assert safe_url("https://u:p@example.com:8443/a?b=1") == "https://***@example.com:8443/a?b=1"
    assert safe_url("https://example.com/x") == "https://example.com/x"


def test_per_host_limit_caps_requests_in_flight(http_server: LocalServer) -> None:
    http_server.route("/slow", Reply(body=b"ok", delay=0.2))
    fetcher = quick(per_host=2)
    threads = [
        threading.Thread(target=fetcher.get, args=(http_server.url("/slow"),)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert http_server.counts["/slow"] == 6
    assert http_server.max_active == 2


def test_close_cuts_requests_in_flight(http_server: LocalServer) -> None:
    http_server.route("/hang", Reply(body=b"late", delay=5))
    fetcher = quick(read_timeout=30)
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            fetcher.get(http_server.url("/hang"))
        except FetchError as exc:
            errors.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    while not http_server.counts.get("/hang"):
        threading.Event().wait(0.01)
    fetcher.close()
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], FetchCancelled)
