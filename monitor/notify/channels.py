"""Alert channels: the URLs of ``alerts/apprise.yml`` plus ``$MONITOR_NOTIFY_URLS``.

Each channel is one Apprise URL, sent to on its own (its own Apprise object, its own
outbox rows), with the message format its plugin prefers. A channel is identified in the
database by a short hash of its URL, never by the URL (URLs hold tokens); anything shown
to a person uses ``mask_url``: Apprise's privacy form ``url(privacy=True)`` (passwords and
the tokens its plugins know), with the path segments masked too and the query dropped,
since Apprise leaves a webhook's path token, an ntfy topic or a ``+Authorization`` header in
the clear.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import NotifyError
from monitor.notify import reasons
from monitor.notify.config import AlertsConfig

ENV_URLS = "MONITOR_NOTIFY_URLS"
ENV_TAG = "env"
FORMATS = ("text", "markdown", "html")

log = logging.getLogger(__name__)


_APPRISE: Any = None
_APPRISE_LOCK = threading.Lock()


def _apprise() -> Any:
    """Import Apprise with its plugins loaded, once per process.

    Apprise's e-mail plugin imports the deprecated ``imghdr`` module; loading every plugin
    once here, with that warning silenced, keeps it from surfacing later (tests turn
    warnings into errors). ``catch_warnings`` touches process-wide state, hence the lock
    and the single load: sender threads only ever get the loaded module.
    """
    global _APPRISE
    with _APPRISE_LOCK:
        if _APPRISE is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import apprise
                from apprise.manager_plugins import NotificationManager

                NotificationManager().load_modules()
            reasons.install()  # so that a refused send can say why (see reasons.py)
            _APPRISE = apprise
    return _APPRISE


@contextmanager
def _quiet_apprise() -> Iterator[None]:
    """Apprise logs a URL it cannot parse in full (tokens included): mute it while parsing;
    monitor reports the problem itself without the URL."""
    logger = logging.getLogger("apprise")
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


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


def _scheme_only(url: str) -> str:
    """``slack://...``: all that may be shown of a URL Apprise could not parse."""
    return (url.split("://", 1)[0][:20] if "://" in url else "?") + "://..."


def _mask_segment(segment: str) -> str:
    if len(segment) <= 2 or "..." in segment or "*" in segment:  # short or masked already
        return segment
    return f"{segment[0]}...{segment[-1]}"


def mask_url(privacy_url: str) -> str:
    """A channel URL fit to show: Apprise's privacy form, every path segment masked
    (``hook/TOKEN123`` -> ``h...k/T...3``) and no query (it may hold headers or tokens)."""
    try:
        parts = urlsplit(privacy_url)
    except ValueError:
        return privacy_url.split("://", 1)[0] + "://..."
    path = "/".join(_mask_segment(s) for s in parts.path.split("/"))
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


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
        masked=mask_url(plugin.url(privacy=True)),
        plugin=plugin,
    )


def load_channels(alerts: AlertsConfig, env: dict[str, str] | None = None) -> list[Channel]:
    """Channels from the Apprise config file (when it exists) and $MONITOR_NOTIFY_URLS.

    A missing file is not an error (no channels: the change log is still recorded); a file
    that exists but holds a bad entry, or a bad env URL, raises NotifyError.
    """
    env = dict(os.environ) if env is None else env
    path = alerts.apprise_path
    text = _read_config(path) if path is not None and path.exists() else None
    urls = env.get(ENV_URLS, "").split()
    if not urls and (text is None or _only_comments(text)):
        return []  # no channel: Apprise (a quarter of a second to import) is not needed
    apprise = _apprise()
    channels: list[Channel] = []
    if path is not None and text is not None:
        channels.extend(_from_file(apprise, path, text))
    for n, url in enumerate(urls, start=1):
        obj = apprise.Apprise()
        with _quiet_apprise():
            usable = obj.add(url) and len(obj) == 1
        if not usable:
            raise NotifyError(
                f"${ENV_URLS}: URL #{n} ({_scheme_only(url)}) is not a usable Apprise URL"
            )
        channels.append(_channel(obj[0], {ENV_TAG}))
    unique: dict[str, Channel] = {}
    for ch in channels:
        if ch.id in unique:  # the same URL twice: keep one channel, merge its tags
            old = unique[ch.id]
            unique[ch.id] = Channel(old.id, old.tags | ch.tags, old.format, old.masked, old.plugin)
        else:
            unique[ch.id] = ch
    return list(unique.values())


def _read_config(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyError(f"{path}: cannot read Apprise config: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise NotifyError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _only_comments(text: str) -> bool:
    """Blank or only comments: the shipped example file."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _from_file(apprise: Any, path: Path, text: str) -> list[Channel]:
    if _only_comments(text):
        return []
    config = apprise.AppriseConfig()
    with _quiet_apprise():
        loaded = config.add_config(text, format="yaml")
        services = config.services() if loaded else []
    if not loaded:
        raise NotifyError(f"{path}: not a valid Apprise YAML config")
    bad = _unusable_entries(apprise, text)
    if bad:
        raise NotifyError(f"{path}: unusable Apprise URL(s): {', '.join(bad)}")
    if not services and "urls" in text:
        raise NotifyError(f"{path}: no usable Apprise URL in this file")
    return [_channel(plugin, set()) for plugin in services]


def _unusable_entries(apprise: Any, text: str) -> list[str]:
    """``#2 (slack://...)`` for each `urls:` entry Apprise could not load (it skips them
    silently otherwise). Only the scheme is shown: the rest may hold tokens."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    entries = data.get("urls") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    bad = []
    for n, entry in enumerate(entries, start=1):
        single = apprise.AppriseConfig()
        with _quiet_apprise():
            ok = single.add_config(
                yaml.safe_dump({"version": 1, "urls": [entry]}), format="yaml"
            ) and bool(single.services())
        if not ok:
            raw = next(iter(entry), "") if isinstance(entry, dict) else entry
            bad.append(f"#{n} ({_scheme_only(str(raw))})")
    return bad


def describe_channels(alerts: AlertsConfig, env: dict[str, str] | None = None) -> list[str]:
    """One line per channel, URL masked: ``ch-1a2b3c4d5e6f html [email] mailto://...``."""
    return [
        f"{ch.id} {ch.format} [{', '.join(sorted(ch.tags)) or 'no tags'}] {ch.masked}"
        for ch in load_channels(alerts, env)
    ]


@dataclass(frozen=True)
class SendResult:
    """A channel's answer to one message: accepted, or refused and (when Apprise said) why."""

    ok: bool
    reason: str | None = None

    def describe(self, channel: Channel) -> str:
        """``not accepted by mailto://...: Connection error ...: connection refused``."""
        return f"not accepted by {channel.masked}" + (f": {self.reason}" if self.reason else "")


def send(channel: Channel, title: str, body: str, body_format: str) -> SendResult:
    """Send one message to one channel through its own Apprise object. Never raises."""
    apprise = _apprise()
    obj = apprise.Apprise()
    obj.add(channel.plugin)
    with reasons.capture_reasons() as records:
        try:
            ok = bool(obj.notify(title=title, body=body, body_format=body_format))
        except Exception as exc:  # a plugin bug must not take the sender down
            log.warning("channel %s (%s): %s", channel.id, channel.masked, type(exc).__name__)
            return SendResult(False, f"{type(exc).__name__} in the Apprise plugin")
    return SendResult(True) if ok else SendResult(False, reasons.reason_of(records))
