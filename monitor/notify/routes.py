"""Routing: which channels get a change, immediately or in a digest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.notify.channels import Channel
from monitor.notify.config import AlertsConfig, RouteConfig


def route_matches(route: RouteConfig, entity: str, kind: str, change: str) -> bool:
    """An omitted filter matches everything."""
    return (
        (route.kinds is None or kind in route.kinds)
        and (route.entities is None or entity in route.entities)
        and (route.changes is None or change in route.changes)
    )


@dataclass(frozen=True)
class Target:
    route: RouteConfig
    channel: Channel

    @property
    def state(self) -> str:
        """Immediate rows are due now; digest rows wait for their route's schedule."""
        return "queued" if self.route.mode == "digest" else "pending"


def plan(
    alerts: AlertsConfig, channels: Sequence[Channel], entity: str, kind: str, change: str
) -> list[Target]:
    """One target per (channel, mode): when two routes of the same mode reach a channel,
    the first route in the config wins, so a channel never gets the same change twice."""
    targets: dict[tuple[str, str], Target] = {}
    for route in alerts.routes:
        if not route_matches(route, entity, kind, change):
            continue
        for channel in channels:
            if channel.matches(route.tags):
                targets.setdefault((channel.id, route.mode), Target(route, channel))
    return list(targets.values())


def health_channels(alerts: AlertsConfig, channels: Sequence[Channel]) -> list[Channel]:
    return [ch for ch in channels if ch.matches(alerts.health_tags)]
