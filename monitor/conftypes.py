"""Value types shared by the config models: intervals, byte sizes, http(s) URLs.

Each parser raises ``PydanticCustomError`` so the message reaches the user verbatim
("bad interval '15x' (allowed: ...)") instead of pydantic's generic wording.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

MIN_INTERVAL = timedelta(minutes=1)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
INTERVAL_HELP = "a number with a unit s, m, h, d or w, e.g. 90s, 15m, 2h, 1d"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "ki": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "mi": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "gi": 1024**3,
}
SIZE_HELP = "a byte count or a size like 512KiB, 5MiB, 2MB"


def parse_duration_text(text: str, units: str = "smhdw") -> timedelta | None:
    """``90s`` / ``15m`` / ``1.5h`` / ``2d`` / ``1w`` (a number, then one of ``units``) to a
    timedelta; None when ``text`` is not written so. OverflowError past ~2.7 million years.

    The one duration syntax: ``every:`` intervals, the ``alerts:`` durations and
    ``monitor changes --since`` all read it."""
    match = _DURATION.match(text)
    if not match or match.group(2).lower() not in units:
        return None
    number, unit = match.groups()
    return timedelta(seconds=float(number) * DURATION_UNITS[unit.lower()])


def parse_interval(value: Any) -> timedelta:
    """``15m`` / ``2h`` / ``1d`` / ``90s`` (or a bare number of seconds) to a timedelta >= 1m."""
    return _parse_duration(value, MIN_INTERVAL)


def parse_timeout(value: Any) -> timedelta:
    """A time limit (``deadline: 2m``): spelt like an interval, but >= 1s."""
    return _parse_duration(value, timedelta(seconds=1))


def _parse_duration(value: Any, minimum: timedelta) -> timedelta:
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, bool):  # bool is an int; `every: yes` is a mistake, not 1 s
        raise PydanticCustomError(
            "interval", "bad interval '{value}' (allowed: {allowed})", _ctx(value, INTERVAL_HELP)
        )
    elif isinstance(value, int | float):
        delta = timedelta(seconds=value)
    elif isinstance(value, str) and (parsed := duration_or_none(value)) is not None:
        delta = parsed
    else:
        raise PydanticCustomError(
            "interval", "bad interval '{value}' (allowed: {allowed})", _ctx(value, INTERVAL_HELP)
        )
    if delta < minimum:
        raise PydanticCustomError(
            "interval_too_short",
            "interval '{value}' is too short (minimum: {minimum})",
            {"value": show_value(value), "minimum": format_interval(minimum)},
        )
    return delta


def duration_or_none(text: str) -> timedelta | None:
    """parse_duration_text, a number too large for a timedelta counting as unreadable (the
    config parsers report it as a bad value, not a traceback)."""
    try:
        return parse_duration_text(text)
    except OverflowError:
        return None


def parse_byte_size(value: Any) -> int:
    """``5MiB`` / ``512KiB`` / ``2MB`` / ``1048576`` to a positive number of bytes."""
    size: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        number, unit = match.groups()
        size = float(number) * _SIZE_UNITS[(unit or "").lower()]
    if size is None or size < 1:
        raise PydanticCustomError(
            "byte_size", "bad size '{value}' (allowed: {allowed})", _ctx(value, SIZE_HELP)
        )
    return int(size)


def parse_http_url(value: Any) -> str:
    """An absolute http:// or https:// URL with a host; returned stripped, otherwise unchanged."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parts = urlsplit(text)
            ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # raises ValueError on a non-numeric port
        except ValueError:
            ok = False
        if ok and not any(ch.isspace() for ch in text):
            return text
    raise PydanticCustomError(
        "http_url",
        "bad URL '{value}' (allowed: an absolute http:// or https:// URL)",
        {"value": show_value(value)},
    )


def show_value(value: Any) -> str:
    """The offending value as the user wrote it, shortened so one line stays one line."""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _ctx(value: Any, allowed: str) -> dict[str, Any]:
    return {"value": show_value(value), "allowed": allowed}


Interval = Annotated[timedelta, BeforeValidator(parse_interval)]
Timeout = Annotated[timedelta, BeforeValidator(parse_timeout)]
ByteSize = Annotated[int, BeforeValidator(parse_byte_size)]
HttpUrl = Annotated[str, BeforeValidator(parse_http_url)]


def format_interval(delta: timedelta) -> str:
    """The shortest exact spelling: 1800 s -> '30m', 86400 s -> '1d', 90 s -> '90s'."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
