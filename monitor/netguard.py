"""Which addresses a request may reach: no server-side request forgery.

A third party's page, link or redirect must not make monitor request an internal address
(the metadata service at 169.254.169.254, an admin page on 127.0.0.1, a printer on the
LAN) and store what it answers. So the address a request *actually connected to* (after
DNS resolution, read back from the socket) is checked, not the URL's spelling: DNS
rebinding, ``localhost``, ``2130706433``, ``0177.0.0.1``, ``0x7f000001`` and
``::ffff:127.0.0.1`` all end up as the same loopback peer address.

An internal address (loopback, private, shared, link-local, unspecified, multicast,
reserved) may be reached only by a request to the *same origin* (scheme, host, port) as
the source URL the operator configured, or to a host the operator lists in
``defaults.allow_private_hosts``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def normal_host(host: str) -> str:
    """A host name as origins compare it: lower case, no trailing dot, no IPv6 brackets."""
    return host.strip("[]").rstrip(".").lower()


def make_origin(scheme: str, host: str, port: int | None) -> Origin:
    scheme = scheme.lower()
    return Origin(scheme, normal_host(host), port or DEFAULT_PORTS.get(scheme, 0))


def origin_of(url: str) -> Origin | None:
    """The origin of an http(s) URL, or None when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    return make_origin(parts.scheme, parts.hostname, port)


def internal_kind(address: str) -> str | None:
    """What kind of internal address ``address`` is ("loopback", "private", ...), or None
    for a public one. IPv4-mapped and IPv4-compatible IPv6 addresses count as their IPv4."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]  # fe80::1%eth0: the zone does not change the kind
        )
    except ValueError:
        return "unparseable"
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Where one request (and its redirects) may connect: anywhere public; internal
    addresses only at ``trusted`` (the configured source's origin) or an allowed host."""

    trusted: Origin | None
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def for_source(cls, source_url: str | None, allowed_hosts: Iterable[str] = ()) -> AddressPolicy:
        return cls(
            origin_of(source_url) if source_url else None,
            frozenset(normal_host(h) for h in allowed_hosts),
        )

    def refusal(self, origin: Origin, peer: str) -> str | None:
        """Why connecting to ``origin`` at address ``peer`` is refused, or None if allowed."""
        kind = internal_kind(peer)
        if kind is None or origin == self.trusted:
            return None
        if origin.host in self.allowed_hosts or normal_host(peer) in self.allowed_hosts:
            return None
        return (
            f"refused to fetch {origin}: it is at {peer}, a {kind} address, and is neither the "
            "source's own origin nor listed in defaults.allow_private_hosts"
        )
