"""Alert channels: the URLs of ``alerts/apprise.yml`` plus ``$MONITOR_NOTIFY_URLS``.

Each channel is one Apprise URL, sent to on its own (its own Apprise object, its own
outbox rows), with the message format its plugin prefers. A channel is identified in the
database by a short hash of its URL, never by the URL (URLs hold tokens); anything shown
to a person uses Apprise's masked form ``url(privacy=True)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import NotifyError
from monitor.notify.config import AlertsConfig

ENV_URLS = "MONITOR_NOTIFY_URLS"
ENV_TAG = "env"
FORMATS = ("text", "markdown", "html")

log = logging.getLogger(__name__)


def _apprise() -> Any:
    """Import Apprise with its plugins loaded.

    Apprise's e-mail plugin imports the deprecated ``imghdr`` module; loading every plugin
    once here, with that warning silenced, keeps it from surfacing later (tests turn
    warnings into errors).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().load_modules()
    return apprise


@dataclass(frozen=True)
class Channel:
    """One Apprise URL: its stable id, tags, message format and masked URL."""

    id: str
    tags: frozenset[str]
    format: str  # text / markdown / html
    masked: str
    plugin: Any  # apprise NotifyBase instance

    def matches(self, tags: list[str] | None) -> bool:
        """A route without tags takes every channel; otherwise any shared tag."""
        return tags is None or bool(self.tags & set(tags))


def channel_id(url: str) -> str:
    return "ch-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def _channel(plugin: Any, extra_tags: set[str]) -> Channel:
    url = plugin.url()
    fmt = plugin.resolve_format(None)
    fmt_name = getattr(fmt, "value", str(fmt))
    return Channel(
        id=channel_id(url),
        tags=frozenset({str(t) for t in plugin.tags} | extra_tags),
        format=fmt_name if fmt_name in FORMATS else "text",
        masked=plugin.url(privacy=True),
        plugin=plugin,
    )


def load_channels(alerts: AlertsConfig, env: dict[str, str] | None = None) -> list[Channel]:
    """Channels from the Apprise config file (when it exists) and $MONITOR_NOTIFY_URLS.

    A missing file is not an error (no channels: the change log is still recorded); a file
    that exists but holds a bad entry, or a bad env URL, raises NotifyError.
    """
    apprise = _apprise()
    env = dict(os.environ) if env is None else env
    channels: list[Channel] = []
    path = alerts.apprise_path
    if path is not None and path.exists():
        channels.extend(_from_file(apprise, path))
    for n, url in enumerate(env.get(ENV_URLS, "").split(), start=1):
        obj = apprise.Apprise()
        if not obj.add(url) or len(obj) != 1:
            raise NotifyError(f"${ENV_URLS}: URL #{n} is not a usable Apprise URL")
        channels.append(_channel(obj[0], {ENV_TAG}))
    unique: dict[str, Channel] = {}
    for ch in channels:
        if ch.id in unique:  # the same URL twice: keep one channel, merge its tags
            old = unique[ch.id]
            unique[ch.id] = Channel(old.id, old.tags | ch.tags, old.format, old.masked, old.plugin)
        else:
            unique[ch.id] = ch
    return list(unique.values())


def _from_file(apprise: Any, path: Path) -> list[Channel]:
    config = apprise.AppriseConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyError(f"{path}: cannot read Apprise config: {exc.strerror}") from None
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return []  # only comments: the shipped example file
    if not config.add_config(text, format="yaml"):
        raise NotifyError(f"{path}: not a valid Apprise YAML config")
    services = config.services()
    if not services and "urls" in text:
        raise NotifyError(f"{path}: no usable Apprise URL in this file")
    return [_channel(plugin, set()) for plugin in services]


def alerts_of(config: Any) -> AlertsConfig:
    """The AlertsConfig of a Config (relative paths resolved against its file's folder), or
    ``config`` itself when it is one."""
    if isinstance(config, AlertsConfig):
        return config
    alerts: AlertsConfig = getattr(config, "alerts", None) or AlertsConfig()
    config_path = getattr(config, "config_path", None)
    if isinstance(config_path, Path) and alerts.base_dir is None:
        alerts.with_base_dir(config_path.resolve().parent)
    return alerts


def describe_channels(config: Any, env: dict[str, str] | None = None) -> list[str]:
    """One line per channel, URL masked: ``ch-1a2b3c4d5e6f html [email] mailto://...``.

    ``config`` is the whole Config or its AlertsConfig."""
    alerts = alerts_of(config)
    return [
        f"{ch.id} {ch.format} [{', '.join(sorted(ch.tags)) or 'no tags'}] {ch.masked}"
        for ch in load_channels(alerts, env)
    ]


def send(channel: Channel, title: str, body: str, body_format: str) -> bool:
    """Send one message to one channel through its own Apprise object. Never raises."""
    apprise = _apprise()
    obj = apprise.Apprise()
    obj.add(channel.plugin)
    try:
        return bool(obj.notify(title=title, body=body, body_format=body_format))
    except Exception as exc:  # a plugin bug must not take the sender down
        log.warning("channel %s (%s): %s", channel.id, channel.masked, type(exc).__name__)
        return False
