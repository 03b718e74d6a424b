"""Text from the network made safe to print, log and store: no terminal control, no secrets.

Everything a server sends is untrusted: a reason phrase, a header, an error text or a title
can carry terminal escape sequences (``ESC ] 0 ; ... BEL`` retitles the operator's terminal,
``ESC [ 2 J`` clears it) or bidirectional overrides (``U+202E`` makes ``exe.txt`` read
``txt.exe``). ``strip_controls`` removes both; ``safe_message`` also masks credentials, and is
what every error message goes through (``monitor.errors.MonitorError``); ``safe_text``
also makes it one line.

URLs print with their secrets masked (``safe_url``): the password of ``user:password@`` and
the values of query parameters that carry credentials (``api_key``, ``token``, ``sig``...).
This module imports nothing heavy: ``monitor.errors`` and the CLI use it at start-up.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# C0 and C1 control characters but tab/newline/CR, and the bidirectional embeddings,
# overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")

# Query parameter names that carry credentials, compared lower-cased with '-', '_' and '.'
# removed; a name also counts when it ends with one of the suffixes (apiKey, x-amz-signature,
# client_secret, access_token, hub.verify_token, ...).
_SECRET_NAMES = frozenset(
    {"key", "auth", "sig", "pass", "pwd", "jwt", "code", "session", "sessionid", "sid"}
)
_SECRET_SUFFIXES = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "credential",
    "credentials",
    "auth",
    "sig",
)
# name=value inside a query string (after ? & or ;), in free text as in a URL
_QUERY_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s'\"<>?]+)=(?P<value>[^&;#\s'\"<>]*)")
# scheme://userinfo@ in free text
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<info>[^/\s@'\"<>?#]+)@")


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab, newline and CR kept) or bidi overrides."""
    if text.isprintable():  # every character _CONTROLS matches is unprintable (Cc or Cf)
        return text
    return _CONTROLS.sub("", text)


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional embeddings, overrides and isolates (alerts keep the
    rest: their channels do not interpret escape sequences, but they do render bidi)."""
    return _BIDI.sub("", text)


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    plain = name.lower().replace("-", "").replace("_", "").replace(".", "")
    return plain in _SECRET_NAMES or plain.endswith(_SECRET_SUFFIXES)


def mask_secrets(text: str) -> str:
    """Free text with the credentials of any URL in it masked (userinfo, secret parameters)."""
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    if "=" in text:
        text = _QUERY_PAIR.sub(_mask_pair, text)
    return text


def _mask_pair(match: re.Match[str]) -> str:
    if not is_secret_param(match["name"]) or not match["value"]:
        return match[0]
    return f"{match['lead']}{match['name']}={MASK}"


def safe_message(text: str) -> str:
    """Text fit for a terminal, a log or an error column, line breaks kept (an error may
    carry detail lines): controls and bidi overrides dropped, credentials masked."""
    return mask_secrets(strip_controls(text))


def safe_text(text: str) -> str:
    """One line fit for a terminal, a log or an error column: controls and bidi overrides
    dropped, line breaks made spaces, credentials masked."""
    return mask_secrets(_LINE_BREAKS.sub(" ", strip_controls(text)))


def safe_url(url: str) -> str:
    """The URL fit to print: ``user:password@`` and secret query values masked, controls
    dropped (never log or print credentials)."""
    url = strip_controls(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{MASK}@{host}:{port}" if port else f"{MASK}@{host}"
    query = _QUERY_PAIR.sub(_mask_pair, "?" + parts.query)[1:] if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
