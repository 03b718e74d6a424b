"""Pure helpers between the store's rows and the desk's templates: reading filters from a
query string, highlighting a value in a sentence, colouring the world map, the Atom feed.

No I/O and no database here; the handlers (:mod:`monitor.web.routes`) read and write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from babel import Locale, UnknownLocaleError

from monitor.store.queries import ChangeQuery, ChangeView

MAX_LIMIT = 500
PAGE_SIZE = 50
KINDS = ("region", "chip", "model")
CHANGES = ("new", "live")
STATUSES = ("live", "planned")
STATES = ("unread", "seen", "confirmed", "dismissed")
BACKFILL = ("true", "false")
FILTER_PARAMS = (
    "entity", "kind", "change", "status", "state", "backfill", "source", "lang", "from", "to",
    "q",
)  # fmt: skip
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class BadRequest(ValueError):
    """A query parameter the desk cannot use: its message is shown to the user."""


def _date(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{name}: {value[:40]!r} is not a date (2025-03-01)") from None


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise BadRequest(f"{name}: {value[:40]!r} is not one of {', '.join(allowed)}")
    return value


def query_from_params(
    params: Mapping[str, str], *, limit: int | None = None, evidence: bool = True
) -> ChangeQuery:
    """The filters of the change log, feed and API, from query parameters, newest detected
    first (record order). ``from``/``to`` are detection dates (``to`` takes the whole day);
    ``cursor`` continues a page."""
    backfill = _choice(params, "backfill", BACKFILL)
    start = params.get("from", "").strip()
    end = params.get("to", "").strip()
    return ChangeQuery(
        entity=(params.get("entity") or "").strip() or None,
        kind=_choice(params, "kind", KINDS),
        change=_choice(params, "change", CHANGES),
        status=_choice(params, "status", STATUSES),
        state=_choice(params, "state", STATES),
        backfill=None if backfill is None else backfill == "true",
        source=(params.get("source") or "").strip() or None,
        lang=(params.get("lang") or "").strip() or None,
        detected_since=_date(start, "from") if start else None,
        detected_until=_date(end, "to") + timedelta(days=1) if end else None,
        search=(params.get("q") or "").strip() or None,
        order="id",
        limit=limit,
        cursor=(params.get("cursor") or "").strip() or None,
        evidence=evidence,
    )


def is_filtered(params: Mapping[str, str]) -> bool:
    return any(params.get(k) for k in FILTER_PARAMS)


def limit_from_params(params: Mapping[str, str], default: int = PAGE_SIZE) -> int:
    raw = (params.get("limit") or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit: {raw[:20]!r} is not a number from 1 to {MAX_LIMIT}")
    return int(raw)


def kept_params(params: Mapping[str, str], **changes: str | None) -> dict[str, str]:
    """The current filters with some changed (None removes one): for links and forms."""
    kept = {k: params[k] for k in FILTER_PARAMS if params.get(k)}
    for name, value in changes.items():
        if value is None:
            kept.pop(name, None)
        else:
            kept[name] = value
    return kept


# --------------------------------------------------------------------------- highlighting


def _local_names(code: str, lang: str | None) -> list[str]:
    names = []
    for locale in {"en", (lang or "en").replace("-", "_")}:
        try:
            name = Locale.parse(locale).territories.get(code.upper())
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            names.append(name)
    return names


def highlight(sentence: str, kind: str, value: str, lang: str | None) -> list[tuple[str, bool]]:
    """The sentence cut into (text, is_the_value) pieces: the first mention of the value
    (or, for a country code, of the country's name in English or the evidence's language)
    is marked. A sentence that names it otherwise is one unmarked piece."""
    candidates = [value]
    if kind == "region" and len(value) == 2:
        candidates = [*_local_names(value, lang), value]
    lowered = sentence.lower()
    for candidate in candidates:
        at = lowered.find(candidate.lower()) if candidate else -1
        if at >= 0:
            end = at + len(candidate)
            pieces = [(sentence[:at], False), (sentence[at:end], True), (sentence[end:], False)]
            return [p for p in pieces if p[0]]
    return [(sentence, False)] if sentence else []


# --------------------------------------------------------------------------- the world map


@dataclass
class Footprint:
    """A company's countries by status and origin, for the map and its legend."""

    classes: dict[str, str] = field(default_factory=dict)  # "MX" -> "live discovered"

    def add(self, code: str, status: str, origin: str) -> None:
        where = "discovered" if origin != "baseline" else "baseline"
        self.classes[code.upper()] = f"{status} {where}"


def colour_map(svg: str, footprint: Footprint) -> str:
    """The vendored SVG with each listed country's shapes given its classes (CSS colours
    them: no inline style, no script)."""

    def mark(match: re.Match[str]) -> str:
        code = match.group(1)
        extra = footprint.classes.get(code)
        return f'class="c {code} {extra}"' if extra else match.group(0)

    return re.sub(r'class="c ([A-Z]{2})"', mark, svg)


# --------------------------------------------------------------------------- Atom


def xml_text(value: Any) -> str:
    """Text XML 1.0 can carry: scraped strings may hold control characters."""
    return _XML_INVALID.sub("", str(value or ""))


def rfc3339(moment: datetime | None) -> str:
    return (moment or datetime(1970, 1, 1)).replace(microsecond=0).isoformat() + "Z"


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(
    views: list[ChangeView],
    *,
    base_url: str,
    self_url: str,
    title_of: Any,
    now: datetime,
) -> bytes:
    """An Atom 1.0 document, one entry per change (its evidence in the content).

    ``title_of(view)`` gives an entry's title. Built with ElementTree, so every piece of
    scraped text is escaped; characters XML cannot carry are dropped."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            node.text = xml_text(text)
        return node

    sub(feed, "id", "urn:monitor:changes")
    sub(feed, "title", "monitor: change log")
    sub(feed, "updated", rfc3339(max((v.at for v in views), default=now)))
    sub(feed, "link", rel="self", href=xml_text(self_url), type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=f"{base_url}/", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", "monitor")
    sub(feed, "generator", "monitor")
    for view in views:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:monitor:change:{view.id}")
        sub(entry, "title", title_of(view))
        sub(entry, "link", rel="alternate", href=f"{base_url}/changes/{view.id}", type="text/html")
        sub(entry, "updated", rfc3339(view.at))
        if view.published is not None:
            sub(entry, "published", rfc3339(view.published))
        sub(entry, "category", term=view.kind)
        sub(entry, "category", term=view.entity)
        sub(entry, "content", _entry_html(view), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry_html(view: ChangeView) -> str:
    """The evidence as an HTML fragment (escaped here, then escaped again as XML text)."""
    from html import escape

    from monitor.notify.render import safe_link

    parts = [
        f"<p>{escape(view.change)}: {escape(view.kind)} {escape(view.value)} "
        f"({escape(view.status)})</p>",
        "<ul>",
    ]
    for e in view.evidence[:20]:
        link = safe_link(e.url)
        title = escape(e.title[:300])
        headline = f'<a href="{escape(link)}">{title}</a>' if link != "#" else title
        parts.append(
            f"<li>{escape(e.source)}, {escape(rfc3339(e.published)[:10])}: {headline}"
            f"<br>{escape(e.sentence[:1000])}</li>"
        )
    parts.append("</ul>")
    return "".join(parts)
