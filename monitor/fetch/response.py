"""Reading a response: its status as the error to raise (with a 429/503's Retry-After),
its body read under the size cap, its headers as monitor keeps them.

Apart from the request loop (``monitor.fetch``) because each of these looks at one
response only and holds no state of the fetcher's. The cap is enforced while streaming, on
the *decompressed* bytes (a zip bomb stops at the cap, not at the end).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from monitor.errors import BodyTooLarge, HTTPStatusError, RateLimited
from monitor.fetch.failures import Retryable, network_error
from monitor.fetch.transport import Watch
from monitor.safetext import strip_controls

CHUNK = 64 * 1024
MAX_RETRY_AFTER = 24 * 3600.0  # a server asking for more than a day is capped at a day


def parse_retry_after(value: str | None, server_date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date.

    An HTTP-date is measured against the server's own ``Date`` header when present, so a
    skewed client clock does not shorten or stretch the wait.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = datetime.now(UTC)
    if server_date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            parsed = parsedate_to_datetime(server_date)
            reference = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return min(max((when - reference).total_seconds(), 0.0), MAX_RETRY_AFTER)


def raise_for_status(response: requests.Response, source: str | None, shown: str) -> None:
    """Raise the error of a 4xx/5xx response: ``RateLimited`` for a 429/503 that says when
    to come back, a retryable error for any other 5xx, ``HTTPStatusError`` otherwise."""
    status = response.status_code
    reason = f"HTTP {status} {response.reason or ''}".strip()
    if status in (429, 503):
        wait = parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
        if wait is not None:
            raise RateLimited(
                f"{reason}, retry after {wait:.0f} s",
                status=status,
                retry_after=wait,
                source=source,
                url=shown,
            )
    error = HTTPStatusError(reason, status=status, source=source, url=shown)
    if status >= 500:
        raise Retryable(error)
    raise error


def read_capped(
    response: requests.Response,
    watch: Watch,
    deadline: float,
    max_body: int,
    source: str | None,
    shown: str,
) -> bytes:
    """The body, decompressed, read in chunks; ``BodyTooLarge`` past ``max_body``."""
    too_large = BodyTooLarge(
        f"body larger than the {_size(max_body)} cap (max_body)", source=source, url=shown
    )
    declared = response.headers.get("Content-Length", "")
    # Content-Length counts compressed bytes: over the cap already means over the cap.
    if declared.isdigit() and int(declared) > max_body:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > max_body:
                raise too_large
            chunks.append(chunk)
    except (requests.RequestException, OSError) as exc:
        raise network_error(exc, watch, deadline, source, shown) from None
    if watch.expired or watch.cancelled:
        # The socket was cut mid-body: what we have is truncated.
        raise network_error(None, watch, deadline, source, shown)
    return b"".join(chunks)


def header(response: requests.Response, name: str) -> str | None:
    """A response header as monitor keeps it: without control characters."""
    value = response.headers.get(name)
    return strip_controls(value) if value is not None else None


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"
