"""Guessing the desk's token is throttled per client address: over real HTTP (uvicorn on
127.0.0.1, a second client from 127.0.0.2) and on the throttle itself, with an injected
clock instead of sleeping."""

from __future__ import annotations

import http.client
import logging
import re
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import Engine

from monitor.web.security import (
    LOGIN_FAILURES_ALLOWED,
    LOGIN_WINDOW_S,
    Guard,
    LoginThrottle,
    client_key,
)
from monitor.web.signin import wait_text
from tests.web_support import serving

TOKEN = "s3cret-token"
RIGHT = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer nope"}


class Clock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guard(clock: Clock) -> Guard:
    return Guard(token=TOKEN, loopback=False, throttle=LoginThrottle(clock=clock))


def _login(browser: requests.Session, base: str, token: str) -> requests.Response:
    page = browser.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert csrf
    return browser.post(
        f"{base}/login",
        data={"token": token, "csrf": csrf.group(1), "next": "/sources"},
        timeout=10,
        allow_redirects=False,
    )


def _get_from(source: str, base: str, path: str, headers: dict[str, str]) -> int:
    """The status of a GET sent from another loopback address (Linux answers all of 127/8)."""
    where = urlsplit(base)
    assert where.hostname and where.port
    conn = http.client.HTTPConnection(
        where.hostname, where.port, timeout=10, source_address=(source, 0)
    )
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_wrong_bearer_tokens_then_429_even_for_the_right_one_until_the_window_passes(
    fresh_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    browser = requests.Session()
    with (
        caplog.at_level(logging.WARNING, logger="monitor.web.security"),
        serving(fresh_db, _guard(clock)) as base,
    ):
        assert _login(browser, base, TOKEN).status_code == 303  # a session from before
        for _ in range(LOGIN_FAILURES_ALLOWED):
            assert requests.get(f"{base}/api/changes", headers=WRONG, timeout=10).status_code == 401
        throttled = requests.get(f"{base}/api/changes", headers=WRONG, timeout=10)
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == str(int(LOGIN_WINDOW_S))
        assert "too many wrong tokens" in throttled.text
        right = requests.get(f"{base}/feed.atom", headers=RIGHT, timeout=10)
        assert right.status_code == 429, "a right token from a throttled address is refused"
        assert _login(requests.Session(), base, TOKEN).status_code == 429
        # the session cookie is not a guess of the token: it keeps working
        assert browser.get(f"{base}/sources", timeout=10).status_code == 200
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        clock.now += LOGIN_WINDOW_S - 30
        late = requests.get(f"{base}/api/changes", headers=RIGHT, timeout=10)
        assert late.status_code == 429 and late.headers["retry-after"] == "30"
        clock.now += 30
        assert requests.get(f"{base}/api/changes", headers=RIGHT, timeout=10).status_code == 200
        # a fresh start: the wrong tokens before the wait count no more
        assert requests.get(f"{base}/api/changes", headers=WRONG, timeout=10).status_code == 401
        assert requests.get(f"{base}/api/changes", headers=RIGHT, timeout=10).status_code == 200
    lines = [r.getMessage() for r in caplog.records if "throttled" in r.getMessage()]
    assert lines == [
        f"web login throttled client=127.0.0.1 failures={LOGIN_FAILURES_ALLOWED} "
        f"retry_after_s={int(LOGIN_WINDOW_S)}"
    ]
    assert TOKEN not in caplog.text and "nope" not in caplog.text


def test_the_login_form_is_throttled_and_says_to_wait(fresh_db: Engine) -> None:
    clock = Clock()
    with serving(fresh_db, _guard(clock)) as base:
        browser = requests.Session()
        # wrong tokens at the form and as a Bearer count together
        assert requests.get(f"{base}/api/changes", headers=WRONG, timeout=10).status_code == 401
        for _ in range(LOGIN_FAILURES_ALLOWED - 1):
            bad = _login(browser, base, "nope")
            assert bad.status_code == 401 and "That token is not right" in bad.text
        for token in ("nope", TOKEN):
            refused = _login(browser, base, token)
            assert refused.status_code == 429, token
            assert refused.headers["retry-after"] == str(int(LOGIN_WINDOW_S))
            assert "Too many wrong tokens from your address: wait 5 minutes" in refused.text
            assert "set-cookie" not in refused.headers
        assert browser.get(f"{base}/sources", timeout=10, allow_redirects=False).status_code == 303
        clock.now += LOGIN_WINDOW_S
        good = _login(browser, base, TOKEN)
        assert good.status_code == 303 and good.headers["location"] == "/sources"
        assert browser.get(f"{base}/sources", timeout=10).status_code == 200


def test_another_address_is_not_throttled(fresh_db: Engine) -> None:
    with serving(fresh_db, _guard(Clock())) as base:
        for _ in range(LOGIN_FAILURES_ALLOWED):
            assert _get_from("127.0.0.2", base, "/api/changes", WRONG) == 401
        assert _get_from("127.0.0.2", base, "/api/changes", RIGHT) == 429
        assert _get_from("127.0.0.3", base, "/api/changes", RIGHT) == 200
        assert requests.get(f"{base}/api/changes", headers=RIGHT, timeout=10).status_code == 200


def test_no_token_no_throttle(fresh_db: Engine) -> None:
    """On the loopback without a token there is nothing to guess: a Bearer is ignored."""
    with serving(fresh_db, Guard(throttle=LoginThrottle(allowed=1))) as base:
        for _ in range(3):
            assert requests.get(f"{base}/api/changes", headers=WRONG, timeout=10).status_code == 200


# --- the throttle itself (an injected clock, no server) ------------------------------------


def _fail(throttle: LoginThrottle, client: str, times: int) -> None:
    for _ in range(times):
        assert throttle.wait(client) == 0
        throttle.failed(client)


def test_clients_are_counted_apart_and_the_window_lets_them_in_again() -> None:
    clock = Clock()
    throttle = LoginThrottle(allowed=3, window_s=60, clock=clock)
    _fail(throttle, "198.51.100.7", 3)
    assert throttle.wait("198.51.100.7") == 60
    _fail(throttle, "203.0.113.9", 2)
    assert throttle.wait("203.0.113.9") == 0
    clock.now += 59.5
    assert throttle.wait("198.51.100.7") == 1  # whole seconds, never 0 while throttled
    clock.now += 0.5
    assert throttle.wait("198.51.100.7") == 0
    _fail(throttle, "198.51.100.7", 2)  # a fresh start after the wait
    assert throttle.wait("198.51.100.7") == 0


def test_only_failures_within_the_window_count() -> None:
    clock = Clock()
    throttle = LoginThrottle(allowed=3, window_s=60, clock=clock)
    _fail(throttle, "a", 2)
    clock.now += 61
    _fail(throttle, "a", 2)  # the first two have left the window
    assert throttle.wait("a") == 0
    clock.now += 1
    throttle.failed("a")
    assert throttle.wait("a") == 60


def test_memory_is_bounded_by_forgetting_the_oldest_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(allowed=2, window_s=60, capacity=3, clock=clock)
    _fail(throttle, "old", 1)
    for n in range(3):
        clock.now += 1
        _fail(throttle, f"new{n}", 1)
    assert len(throttle) == 3
    clock.now += 1
    throttle.failed("old")  # forgotten: this is its first failure again
    assert throttle.wait("old") == 0
    for n in range(1000):
        throttle.failed(f"flood{n}")
    assert len(throttle) == 3


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("192.0.2.1") == "192.0.2.1"
    assert client_key(None) == "unknown"


def test_wait_text() -> None:
    assert [wait_text(s) for s in (1, 40, 60, 61, 300)] == [
        "1 second",
        "40 seconds",
        "1 minute",
        "2 minutes",
        "5 minutes",
    ]


def test_a_wrong_token_is_never_right_when_none_is_set() -> None:
    guard = Guard(throttle=LoginThrottle(allowed=1))
    assert guard.attempt("a", "anything") is False
    assert guard.attempt("a", "") is False  # and nothing counted: no Throttled
