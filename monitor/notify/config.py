"""The ``alerts:`` section of sources.yaml: channels file, templates, routes, retries.

Relative paths (``apprise_config``, ``templates``) are resolved against the folder of the
config file (``load_config`` sets it with :meth:`AlertsConfig.with_base_dir`), otherwise
against the current directory (the two coincide with the default ``./sources.yaml``).
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator
from pydantic_core import PydanticCustomError

from monitor.conftypes import duration_or_none

DURATION_HELP = "a number with a unit s, m, h, d or w, e.g. 30s, 15m, 1h, 6h"


def parse_duration(value: Any) -> timedelta:
    """``30s`` / ``1h`` / ``6h`` (or a bare number of seconds) to a positive timedelta."""
    delta: timedelta | None = None
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        delta = timedelta(seconds=value)
    elif isinstance(value, str):
        delta = duration_or_none(value)
    if delta is None or delta <= timedelta(0):
        raise PydanticCustomError(
            "duration",
            "bad duration '{value}' (allowed: {allowed})",
            {"value": str(value), "allowed": DURATION_HELP},
        )
    return delta


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def parse_optional_duration(value: Any) -> timedelta | None:
    """A duration as ``parse_duration``, or ``none`` (also YAML's null) for no limit."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    try:
        return parse_duration(value)
    except PydanticCustomError:
        raise PydanticCustomError(
            "duration",
            "bad duration '{value}' (allowed: {allowed}, or none)",
            {"value": str(value), "allowed": DURATION_HELP},
        ) from None


OptionalDuration = Annotated[timedelta | None, BeforeValidator(parse_optional_duration)]
ChangeKind = Literal["new", "live"]
FactKindName = Literal["region", "chip", "model"]


class RouteConfig(BaseModel):
    """Which changes go to which channels (by Apprise tag), immediately or as a digest.

    An omitted filter matches everything; ``tags`` omitted means every channel.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kinds: list[FactKindName] | None = None
    entities: list[str] | None = None
    changes: list[ChangeKind] | None = None
    tags: list[str] | None = None
    mode: Literal["immediate", "digest"] = "immediate"
    at: str = "08:00"
    timezone: str = "UTC"

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "digest_time", "bad time '{value}' (allowed: HH:MM, e.g. 08:00)", {"value": value}
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone",
                "unknown time zone '{value}' (allowed: an IANA name, e.g. Europe/Paris, UTC)",
                {"value": value},
            ) from None
        return value

    @property
    def at_time(self) -> time:
        return time.fromisoformat(self.at)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RetryConfig(BaseModel):
    """Outbox retries: exponential backoff from ``backoff`` doubling up to ``max_backoff``."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: Duration = timedelta(seconds=30)
    max_backoff: Duration = timedelta(hours=1)
    # A row left in state "sending" longer than this was in flight when its process died;
    # it goes back to "pending" (so a kill -9 re-sends at most that one message).
    in_flight_timeout: Duration = timedelta(minutes=5)


def _default_routes() -> list[RouteConfig]:
    return [RouteConfig(name="all")]


class AlertsConfig(BaseModel):
    """``alerts:`` in sources.yaml. Every key is optional."""

    model_config = ConfigDict(extra="forbid")

    apprise_config: str | None = "alerts/apprise.yml"
    templates: str = "alerts/templates"
    routes: list[RouteConfig] = Field(default_factory=_default_routes)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    source_down_after: Duration = timedelta(hours=6)
    # A database outage (locked, read-only, full, gone) at least this long is reported as a
    # health alert once the database takes writes again.
    database_down_after: Duration = timedelta(minutes=10)
    # Say so (once) when a source's newest item is older than this: a mirror whose scraper
    # broke still answers 200 with the same items. A source's own quiet_after wins; none
    # turns it off.
    source_quiet_after: OptionalDuration = timedelta(days=14)
    # Tags of the channels that get "source down / recovered" alerts (omitted: every channel).
    health_tags: list[str] | None = None
    # A quiet first day: a source's first successful pass (a new source, or every source
    # on a new database) records its items, facts and changes but alerts nobody ...
    quiet_first_pass: bool = True
    # ... nor does an item published longer than this before it was fetched (None: any age).
    # Such changes are marked backfill.
    max_age: OptionalDuration = timedelta(days=7)

    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("routes")
    @classmethod
    def _unique_route_names(cls, routes: list[RouteConfig]) -> list[RouteConfig]:
        names = [r.name for r in routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PydanticCustomError(
                "route_names",
                "duplicate route name(s): {names} (each route needs its own name)",
                {"names": ", ".join(dupes)},
            )
        return routes

    def with_base_dir(self, base_dir: Path) -> AlertsConfig:
        """A copy whose relative paths resolve against ``base_dir`` (the config file's
        folder); this object is left as it is."""
        copy = self.model_copy(deep=True)
        copy._base_dir = base_dir
        return copy

    @property
    def base_dir(self) -> Path | None:
        return self._base_dir

    def resolve(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self._base_dir is None:
            return candidate
        return self._base_dir / candidate

    @property
    def apprise_path(self) -> Path | None:
        return self.resolve(self.apprise_config) if self.apprise_config else None

    @property
    def templates_path(self) -> Path:
        return self.resolve(self.templates)

    def route(self, name: str) -> RouteConfig | None:
        return next((r for r in self.routes if r.name == name), None)
