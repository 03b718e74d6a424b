"""The value types of sources.yaml: intervals, sizes, URLs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic_core import PydanticCustomError

from monitor.conftypes import format_interval, parse_byte_size, parse_http_url, parse_interval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("90s", timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        (" 30M ", timedelta(minutes=30)),
        ("1w", timedelta(weeks=1)),
        (3600, timedelta(hours=1)),
    ],
)
def test_intervals(text: Any, expected: timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["59s", "0m", 30, "15", "m", "15 minutes", "-5m", True, None, []])
def test_bad_intervals(text: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_interval(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5MiB", 5 * 1024 * 1024),
        ("512KiB", 512 * 1024),
        ("2MB", 2_000_000),
        ("1 GiB", 1024**3),
        ("100k", 102_400),
        (1048576, 1048576),
        ("4096", 4096),
    ],
)
def test_sizes(text: Any, expected: int) -> None:
    assert parse_byte_size(text) == expected


@pytest.mark.parametrize("text", ["0", 0, -1, "5 parsecs", "MiB", True, 1.5, None])
def test_bad_sizes(text: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_byte_size(text)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/feed",
        "http://127.0.0.1:8080/x?y=1",
        "HTTPS://EXAMPLE.COM",
        "https://news.google.com/rss/search?q=%E9%98%BF%E9%87%8C%E4%BA%91&hl=zh-CN",
    ],
)
def test_good_urls(url: str) -> None:
    assert parse_http_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative/feed.xml",
        "https://",
        "https://exa mple.com/",
        "https://example.com:notaport/",
        "",
        42,
    ],
)
def test_bad_urls(url: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_http_url(url)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=30), "30m"),
        (timedelta(days=1), "1d"),
        (timedelta(hours=36), "36h"),
        (timedelta(seconds=90), "90s"),
    ],
)
def test_format_interval(delta: timedelta, text: str) -> None:
    assert format_interval(delta) == text
    assert parse_interval(text) == delta
