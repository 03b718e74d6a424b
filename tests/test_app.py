"""The App: built lazily, closes what it built and nothing it was handed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from monitor.app import App
from monitor.config import Config, load_config
from monitor.fetch import FetchCancelled
from monitor.notify.config import AlertsConfig


def _disposals(engine: Engine) -> list[bool]:
    seen: list[bool] = []
    event.listen(engine, "engine_disposed", lambda _engine: seen.append(True))
    return seen


def test_an_app_builds_nothing_until_asked(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "monitor.db"
    app = App(tmp_path / "missing.yaml", f"sqlite:///{db}")
    assert not app.has_config  # no file read, no error: nothing was asked for yet
    app.close()
    assert not db.parent.exists()  # no engine was made (it would create the folder)


def test_close_disposes_its_engine_and_closes_its_fetcher(fresh_db: Engine, db_url: str) -> None:
    app = App(config=Config(), db_url=db_url)
    engine, fetcher = app.engine, app.fetcher
    assert engine is not fresh_db and app.sessions is app.sessions  # built once
    disposed = _disposals(engine)
    app.close()
    assert disposed == [True]
    with pytest.raises(FetchCancelled):  # a closed fetcher refuses new requests
        fetcher.get("http://127.0.0.1:9/")
    app.close()  # twice is fine
    assert disposed == [True]


def test_parts_handed_in_stay_open(fresh_db: Engine) -> None:
    disposed = _disposals(fresh_db)
    with App(config=Config(), engine=fresh_db) as app:
        assert app.engine is fresh_db
        with app.sessions() as session:
            assert session.bind is fresh_db
    assert disposed == []


def test_names_come_from_the_config_or_are_ids(tmp_path: Path) -> None:
    assert App(tmp_path / "none.yaml").names is None
    names = App(config=Config()).names
    assert names is not None and names.display_name("alibaba") == "Alibaba Cloud"


def test_alert_paths_resolve_at_load_and_nothing_is_mutated(tmp_path: Path) -> None:
    alerts = AlertsConfig()
    moved = alerts.with_base_dir(tmp_path)
    assert alerts.base_dir is None and alerts.templates_path == Path("alerts/templates")
    assert moved.templates_path == tmp_path / "alerts" / "templates"
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    config = load_config(tmp_path / "sources.yaml")
    assert config.alerts.apprise_path == tmp_path.resolve() / "alerts" / "apprise.yml"
    app = App(config=config)
    assert app.config_path == tmp_path / "sources.yaml"
    assert app.renderer.templates_dir == tmp_path.resolve() / "alerts" / "templates"


def test_threads_asking_at_once_get_one_part(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app = App(config=Config())
    with ThreadPoolExecutor(8) as pool:
        renderers = list(pool.map(lambda _: app.renderer, range(32)))
        watchlists = list(pool.map(lambda _: app.watchlist, range(32)))
    assert len({id(r) for r in renderers}) == 1
    assert len({id(w) for w in watchlists}) == 1
