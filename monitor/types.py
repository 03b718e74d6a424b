"""Plain data passed between pipeline stages (no I/O, no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

FactKind = Literal["region", "chip", "model"]
FactStatus = Literal["live", "planned"]
FACT_KINDS: tuple[str, ...] = ("region", "chip", "model")

_NOT_KEY_CHARS = re.compile(r"[^\w.]|_", re.UNICODE)


@lru_cache(maxsize=4096)  # few distinct values; the extractor keys every fact it records
def value_key(value: str) -> str:
    """FACTS.md's key: lower-case, keep only letters, digits and '.'.

    ``Qwen 2.5 Max``, ``qwen2.5-max`` and ``Qwen2.5-Max`` share one key.
    """
    return _NOT_KEY_CHARS.sub("", value.lower())


@dataclass(frozen=True, slots=True)
class Item:
    """One news item as a source kind parsed it (or as read from a JSONL corpus)."""

    title: str
    text: str = ""
    url: str | None = None
    guid: str | None = None
    published: datetime | None = None  # timezone-aware UTC when known
    lang: str | None = None  # en, fr, zh, zh-Hant; None when unknown
    source: str | None = None  # source name from sources.yaml (or the corpus' "source")
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. corpus "id", "story"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence a fact was read from, with its offsets in the item's field."""

    sentence: str
    start: int  # offset of the sentence in `field`'s string
    end: int
    field: Literal["title", "text"] = "text"


@dataclass(frozen=True, slots=True)
class Fact:
    """A (entity, kind, value) triple with a status, per FACTS.md."""

    entity: str
    kind: str  # one of FACT_KINDS
    value: str
    status: str  # "live" or "planned"
    evidence: Evidence | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entity, self.kind, value_key(self.value))
