"""Read labelled JSONL corpora (FACTS.md "Items") into Items and gold facts.

One JSON object a line: ``id, lang, source, url, published, title, text, story,
facts``. A bad line is reported (file:line: problem) and skipped, never a crash.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.types import FACT_KINDS, Fact, Item

MAX_LINE_CHARS = 2_000_000  # scraped text is untrusted: cap what one line may hold


@dataclass(frozen=True, slots=True)
class CorpusRecord:
    """One corpus line: the item, its gold facts (None when unlabelled), or the error."""

    item: Item
    gold: list[Fact] | None
    error: str | None = None


def _report_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def parse_published(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` allowed) to an aware UTC datetime; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"'published' must be an ISO 8601 string, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'published' is not an ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name!r} must be a string, got {type(value).__name__}")
    return value


def parse_gold_facts(raw: Any) -> list[Fact]:
    """The ``facts`` array of a corpus line into Facts (ValueError on a malformed entry)."""
    if not isinstance(raw, list):
        raise ValueError("'facts' must be a list")
    facts: list[Fact] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ValueError(f"facts[{index}] must be an object")
        missing = [k for k in ("entity", "kind", "value") if not isinstance(entry.get(k), str)]
        if missing:
            raise ValueError(f"facts[{index}] lacks string field(s): {', '.join(missing)}")
        if entry["kind"] not in FACT_KINDS:
            raise ValueError(
                f"facts[{index}].kind is {entry['kind']!r}; allowed: {', '.join(FACT_KINDS)}"
            )
        status = entry.get("status", "live")
        if status not in ("live", "planned"):
            raise ValueError(f"facts[{index}].status is {status!r}; allowed: live, planned")
        facts.append(Fact(entry["entity"], entry["kind"], entry["value"], status))
    return facts


def item_from_json(obj: Any) -> tuple[Item, list[Fact] | None]:
    """One decoded corpus object into (Item, gold facts or None). ValueError if unusable."""
    if not isinstance(obj, dict):
        raise ValueError("line is not a JSON object")
    title = obj.get("title", "")
    text = obj.get("text", "")
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("'title' and 'text' must be strings")
    if not title and not text:
        raise ValueError("item has neither 'title' nor 'text'")
    item_id = obj.get("id")
    if item_id is not None and not isinstance(item_id, str | int):
        raise ValueError("'id' must be a string or a number")
    extra: dict[str, Any] = {}
    if item_id is not None:
        extra["id"] = str(item_id)
    story = _optional_str(obj, "story")
    if story is not None:
        extra["story"] = story
    item = Item(
        title=title,
        text=text,
        url=_optional_str(obj, "url"),
        guid=_optional_str(obj, "guid"),
        published=parse_published(obj.get("published")),
        lang=_optional_str(obj, "lang") or None,
        source=_optional_str(obj, "source"),
        extra=extra,
    )
    gold = parse_gold_facts(obj["facts"]) if "facts" in obj else None
    return item, gold


def case_item(case: dict[str, Any]) -> Item:
    """An extraction case of ``tests/cases/extract_cases.yaml`` (title and/or text, lang and
    published optional) as an Item."""
    published = case.get("published")
    return Item(
        title=case.get("title", ""),
        text=case.get("text", ""),
        lang=case.get("lang"),
        published=datetime.fromisoformat(published) if published else None,
    )


def iter_lines_as_items(
    lines: Iterable[str], name: str
) -> Iterator[tuple[int, Item | None, list[Fact] | None, str | None, Any]]:
    """(line number, item, gold, error, raw id) for each non-blank line; errors not raised."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        raw_id: Any = None
        try:
            if len(line) > MAX_LINE_CHARS:
                raise ValueError(f"line longer than {MAX_LINE_CHARS} characters")
            obj = json.loads(line)
            if isinstance(obj, dict):
                raw_id = obj.get("id")
            item, gold = item_from_json(obj)
        except json.JSONDecodeError as exc:
            yield lineno, None, None, f"{name}:{lineno}: invalid JSON: {exc.msg}", None
            continue
        except ValueError as exc:
            yield lineno, None, None, f"{name}:{lineno}: {exc}", raw_id
            continue
        yield lineno, item, gold, None, raw_id


def read_items_jsonl(
    path: str | Path,
    on_error: Callable[[str], None] | None = _report_to_stderr,
) -> Iterator[tuple[Item, list[Fact] | None, str | None]]:
    """Yield (item, gold facts or None, story id or None) for each usable line of a JSONL file.

    A bad line is reported through ``on_error`` as ``file:line: problem`` and skipped.
    Pass ``on_error=None`` to skip silently. The item carries ``extra={"id", "story"}``.
    """
    with open(path, encoding="utf-8") as handle:
        yield from read_items_stream(handle, str(path), on_error)


def read_items_stream(
    handle: TextIO | Iterable[str],
    name: str,
    on_error: Callable[[str], None] | None = _report_to_stderr,
) -> Iterator[tuple[Item, list[Fact] | None, str | None]]:
    """As read_items_jsonl, over an open text stream (e.g. stdin) named ``name``."""
    for _lineno, item, gold, error, _raw_id in iter_lines_as_items(handle, name):
        if item is None:
            if on_error is not None and error is not None:
                on_error(error)
            continue
        yield item, gold, item.extra.get("story")
