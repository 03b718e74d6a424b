"""Helpers for the web desk's tests: a change log made through the real pipeline, and the
desk served by uvicorn on 127.0.0.1 in a thread. (No tests here.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.app import App
from monitor.config import Config
from monitor.store.baseline import load_baseline
from monitor.store.db import transaction
from monitor.tasks import process_pending
from monitor.types import Fact, Item
from monitor.web.routes import create_app
from monitor.web.security import Guard
from monitor.web.server import BackgroundServer
from tests.test_pipeline_support import DEFAULT_RULES, RuleExtractor, item, make_app, make_config
from tests.test_pipeline_support import store as store_items

HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert(2)> {{ 7*7 }} Saudi plan'
RULES = [*DEFAULT_RULES, (r"Frankfurt|Germany", "huawei", "region", "DE")]


def _lang(it: Item, lang: str) -> Item:
    return dataclasses.replace(it, lang=lang)


def desk_items() -> list[Item]:
    """Six changes over three companies, evidence in three languages, one hostile item."""
    return [
        _lang(item("Alibaba plans Mexico region", url="https://a.test/1",
                   published="2025-03-04T08:00:00", source="LatAm Wire"), "en"),
        _lang(item("Alibaba Cloud prévoit un centre au Mexique", "Querétaro accueillera.",
                   url="https://b.test/1", published="2025-03-05T08:00:00",
                   source="Journal du Cloud"), "fr"),
        _lang(item("Huawei Ascend 910C planned", url="https://h.test/1",
                   published="2025-03-06T08:00:00", source="Chip Daily"), "en"),
        _lang(item("Alibaba released Qwen3", url="https://q.test/1",
                   published="2025-04-29T08:00:00", source="Model Watch"), "en"),
        _lang(item("Huawei Cloud opens Frankfurt region", url="https://h.test/2",
                   published="2025-05-02T08:00:00", source="Euro Cloud"), "de"),
        _lang(item(HOSTILE_TITLE, url="javascript:alert(3)",
                   published="2025-05-03T08:00:00", source="Evil <b>Wire</b>"), "en"),
        _lang(item("DeepSeek-R2 launched today", url="https://d.test/1",
                   published="2025-05-04T08:00:00", source="Model Watch"), "zh"),
    ]  # fmt: skip


def fill_desk(engine: Engine, tmp_path: Path, items: list[Item] | None = None) -> None:
    """Baseline (Alibaba live in Malaysia) plus ``items`` through store -> extract -> diff."""
    app = make_app(engine, make_config(tmp_path), extractor=RuleExtractor(RULES))
    with transaction(app.sessions) as s:
        load_baseline(s, [Fact("alibaba", "region", "MY", "live")])
    for index, it in enumerate(items if items is not None else desk_items()):
        # One pass per item, a minute apart: each change has its own detection time. The
        # DeepSeek item is a quiet back-fill: its change is recorded without an alert.
        store_items(app.sessions, [it])
        quiet = "DeepSeek" in it.title
        process_pending(app, now=datetime(2025, 6, 1, 8, index), queue_alerts=not quiet)


@contextmanager
def serving(engine: Engine, guard: Guard | None = None) -> Iterator[str]:
    """The desk on 127.0.0.1 (a free port); yields its base URL."""
    app = App(config=Config(), engine=engine)
    server = BackgroundServer(create_app(app, guard or Guard()), "127.0.0.1", 0)
    server.start()
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
