"""What a failed request raises: which network failures may be retried, and the one-line
reason of a requests/urllib3 error.

Apart from the request loop (``monitor.fetch``) because it only describes: it reads an
exception and the request's ``Watch`` (cut at its deadline, or cancelled by
``Fetcher.close()``) and holds no state of the fetcher's.
"""

from __future__ import annotations

import re

import requests

from monitor.errors import FetchError
from monitor.fetch.transport import Watch


class FetchCancelled(FetchError):
    """The fetcher was closed (daemon shutting down) while this request was in flight."""


class Retryable(Exception):
    """Internal: wraps the error of an attempt that may be retried."""

    def __init__(self, error: FetchError):
        super().__init__(error.message)
        self.error = error


def network_error(
    exc: BaseException | None,
    watch: Watch,
    deadline: float,
    source: str | None,
    shown: str,
) -> Exception:
    """The error to raise for a network failure: retryable only when it was quick to
    fail (refused/reset connections), never for a timeout (retrying a hang multiplies it)."""
    error = describe_network_error(exc, watch, deadline, source, shown)
    slow = watch.expired or watch.cancelled or isinstance(exc, requests.Timeout)
    return error if slow else Retryable(error)


def describe_network_error(
    exc: BaseException | None, watch: Watch, deadline: float, source: str | None, shown: str
) -> FetchError:
    if watch.cancelled:
        return FetchCancelled("shutting down", source=source, url=shown)
    if watch.expired:
        return FetchError(f"no complete response within {deadline:.0f} s", source=source, url=shown)
    if isinstance(exc, requests.ConnectTimeout):
        return FetchError("connection timed out", source=source, url=shown)
    if isinstance(exc, requests.ReadTimeout):
        return FetchError("read timed out", source=source, url=shown)
    if isinstance(exc, requests.ConnectionError):
        return FetchError(f"connection failed: {one_line(exc)}", source=source, url=shown)
    return FetchError(one_line(exc) if exc else "network error", source=source, url=shown)


def one_line(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, on one line, without URLs."""
    reason: BaseException = exc
    for _ in range(5):
        inner = reason.args[0] if reason.args else None
        if isinstance(inner, BaseException):
            reason = inner
            continue
        inner_reason = getattr(reason, "reason", None)
        if isinstance(inner_reason, BaseException):
            reason = inner_reason
            continue
        break
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    # urllib3 messages embed "HTTPConnectionPool(host=..., port=...): Max retries ..." noise
    if "Max retries exceeded" in text and "(Caused by" in text:
        text = text.split("(Caused by", 1)[1].rstrip(")")
    text = _POOL_PREFIX.sub("", text.strip())
    text = _ERRNO.sub("", text.replace("Failed to establish a new connection: ", ""))
    return text[:300]


# "HTTPConnectionPool(host='x', port=80): " and "<...Connection object at 0x..>: " prefixes
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_POOL_PREFIX = re.compile(r"^(?:<[^>]*>|\w+\(host=[^)]*\)):\s*")
