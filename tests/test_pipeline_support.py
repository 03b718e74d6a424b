"""Helpers for the change-log / alert tests: a tiny rule-based extractor, a real Config
with an alerts section, an App on a test database, and item storage through the real
store functions. (No tests here.)"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.app import App, FactExtractor
from monitor.config import Config
from monitor.notify.config import AlertsConfig
from monitor.store.db import transaction
from monitor.store.items import get_or_create_source, store_items
from monitor.types import Evidence, Fact, Item

LIVE_WORDS = re.compile(
    r"\b(opened|opens|launched|launches|released|releases|is live|now live)\b", re.I
)


@dataclass
class RuleExtractor:
    """Per sentence: each rule whose pattern occurs gives its fact; status is live when the
    sentence uses a launch verb, planned otherwise. Real enough to drive the pipeline."""

    rules: list[tuple[str, str, str, str]] = field(default_factory=list)  # pattern, e, k, v
    calls: int = 0

    def extract(self, item: Item) -> list[Fact]:
        self.calls += 1
        facts = []
        for fld, content in (("title", item.title), ("text", item.text)):
            for match in re.finditer(r"[^.!?]+[.!?]?", content):
                sentence = match.group(0)
                for pattern, entity, kind, value in self.rules:
                    if re.search(pattern, sentence):
                        status = "live" if LIVE_WORDS.search(sentence) else "planned"
                        ev = Evidence(sentence.strip(), match.start(), match.end(), fld)  # type: ignore[arg-type]
                        facts.append(Fact(entity, kind, value, status, ev))
        return facts


DEFAULT_RULES = [
    (r"Mexico|Querétaro", "alibaba", "region", "MX"),
    (r"Riyadh|Saudi", "alibaba", "region", "SA"),
    (r"DeepSeek-R2|\bR2\b", "deepseek", "model", "DeepSeek-R2"),
    (r"Ascend 910C", "huawei", "chip", "Ascend 910C"),
    (r"Qwen3\b", "alibaba", "model", "Qwen3"),
]


def make_config(tmp_path: Path, apprise_yaml: str | None = None, **alerts: Any) -> Config:
    """A Config (the packaged watchlist: alibaba is "Alibaba Cloud") whose ``alerts:``
    section is ``alerts``, with channels from ``apprise_yaml``.

    ``max_age`` is none unless given: these tests replay items dated 2025 to exercise the
    alert path, as though fetched when published (the quiet first day has its own tests)."""
    path = tmp_path / "apprise.yml"
    if apprise_yaml is not None:
        path.write_text(apprise_yaml, encoding="utf-8")
    alerts = {"apprise_config": str(path), "max_age": None, **alerts}
    return Config(alerts=AlertsConfig.model_validate(alerts))


def make_app(
    engine: Engine, config: Config, extractor: FactExtractor | None = None, **parts: Any
) -> App:
    """An App on a test database with ``config`` (and, when given, ``extractor``)."""
    return App(config=config, engine=engine, extractor=extractor, **parts)


def item(
    title: str,
    text: str = "",
    *,
    url: str,
    published: str,
    source: str = "Wire",
    story: str | None = None,
) -> Item:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    extra = {"story": story} if story else {}
    return Item(title=title, text=text, url=url, published=when, source=source, extra=extra)


def store(sessions: sessionmaker[Session], items: list[Item]) -> int:
    count = 0
    with transaction(sessions) as session:
        for it in items:
            name = it.source or "Wire"
            src = get_or_create_source(session, name, "ingest", f"ingest:{name}")
            count += len(store_items(session, src, [it]))
    return count


def json_channel(url: str, tag: str = "chat") -> str:
    """An Apprise YAML entry for a json:// URL on the loopback server."""
    return f"  - {url.replace('http://', 'json://')}:\n      - tag: {tag}\n"


def apprise_file(*entries: str) -> str:
    return "version: 1\nurls:\n" + "".join(entries)
