"""The kind registry and the shared text/date helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

import pytest

from monitor.errors import MonitorError
from monitor.sources import SourceConfig, SourceKind, get_kind, kinds
from monitor.sources import base as registry
from monitor.sources.feed import FeedKind
from monitor.sources.text import html_to_text, markdown_to_text, parse_date, safe_url
from monitor.types import Item


class EchoSource(SourceConfig):
    kind: Literal["echo"]


@pytest.fixture
def echo_kind() -> Iterator[type[SourceKind[EchoSource]]]:
    class EchoKind(SourceKind[EchoSource]):
        """Each line of the body is an item (a test kind)."""

        kind = "echo"
        config_model = EchoSource

        def parse(
            self, body: bytes, *, source: EchoSource, url: str, content_type: str | None = None
        ) -> list[Item]:
            return [Item(title=line) for line in body.decode().splitlines()]

    try:
        yield EchoKind
    finally:
        registry._REGISTRY.pop("echo", None)


def test_builtin_kinds_are_registered() -> None:
    assert list(kinds()) == ["feed", "html", "json"]
    assert isinstance(get_kind("feed"), FeedKind)
    for cls in kinds().values():
        assert cls.help(), cls  # the docstring is the user help


def test_subclassing_registers_a_kind(echo_kind: type[SourceKind[EchoSource]]) -> None:
    assert kinds()["echo"] is echo_kind
    source = EchoSource(name="e", kind="echo", url="https://example.com/")
    items = get_kind("echo").parse(b"a\nb", source=source, url=source.url)
    assert [item.title for item in items] == ["a", "b"]
    assert echo_kind.help() == "Each line of the body is an item (a test kind)."


def test_a_kind_name_cannot_be_registered_twice(
    echo_kind: type[SourceKind[EchoSource]],
) -> None:
    with pytest.raises(TypeError, match="registered twice"):

        class Again(SourceKind[EchoSource]):
            kind = "echo"
            config_model = EchoSource


def test_unknown_kind_lists_the_allowed_ones() -> None:
    with pytest.raises(MonitorError, match=r"unknown kind 'rss2' \(allowed: feed, html, json\)"):
        get_kind("rss2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-24T08:00:00+08:00", datetime(2025, 3, 24, 0, 0, tzinfo=UTC)),
        ("2025-03-24T08:00:00Z", datetime(2025, 3, 24, 8, 0, tzinfo=UTC)),
        ("2025-03-24", datetime(2025, 3, 24, tzinfo=UTC)),
        ("Tue, 04 Mar 2025 09:30:00 +0800", datetime(2025, 3, 4, 1, 30, tzinfo=UTC)),
        ("March 5, 2025", datetime(2025, 3, 5, tzinfo=UTC)),
        ("5 March 2025", datetime(2025, 3, 5, tzinfo=UTC)),
        ("2025/05/28", datetime(2025, 5, 28, tzinfo=UTC)),
        ("2025年5月28日", datetime(2025, 5, 28, tzinfo=UTC)),
        ("  2025-01-20 \n", datetime(2025, 1, 20, tzinfo=UTC)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    parsed = parse_date(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", [None, "", "yesterday", "99/99/9999", "2025-13-45"])
def test_parse_date_gives_up_quietly(text: str | None) -> None:
    assert parse_date(text) is None


def test_naive_dates_are_taken_as_utc() -> None:
    assert parse_date("2025-03-24T08:00:00") == datetime(2025, 3, 24, 8, tzinfo=UTC)
    east = timezone(timedelta(hours=8))
    assert parse_date(datetime(2025, 1, 1, 8, tzinfo=east).isoformat()) == datetime(
        2025, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>one</p><p>two</p>", "one two"),
        ("Qwen<b>3</b> &amp; more", "Qwen3 & more"),
        ("<script>alert('x')</script>visible", "visible"),
        ("<!-- hidden -->shown<br/>next", "shown next"),
        ("plain &eacute;t&eacute;", "plain été"),
        (None, ""),
    ],
)
def test_html_to_text(fragment: str | None, text: str) -> None:
    assert html_to_text(fragment) == text


def test_html_to_text_caps_length() -> None:
    assert len(html_to_text("x" * 10_000, limit=100)) == 100


def test_markdown_to_text() -> None:
    markdown = "## What's new\r\n* **Faster** `decode`\n- see [the paper](https://x/y)\n> quoted"
    assert markdown_to_text(markdown) == "What's new Faster decode see the paper quoted"


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("/a", "https://example.com/x/y", "https://example.com/a"),
        ("b", "https://example.com/x/y", "https://example.com/x/b"),
        ("//cdn.example.net/c", "https://example.com/", "https://cdn.example.net/c"),
        ("javascript:alert(1)", "https://example.com/", None),
        ("data:text/html,hi", None, None),
        ("mailto:a@example.com", None, None),
        ("  ", None, None),
        ("http://[::1", None, None),
    ],
)
def test_safe_url(value: str, base: str | None, expected: str | None) -> None:
    assert safe_url(value, base) == expected
