"""What `monitor status` reads of sources.yaml: each source's name, kind, whether it is
enabled and its quiet_after; the alerts section when channels are to be named.

Validating the whole file (``monitor.config.load_config``) builds every source kind's
model, the watchlist (its packaged companies too) and compiles the CSS selectors of html
sources: 0.3 s of CPU, more than `monitor status` may take in all. Status reads a few
keys, so it checks those few (:func:`read_config_view`). Whenever one of them is not
plainly right (or the file is not YAML, or has a duplicate or unknown top-level key), it
validates the whole file after all: the user gets the same file:line messages as from any
other command. A mistake in a key status does not read (a bad CSS selector, a watchlist
typo) is reported by the commands that use it and by `monitor check-config`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.conftypes import duration_or_none, parse_interval
from monitor.yamlconf import YamlSyntaxError, load_yaml_with_lines

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.notify.config import AlertsConfig

# What the full validation accepts, restated (tests/test_configview.py checks them
# against monitor.config, monitor.sources and monitor.notify.config).
TOP_KEYS = frozenset({"defaults", "sources", "watchlist", "alerts", "retention"})
KINDS = frozenset({"feed", "html", "json"})
SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
QUIET_AFTER = timedelta(days=14)  # alerts.source_quiet_after when not written


@dataclass(frozen=True, slots=True)
class ListedSource:
    """A configured source as `monitor status` shows it."""

    name: str
    kind: str
    enabled: bool
    quiet_after: timedelta | None  # its own, else alerts.source_quiet_after (None: never)


@dataclass(frozen=True, slots=True)
class ConfigView:
    """The sources in config order, and the validated ``alerts:`` section on demand."""

    sources: list[ListedSource]
    alerts: Callable[[], AlertsConfig]


def view_of(config: Config) -> ConfigView:
    """The view of a configuration validated in full."""
    from monitor.sources.base import quiet_after

    default = config.alerts.source_quiet_after
    listed = [
        ListedSource(s.name, s.kind, s.enabled, quiet_after(s, default)) for s in config.sources
    ]
    return ConfigView(listed, lambda: config.alerts)


def read_config_view(path: Path) -> ConfigView:
    """The view of the file ``path``; ConfigError (every problem of the file, with its line)
    when a key status reads is wrong."""
    try:
        data = _plain_mapping(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        data = None
    view = _light_view(data, path) if data is not None else None
    if view is not None:
        return view
    from monitor.config import load_config  # reports the problem, or the file is fine after all

    return view_of(load_config(path))


def _plain_mapping(text: str) -> dict[str, Any] | None:
    """The file's top-level mapping, None when it is not YAML, has duplicate keys, is not a
    mapping or has a key the configuration does not have."""
    try:
        loaded = load_yaml_with_lines(text)
    except YamlSyntaxError:
        return None
    data = {} if loaded.data is None else loaded.data
    if loaded.duplicate_keys or not isinstance(data, dict) or set(data) - TOP_KEYS:
        return None
    return data


def _light_view(data: dict[str, Any], path: Path) -> ConfigView | None:
    """The view from the keys status reads, None when one is not plainly right."""
    alerts, sources = data.get("alerts"), data.get("sources")
    alerts = {} if alerts is None else alerts  # (written with nothing under it: none)
    sources = [] if sources is None else sources
    if not isinstance(alerts, dict) or not isinstance(sources, list):
        return None
    default: timedelta | None = QUIET_AFTER
    if "source_quiet_after" in alerts:
        try:
            default = _optional_duration(alerts["source_quiet_after"])
        except (ValueError, OverflowError):
            return None
    listed: list[ListedSource] = []
    for entry in sources:
        source = _listed(entry, default)
        if source is None or any(s.name == source.name for s in listed):
            return None
        listed.append(source)
    return ConfigView(listed, lambda: _alerts(alerts, path))


def _listed(entry: Any, default: timedelta | None) -> ListedSource | None:
    if not isinstance(entry, dict):
        return None
    name, kind, enabled = entry.get("name"), entry.get("kind"), entry.get("enabled", True)
    if not (isinstance(name, str) and SOURCE_NAME.match(name) and kind in KINDS):
        return None
    if not isinstance(enabled, bool):  # (pydantic reads "yes" too: let it)
        return None
    after = default
    if "quiet_after" in entry:
        value = entry["quiet_after"]
        if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
            after = None
        else:
            try:
                after = parse_interval(value)
            except Exception:  # PydanticCustomError: the full validation words it
                return None
    return ListedSource(name, str(kind), enabled, after)


def _optional_duration(value: Any) -> timedelta | None:
    """As monitor.notify.config.parse_optional_duration (ValueError: not one)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    delta: timedelta | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        delta = timedelta(seconds=value)
    elif isinstance(value, str):
        delta = duration_or_none(value)
    if delta is None or delta <= timedelta(0):
        raise ValueError(value)
    return delta


def _alerts(section: dict[str, Any], path: Path) -> AlertsConfig:
    """The ``alerts:`` section validated (its relative paths from the file's folder)."""
    from pydantic import ValidationError

    from monitor.notify.config import AlertsConfig

    try:
        alerts = AlertsConfig.model_validate(section)
    except ValidationError:
        from monitor.config import load_config  # words the problems, with their lines

        return load_config(path).alerts
    return alerts.with_base_dir(path.resolve().parent)
