"""The json kind: the Hugging Face and GitHub presets on their real response shapes,
custom paths and templates, and unusable bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.errors import ParseError
from monitor.sources import JsonSource, get_kind
from monitor.types import Item

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def parse(body: bytes | Any, **config: Any) -> list[Item]:
    source = JsonSource(name="api", kind="json", url="https://api.example.com/v1/list", **config)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return get_kind("json").parse(raw, source=source, url=source.url, content_type=None)


def test_huggingface_preset() -> None:
    items = parse((FIXTURES / "hf_models.json").read_bytes(), preset="huggingface", lang="en")
    assert [item.title for item in items] == [
        "Qwen/Qwen3-8B",
        "Qwen/Qwen2.5-VL-72B-Instruct",
        "Qwen/Qwen-placeholder",
    ]  # the entry without an id is skipped
    first = items[0]
    assert first.url == "https://huggingface.co/Qwen/Qwen3-8B"
    assert first.guid == first.url
    assert first.published == datetime(2025, 4, 27, 3, 53, 6, tzinfo=UTC)
    assert first.text == "Qwen released the model Qwen/Qwen3-8B (text-generation) on Hugging Face."
    assert first.lang == "en" and first.source == "api"
    assert first.extra["downloads"] == 1234567 and "qwen3" in first.extra["tags"]
    # no pipeline tag: the sentence simply leaves it out
    assert items[2].text == "Qwen released the model Qwen/Qwen-placeholder on Hugging Face."


def test_github_releases_preset() -> None:
    items = parse((FIXTURES / "github_releases.json").read_bytes(), preset="github-releases")
    assert [item.title for item in items] == ["Model-V3 v1.2", "Model-V3-0324"]  # no draft
    newest = items[0]
    assert newest.url == "https://github.com/example-ai/Model-V3/releases/tag/v1.2"
    assert newest.published == datetime(2025, 5, 2, 10, 0, tzinfo=UTC)
    assert newest.text.startswith("example-ai released Model-V3 v1.2 on GitHub.")
    assert "X100 accelerator" in newest.text
    assert newest.extra == {"tag_name": "v1.2", "prerelease": True}
    assert items[1].text == "example-ai released Model-V3 v1.1 on GitHub."  # body: null


def test_custom_mapping_with_paths_and_templates() -> None:
    body = {
        "data": {
            "items": [
                {
                    "slug": "r1",
                    "headline": "<b>R1</b> is out",
                    "meta": {"date": "2025-01-20T10:00:00+08:00", "id": 7},
                    "authors": [{"name": "Ana"}],
                    "summary": "A reasoning model.",
                },
                {"slug": "epoch", "headline": "Epoch dates", "meta": {"date": 1735689600}},
                {"headline": "", "slug": "untitled"},
                "not an object",
            ]
        }
    }
    items = parse(
        body,
        items="$.data.items",
        fields={
            "title": "headline",
            "url": "https://example.com/news/{slug}?ref={meta.id}",
            "guid": "meta.id",
            "published": "meta.date",
            "text": "summary",
            "author": "authors[0].name",
        },
    )
    assert len(items) == 2
    first, second = items
    assert first.title == "R1 is out"
    assert first.url == "https://example.com/news/r1?ref=7"
    assert first.guid == "7"
    assert first.published == datetime(2025, 1, 20, 2, 0, tzinfo=UTC)
    assert first.text == "A reasoning model."
    assert first.extra == {"author": "Ana"}
    assert second.url == "https://example.com/news/epoch?ref="  # absent values render empty
    assert second.guid == second.url
    assert second.published == datetime(2025, 1, 1, tzinfo=UTC)


def test_preset_fields_can_be_overridden() -> None:
    items = parse(
        (FIXTURES / "hf_models.json").read_bytes(),
        preset="huggingface",
        fields={"text": "pipeline_tag"},
    )
    assert items[0].text == "text-generation"
    assert items[0].title == "Qwen/Qwen3-8B"


def test_relative_urls_resolve_against_the_api_url() -> None:
    items = parse([{"t": "x", "u": "/p/1"}], fields={"title": "t", "url": "u"})
    assert items[0].url == "https://api.example.com/p/1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b'{"error": "rate limited", "message": "slow down"}', "found an object with keys: error"),
        (b'"just a string"', "found a str"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
    ids=["syntax", "empty", "binary", "object", "string", "deep"],
)
def test_unusable_bodies_raise_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body, fields={"title": "name"}, items="$" if b"error" not in body else "")


def test_items_path_that_is_absent() -> None:
    with pytest.raises(ParseError, match=r"items path 'data\.items' is not a list.*nothing"):
        parse({"data": {}}, items="data.items", fields={"title": "name"})


@pytest.mark.parametrize(
    "config",
    [
        {"fields": {"title": "a..b"}},
        {"fields": {"title": "name", "url": "https://x/{unclosed"}},
        {"items": "data[x]", "fields": {"title": "name"}},
        {},
        {"preset": "gitlab"},
    ],
    ids=["bad-path", "bad-template", "bad-index", "no-mapping", "unknown-preset"],
)
def test_bad_json_configs_are_rejected(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JsonSource(name="api", kind="json", url="https://api.example.com/", **config)


def test_control_characters_never_reach_an_item() -> None:
    """A hostile API (or page) can put terminal escape sequences in a title: dropped."""
    items = parse(
        [{"t": "Qwen\u001b[2J\u001b]0;pwned\u0007 3\u009b1m", "x": "a\u0000b\u001b[31mc"}],
        fields={"title": "t", "text": "x"},
    )
    assert items[0].title == "Qwen[2J]0;pwned 31m"
    assert items[0].text == "ab[31mc"
