"""The ``json`` kind: a JSON API, a path to its list of items and a mapping of fields.

Presets cover the common shapes without any mapping: Hugging Face's model listing
(``/api/models?author=...``) and GitHub's releases API (``/repos/{owner}/{repo}/releases``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from monitor.errors import ParseError
from monitor.sources.base import SourceConfig, SourceKind, make_item
from monitor.sources.text import (
    MAX_TITLE_CHARS,
    clean_text,
    html_to_text,
    markdown_to_text,
    parse_date,
    safe_url,
)
from monitor.types import Item

MAX_ITEMS = 1_000
ITEM_FIELDS = ("title", "url", "guid", "published", "text")

_PATH = re.compile(r"^(?:\$(?:\.|$))?(?:[^.\[\]{}]+|\[\d+\])?(?:(?:\.[^.\[\]{}]+)|\[\d+\])*$")
_STEP = re.compile(r"[^.\[\]]+|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

Preset = Literal["huggingface", "github-releases"]


class JsonSource(SourceConfig):
    kind: Literal["json"]
    preset: Preset | None = None
    items: str | None = None  # path to the list; None: the preset's, else the top level
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("items")
    @classmethod
    def _valid_items_path(cls, value: str | None) -> str | None:
        if value is not None:
            check_path(value)
        return value

    @field_validator("fields")
    @classmethod
    def _valid_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for spec in value.values():
            if "{" in spec or "}" in spec:
                if spec.count("{") != spec.count("}") or not _PLACEHOLDER.search(spec):
                    raise PydanticCustomError(
                        "json_template",
                        "bad template '{value}' (allowed: text with {path} placeholders)",
                        {"value": spec},
                    )
                for path in _PLACEHOLDER.findall(spec):
                    check_path(path)
            else:
                check_path(spec)
        return value

    @model_validator(mode="after")
    def _has_a_title(self) -> JsonSource:
        if self.preset is None and "title" not in self.fields:
            raise PydanticCustomError(
                "json_mapping",
                "json source needs 'preset' (allowed: huggingface, github-releases) "
                "or 'fields' with at least 'title'",
            )
        return self


class JsonKind(SourceKind[JsonSource]):
    """A JSON API: where the list of items is, and which value becomes which item field.

    With a preset (no mapping needed):
      - name: hf-qwen
        kind: json
        preset: huggingface          # or github-releases
        url: https://huggingface.co/api/models?author=Qwen&sort=createdAt&direction=-1&limit=50
    With a mapping:
      - name: some-api
        kind: json
        url: https://example.com/api/news
        items: data.items            # path to the list; "" or "$" for a top-level list
        fields:
          title: headline            # a path ...
          url: "https://example.com/news/{slug}"   # ... or a template with {path}s
          guid: id
          published: meta.date       # ISO 8601, RFC 822 or epoch seconds
          text: summary
    Paths are dot-separated keys with [n] for list positions (e.g. authors[0].name).
    Other keys under fields are kept with the item as extra data.
    """

    kind = "json"
    config_model = JsonSource

    def parse(
        self, body: bytes, *, source: JsonSource, url: str, content_type: str | None = None
    ) -> list[Item]:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"not JSON ({clean_text(str(exc), 200)})") from None
        preset = PRESETS[source.preset] if source.preset else None
        path = source.items if source.items is not None else (preset.items if preset else "")
        found = resolve(document, path)
        if not isinstance(found, list):
            raise ParseError(
                f"items path {path or '$'!r} is not a list in the response "
                f"(found {_describe(found)})"
            )
        items: list[Item] = []
        for entry in found[:MAX_ITEMS]:
            values = preset.build(entry) if preset else {}
            if values is None:
                continue  # the preset skips this entry (e.g. a draft release)
            for name, spec in source.fields.items():
                values[name] = render(entry, spec)
            item = _to_item(values, source, url)
            if item is not None:
                items.append(item)
        return items


def check_path(path: str) -> None:
    if not _PATH.match(path.strip()):
        raise PydanticCustomError(
            "json_path",
            "bad JSON path '{value}' (allowed: dot-separated keys with [n], e.g. data.items)",
            {"value": path},
        )


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` ('' / '$' = the document itself); None when absent."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:].lstrip(".")
    current = document
    for match in _STEP.finditer(path):
        index = match.group(1)
        if index is not None:
            position = int(index)
            if not isinstance(current, list) or position >= len(current):
                return None
            current = current[position]
        else:
            key = match.group(0)
            if isinstance(current, dict):
                current = current.get(key)
            elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
                current = current[int(key)]
            else:
                return None
    return current


def render(entry: Any, spec: str) -> Any:
    """A path's value, or a template with each {path} replaced by its value ('' if absent)."""
    if "{" not in spec:
        return resolve(entry, spec)

    def substitute(match: re.Match[str]) -> str:
        value = resolve(entry, match.group(1))
        return "" if value is None or isinstance(value, dict | list) else str(value)

    return _PLACEHOLDER.sub(substitute, spec)


