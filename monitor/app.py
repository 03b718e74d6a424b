"""The composition root: one :class:`App` per process holds what every entry point needs.

The CLI builds one App from ``--config`` and ``--db`` and closes it when the command ends;
the daemon (and the web desk and workers) get the same App passed in. Nothing is built
until it is first used (``monitor --help`` opens no file and imports no heavy module),
and each part is built once per App, under its own lock, since daemon jobs run on
threads::

    app = App("sources.yaml", "sqlite:///storage/monitor.db")
    try:
        tasks.process_pending(app)
    finally:
        app.close()

Tests and embedders hand in parts instead (``App(config=Config(...), engine=engine,
extractor=RuleExtractor(...))``); a part handed in is used as is and not closed by
:meth:`App.close`: whoever made it owns it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from monitor.config import Config
    from monitor.configview import ConfigView
    from monitor.cpupool import ExtractionPool
    from monitor.extract.watchlist import Watchlist
    from monitor.fetch import Fetcher
    from monitor.notify.channels import Channel
    from monitor.notify.config import AlertsConfig
    from monitor.notify.render import Renderer
    from monitor.notify.sender import BusyChannels
    from monitor.store.status import StatusReader
    from monitor.types import Fact, Item
    from monitor.views import DisplayNames

DEFAULT_CONFIG = "sources.yaml"

T = TypeVar("T")


class FactExtractor(Protocol):
    """Reads an item's facts: :class:`monitor.extract.Extractor`, or a test's stand-in."""

    def extract(self, item: Item) -> list[Fact]: ...


class App:
    """Config, database, watchlist, alert channels, renderer, extractor and fetcher of one
    process, each built on first use.

    ``config_path`` and ``db_url`` say where to read; ``db_url`` None means
    ``$MONITOR_DB_URL`` or ``sqlite:///storage/monitor.db``. The keyword arguments hand in
    ready parts (a test's Config, engine or extractor); ``env`` stands in for
    ``os.environ`` when reading ``$MONITOR_NOTIFY_URLS``.
    """

    def __init__(
        self,
        config_path: str | Path = DEFAULT_CONFIG,
        db_url: str | None = None,
        *,
        config: Config | None = None,
        engine: Engine | None = None,
        extractor: FactExtractor | None = None,
        fetcher: Fetcher | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if config is not None and config.config_path is not None:
            config_path = config.config_path
        self.config_path = Path(config_path)
        self.db_url = db_url
        self.env = env
        self._lock = threading.Lock()  # guards the two dicts below
        self._building: dict[str, threading.Lock] = {}  # one lock per part being built
        self._parts: dict[str, Any] = {}
        self._owned: set[str] = set()  # parts this App built, hence closes
        given = {"config": config, "engine": engine, "extractor": extractor, "fetcher": fetcher}
        self._parts.update({name: part for name, part in given.items() if part is not None})

    def _part(self, name: str, build: Callable[[], T]) -> T:
        """The part ``name``, built by ``build`` on first use. Each part has its own lock,
        so a slow build (the extractor) holds up only the threads that need that part."""
        with self._lock:
            if name in self._parts:
                found: T = self._parts[name]
                return found
            building = self._building.setdefault(name, threading.Lock())
        with building:
            with self._lock:
                if name in self._parts:  # another thread built it while this one waited
                    done: T = self._parts[name]
                    return done
            part = build()  # may build other parts (channels -> config): other locks
            with self._lock:
                self._parts[name] = part
                self._owned.add(name)
            return part

    # --- configuration --------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """sources.yaml, validated (ConfigError lists every problem)."""

        def build() -> Config:
            from monitor.config import load_config

            return load_config(self.config_path)

        return self._part("config", build)

    @property
    def has_config(self) -> bool:
        """Whether there is a configuration to read: handed in, or the file exists. Commands
        that can do without one (`show`, `report`, `extract`) use the defaults otherwise."""
        return "config" in self._parts or self.config_path.exists()

    @property
    def config_view(self) -> ConfigView:
        """What `monitor status` reads of the configuration: the sources' names, kinds,
        enabled flags and quiet_after (monitor.configview checks those keys only, unless the
        configuration is loaded already)."""

        def build() -> ConfigView:
            from monitor.configview import read_config_view, view_of

            if "config" in self._parts:
                return view_of(self.config)
            return read_config_view(self.config_path)

        return self._part("config_view", build)

    @property
    def watchlist(self) -> Watchlist:
        """The configured watchlist, or the packaged default when there is no config file."""
        if self.has_config:
            return self.config.watchlist

        def build() -> Watchlist:
            from monitor.extract.watchlist import default_watchlist

            return default_watchlist()

        return self._part("default_watchlist", build)

    @property
    def names(self) -> DisplayNames | None:
        """Display names of companies for people; None without a config (ids are shown)."""
        return self.config.watchlist if self.has_config else None

    @property
    def alerts(self) -> AlertsConfig:
        """The ``alerts:`` section (relative paths already resolved at load)."""
        return self.config.alerts

    # --- database -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """Engine on an initialised database at this code's schema (StoreError otherwise)."""

        def build() -> Engine:
            from monitor.store.db import make_engine, require_schema

            engine = make_engine(self.db_url)
            try:
                require_schema(engine)
            except BaseException:
                engine.dispose()
                raise
            return engine

        return self._part("engine", build)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Session factory on :attr:`engine` (use with ``monitor.store.db.transaction``)."""

        def build() -> sessionmaker[Session]:
            from monitor.store.db import session_factory

            return session_factory(self.engine)

        return self._part("sessions", build)

    def status_reader(self) -> AbstractContextManager[StatusReader]:
        """The database as `monitor status` reads it (monitor.store.status): a SQLite file
        directly, without SQLAlchemy, when it is plainly named and ready; else through
        :attr:`engine` (a handed-in engine always)."""
        from monitor.store.status import database_url, status_reader

        url = None if "engine" in self._parts else database_url(self.db_url)
        return status_reader(url, lambda: self.engine)

    # --- alerts ---------------------------------------------------------------------------

    @property
    def channels(self) -> list[Channel]:
        """Alert channels: the Apprise file and ``$MONITOR_NOTIFY_URLS`` (NotifyError on a
        bad one)."""

        def build() -> list[Channel]:
            from monitor.notify.channels import load_channels

            env = dict(self.env) if self.env is not None else None
            return load_channels(self.alerts, env)

        return self._part("channels", build)

    @property
    def renderer(self) -> Renderer:
        """Alert templates: the operator's folder over the packaged defaults."""

        def build() -> Renderer:
            from monitor.notify.render import Renderer

            return Renderer(self.alerts.templates_path)

        return self._part("renderer", build)

    @property
    def busy_channels(self) -> BusyChannels:
        """The channels still sending from an earlier delivery pass (skipped until done)."""

        def build() -> BusyChannels:
            from monitor.notify.sender import BusyChannels

            return BusyChannels()

        return self._part("busy_channels", build)

    # --- pipeline -------------------------------------------------------------------------

    @property
    def extractor(self) -> FactExtractor:
        """The fact extractor on :attr:`watchlist` (built on first use: it compiles the
        watchlist's patterns, which takes a moment)."""

        def build() -> FactExtractor:
            from monitor.extract import Extractor

            return Extractor(self.watchlist)

        return self._part("extractor", build)

    @property
    def extraction_pool(self) -> ExtractionPool:
        """Worker processes that read items for facts on the other cores (started on first
        use; see monitor.cpupool)."""

        def build() -> ExtractionPool:
            from monitor.cpupool import ExtractionPool

            return ExtractionPool(self.watchlist)

        return self._part("extraction_pool", build)

    def pool_for(self, items: int) -> ExtractionPool | None:
        """The extraction pool when ``items`` are worth sending to it: enough of them, a
        core to spare, and the App's own extractor (a test's stand-in runs in process)."""
        from monitor.cpupool import MIN_ITEMS

        if items < MIN_ITEMS or ("extractor" in self._parts and "extractor" not in self._owned):
            return None
        pool = self.extraction_pool
        return pool if pool.available else None

    def warm_extraction(self) -> None:
        """New items are arriving in numbers: start the pool's workers (and their
        extractors' builds) now, so they are ready when the pass processes them."""
        from monitor.cpupool import MIN_ITEMS

        pool = self.pool_for(MIN_ITEMS)
        if pool is not None:
            pool.warm()

    def stop_idle_extraction(self, idle_for: float) -> bool:
        """Stop the extraction pool's workers if started and unused for ``idle_for``
        seconds (they start again for the next large batch); True when stopped."""
        pool = self._parts.get("extraction_pool")
        return pool is not None and pool.close_if_idle(idle_for)

    @property
    def fetcher(self) -> Fetcher:
        """The HTTP client, with ``defaults`` from the config (closed by :meth:`close`)."""

        def build() -> Fetcher:
            from monitor.fetch import Fetcher

            return Fetcher.from_defaults(self.config.defaults)

        return self._part("fetcher", build)

    # --- life cycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the fetcher and dispose of the engine this App built (parts handed in are
        left to their owner). Safe to call twice; the App builds them again if used."""
        with self._lock:
            owned = {name: self._parts.pop(name) for name in list(self._owned)}
            self._owned.clear()
        pool = owned.get("extraction_pool")
        if pool is not None:
            pool.close()
        fetcher = owned.get("fetcher")
        if fetcher is not None:
            fetcher.close()
        engine = owned.get("engine")
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
