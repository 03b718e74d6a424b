"""The source-kind registry and the config fields every source shares.

A kind is a ``SourceKind`` subclass with a ``kind`` string (what users write in
``sources.yaml``), a ``config_model`` (its pydantic model, a ``SourceConfig`` subclass with
``kind: Literal[...]``) and a ``parse`` method from fetched bytes to items. Defining the
subclass registers it (``__init_subclass__``); its docstring is the help ``monitor kinds``
prints. Parsing is pure: no network, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from monitor.conftypes import ByteSize, HttpUrl, Interval, Timeout, parse_interval
from monitor.errors import MonitorError
from monitor.sources.text import strip_controls, to_utc
from monitor.types import Item

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")

Lang = Literal["en", "fr", "zh", "zh-Hant"]


class StrictModel(BaseModel):
    """Unknown keys are errors everywhere in the config (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class Defaults(StrictModel):
    """The ``defaults:`` section: fetch settings every source inherits unless it overrides them."""

    every: Interval = timedelta(minutes=30)
    jitter: float = Field(default=0.1, ge=0, le=0.5)  # fraction of `every`, random +/- per poll
    connect_timeout: float = Field(default=10, gt=0, le=300)  # seconds
    read_timeout: float = Field(default=30, gt=0, le=600)  # seconds
    max_body: ByteSize = 5 * 1024 * 1024  # decompressed bytes
    max_redirects: int = Field(default=5, ge=0, le=20)
    retries: int = Field(default=2, ge=0, le=10)  # extra attempts on connection errors and 5xx
    per_host: int = Field(default=2, ge=1, le=32)  # concurrent requests per host
    concurrency: int = Field(default=32, ge=1, le=256)  # fetch workers in total
    max_backoff: Interval = timedelta(hours=6)  # cap for a failing source's back-off
    user_agent: str | None = None  # None: the project's own honest User-Agent
    # the whole of one poll of a source: its listing, retries and followed article pages
    deadline: Timeout = timedelta(minutes=2)
    # hosts a link or redirect may reach at a loopback/private/link-local address (the
    # source's own configured origin always may): see monitor.netguard
    allow_private_hosts: list[str] = Field(default_factory=list)

    @field_validator("allow_private_hosts")
    @classmethod
    def _valid_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not host.strip() or any(ch in host for ch in "/@ \t?#"):
                raise PydanticCustomError(
                    "host_name",
                    "bad host '{value}' (allowed: a host name or IP address, e.g. "
                    "intranet.example.com or 10.0.0.5; no scheme, path or port)",
                    {"value": host[:80]},
                )
        return value

    @field_validator("user_agent")
    @classmethod
    def _valid_user_agent(cls, value: str | None) -> str | None:
        if value is not None:
            check_header("User-Agent", value)
        return value


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token


def check_header(name: str, value: str) -> None:
    """Reject header names that are not tokens and values with control characters (a
    newline in a value would smuggle a second header into every request)."""
    if not _HEADER_NAME.match(name):
        raise PydanticCustomError(
            "http_header",
            "bad header name '{value}' (allowed: letters, digits and !#$%&'*+.^_`|~-)",
            {"value": name[:80]},
        )
    if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
        raise PydanticCustomError(
            "http_header",
            "bad value for header '{value}' (allowed: one line of text, no control characters)",
            {"value": name[:80]},
        )


def _optional_interval(value: Any) -> timedelta | None:
    """An interval, or ``none`` (YAML's null too) for never."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    return parse_interval(value)


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """A source's fetch settings with the defaults filled in (what the fetcher uses)."""

    every: timedelta
    jitter: float
    connect_timeout: float
    read_timeout: float
    max_body: int
    max_redirects: int
    retries: int
    max_backoff: timedelta
    user_agent: str | None
    headers: dict[str, str] = field(default_factory=dict)
    deadline: timedelta = timedelta(minutes=2)


class SourceConfig(StrictModel):
    """Fields every source has, whatever its kind. Kinds subclass this with their own keys."""

    name: str
    kind: str
    url: HttpUrl
    enabled: bool = True
    lang: Lang | None = None  # hint for extraction; items inherit it
    every: Interval | None = None  # None: defaults.every
    connect_timeout: float | None = Field(default=None, gt=0, le=300)
    read_timeout: float | None = Field(default=None, gt=0, le=600)
    max_body: ByteSize | None = None
    deadline: Timeout | None = None  # None: defaults.deadline
    # None when unset: alerts.source_quiet_after; "none" written: never (see quiet_after())
    quiet_after: Annotated[timedelta | None, BeforeValidator(_optional_interval)] = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        # names appear in logs, CLI arguments and the database: keep them plain
        if not _NAME.match(value):
            raise PydanticCustomError(
                "source_name",
                "bad name '{value}' (allowed: up to 100 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit)",
                {"value": value[:80]},
            )
        return value

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            check_header(name, header)
        return value

    def effective(self, defaults: Defaults) -> SourceSettings:
        """This source's settings, each override falling back to ``defaults``."""
        return SourceSettings(
            every=self.every if self.every is not None else defaults.every,
            jitter=defaults.jitter,
            connect_timeout=self.connect_timeout or defaults.connect_timeout,
            read_timeout=self.read_timeout or defaults.read_timeout,
            max_body=self.max_body or defaults.max_body,
            max_redirects=defaults.max_redirects,
            retries=defaults.retries,
            max_backoff=defaults.max_backoff,
            user_agent=defaults.user_agent,
            headers=dict(self.headers),
            deadline=self.deadline if self.deadline is not None else defaults.deadline,
        )


def quiet_after(source: SourceConfig, default: timedelta | None) -> timedelta | None:
    """How long ``source`` may publish nothing before it counts as quiet: its own
    ``quiet_after`` when written (``none``: never), else ``default``."""
    return source.quiet_after if "quiet_after" in source.model_fields_set else default


C = TypeVar("C", bound=SourceConfig)

_REGISTRY: dict[str, type[SourceKind[Any]]] = {}


class SourceKind(Generic[C]):
    """Base of the source kinds; subclasses register under their ``kind`` string."""

    kind: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("kind")
        if name is None:  # an abstract intermediate class
            return
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise TypeError(f"source kind {name!r} registered twice")
        _REGISTRY[name] = cls

    @classmethod
    def help(cls) -> str:
        """The user help: the class docstring, dedented."""
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    def parse(
        self, body: bytes, *, source: C, url: str, content_type: str | None = None
    ) -> list[Item]:
        """Turn a fetched body into items; raise ParseError when the body is unusable."""
        raise NotImplementedError


class UnknownKind(MonitorError):
    """No source kind is registered under that name."""


def kinds() -> dict[str, type[SourceKind[Any]]]:
    """Every registered kind by name (importing ``monitor.sources`` registers the built-ins)."""
    import monitor.sources  # noqa: F401  (registers feed, html, json)

    return dict(sorted(_REGISTRY.items()))


def get_kind(name: str) -> SourceKind[Any]:
    registry = kinds()
    if name not in registry:
        raise UnknownKind(f"unknown kind {name!r} (allowed: {', '.join(registry)})")
    return registry[name]()


def parse_body(
    source: SourceConfig, body: bytes, *, url: str | None = None, content_type: str | None = None
) -> list[Item]:
    """Parse ``body`` fetched for ``source`` with the source's kind (the fetcher's entry point)."""
    return get_kind(source.kind).parse(
        body, source=source, url=url or source.url, content_type=content_type
    )


def make_item(
    source: SourceConfig,
    *,
    title: str,
    text: str = "",
    url: str | None = None,
    guid: str | None = None,
    published: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> Item:
    """An item stamped with the source's name and language hint (control characters, such
    as terminal escape sequences, and bidi overrides dropped from its title, text, link
    and GUID)."""
    return Item(
        title=strip_controls(title),
        text=strip_controls(text),
        url=strip_controls(url) if url else url,
        guid=strip_controls(guid) if guid else guid,
        published=to_utc(published),
        lang=source.lang,
        source=source.name,
        extra=extra or {},
    )
