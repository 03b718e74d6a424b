"""Exception hierarchy.

    MonitorError
    ├── ConfigError    the configuration cannot be used (carries one line per problem)
    ├── FetchError     a source could not be fetched (carries source name and URL)
    │   ├── AddressRefused (an internal address the source may not reach)
    │   ├── BodyTooLarge
    │   ├── HTTPStatusError
    │   └── RateLimited    (429/503 with Retry-After)
    ├── ParseError     a fetched body could not be turned into items
    ├── ExtractError   an item could not be read for facts
    ├── StoreError     the database is unusable (missing, locked by another daemon, ...)
    ├── QueryError     a change-log query cannot run as asked (a bad cursor or limit)
    ├── ReviewError    a review state cannot be set as asked (unknown state, no reason)
    └── NotifyError    an alert channel or template is unusable

Callers catch MonitorError broadly (the CLI turns it into one line and an exit code)
and the subclasses narrowly where they can recover.

Messages often quote what a server sent (a reason phrase, a parser's complaint): every
message is made safe where it is built, here, so no caller has to remember to: control
characters and bidi overrides dropped, credentials in URLs masked (``monitor.safetext``).
"""

from __future__ import annotations

from monitor.safetext import safe_message, safe_url


class MonitorError(Exception):
    """Base of every error monitor raises on purpose; its str() is a one-line user message."""

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None):
        message = safe_message(message)
        super().__init__(message)
        self.message = message
        self.source = source
        self.url = safe_url(url) if url else url

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(f"source {self.source!r}")
        if self.url:
            where.append(self.url)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigError(MonitorError):
    """The configuration is invalid. ``problems`` holds one line per problem (file:line: ...)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


class FetchError(MonitorError):
    """A source could not be fetched."""


class AddressRefused(FetchError):
    """A link or redirect led to a loopback, private, link-local... address that is not the
    source's own origin nor in ``defaults.allow_private_hosts``."""


class BodyTooLarge(FetchError):
    """The (decompressed) body went over the configured cap."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(
        self, message: str, *, status: int, source: str | None = None, url: str | None = None
    ):
        super().__init__(message, source=source, url=url)
        self.status = status


class RateLimited(HTTPStatusError):
    """429 or 503 with a Retry-After; ``retry_after`` is in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float,
        source: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message, status=status, source=source, url=url)
        self.retry_after = retry_after


class ParseError(MonitorError):
    """A fetched body could not be parsed into items."""


class ExtractError(MonitorError):
    """An item could not be read for facts."""


class StoreError(MonitorError):
    """The database is unusable."""


class QueryError(MonitorError):
    """A change-log query cannot run as asked (e.g. a cursor from another query)."""


class ReviewError(MonitorError):
    """A review state cannot be set as asked (an unknown state, a dismissal with no reason)."""


class NotifyError(MonitorError):
    """An alert channel, route or template is unusable."""