def _to_item(values: dict[str, Any], source: JsonSource, base: str) -> Item | None:
    title = _text(values.get("title"), MAX_TITLE_CHARS)
    url = safe_url(_scalar(values.get("url")), base)
    if not title:
        return None
    guid = _scalar(values.get("guid")) or url
    extra = {k: v for k, v in values.items() if k not in ITEM_FIELDS and _is_plain(v)}
    return make_item(
        source,
        title=title,
        text=_text(values.get("text")),
        url=url,
        guid=guid,
        published=_date(values.get("published")),
        extra=extra,
    )


def _text(value: Any, limit: int | None = None) -> str:
    if isinstance(value, str):
        return html_to_text(value, limit) if limit else html_to_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _date(value: Any) -> datetime | None:
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 100_000_000_000 else value  # epoch ms or s
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(list(map(str, value))[:8])
        return f"an object with keys: {keys}" if keys else "an empty object"
    if value is None:
        return "nothing there"
    return f"a {type(value).__name__}"


# --- presets ---------------------------------------------------------------------------


class JsonPreset:
    def __init__(self, items: str, build: Callable[[Any], dict[str, Any] | None]):
        self.items = items
        self.build = build


def _huggingface_model(entry: Any) -> dict[str, Any] | None:
    """One model of ``/api/models``: id "Qwen/Qwen3-8B", createdAt, pipeline_tag, tags, ..."""
    if not isinstance(entry, dict):
        return None
    model_id = entry.get("id") or entry.get("modelId")
    if not isinstance(model_id, str) or not model_id.strip():
        return None
    model_id = model_id.strip()
    org = model_id.split("/", 1)[0] if "/" in model_id else (entry.get("author") or "")
    task = entry.get("pipeline_tag")
    task_part = f" ({task})" if isinstance(task, str) and task else ""
    who = f"{org} released" if org else "Released:"
    tags = entry.get("tags")
    return {
        "title": model_id,
        "url": f"https://huggingface.co/{model_id}",
        "guid": f"https://huggingface.co/{model_id}",
        "published": entry.get("createdAt") or entry.get("lastModified"),
        "text": f"{who} the model {model_id}{task_part} on Hugging Face.",
        "pipeline_tag": task if isinstance(task, str) else None,
        "library_name": entry.get("library_name"),
        "likes": entry.get("likes"),
        "downloads": entry.get("downloads"),
        "tags": [t for t in tags if isinstance(t, str)][:30] if isinstance(tags, list) else [],
    }


def _github_release(entry: Any) -> dict[str, Any] | None:
    """One release of ``/repos/{owner}/{repo}/releases`` (drafts skipped)."""
    if not isinstance(entry, dict) or entry.get("draft") is True:
        return None
    tag = _str(entry.get("tag_name"))
    name = _str(entry.get("name"))
    html_url = _str(entry.get("html_url"))
    owner, repo = _github_repo(html_url)
    title = clean_text(name or tag)
    if not title:
        return None
    if repo and repo.lower() not in title.lower():
        title = f"{repo} {title}"
    body = _str(entry.get("body"))
    who = f"{owner} released {repo} {tag or name}".strip() if repo else f"Released {title}"
    release_id = entry.get("id")
    return {
        "title": title,
        "url": html_url or None,
        "guid": html_url or (f"github-release:{release_id}" if release_id else None),
        "published": entry.get("published_at") or entry.get("created_at"),
        "text": clean_text(f"{who} on GitHub. {markdown_to_text(body)}"),
        "tag_name": tag,
        "prerelease": bool(entry.get("prerelease")),
    }


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _github_repo(html_url: str) -> tuple[str, str]:
    """('deepseek-ai', 'DeepSeek-V3') from https://github.com/deepseek-ai/DeepSeek-V3/..."""
    try:
        parts = urlsplit(html_url).path.strip("/").split("/")
    except ValueError:
        return "", ""
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", "")


PRESETS: dict[str, JsonPreset] = {
    "huggingface": JsonPreset("", _huggingface_model),
    "github-releases": JsonPreset("", _github_release),
}
