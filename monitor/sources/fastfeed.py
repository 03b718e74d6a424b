"""A fast path for well-formed RSS 2.0, RSS 1.0 and Atom 1.0 feeds.

feedparser reads anything, but it pays for that: about 0.4 ms per entry here, most of a
first pass's CPU. Most real feeds are plain well-formed XML, which lxml reads in a few
microseconds an entry. This module reads those, and only those, and gives exactly the
entry fields feedparser would give for them (title, content, summary, link, id and the two
parsed dates) to the same ``feed._entry_to_item``.

Exactness is the contract, so the rule is: when in doubt, decline. ``parse_entries``
returns None, and the caller falls back to feedparser, for anything outside the subset
whose feedparser semantics are mirrored here: a body that is not UTF-8, a charset other
than UTF-8, a DOCTYPE, an element feedparser maps onto one of those fields
that we do not (``dc:title``, ``media:title``, ``itunes:summary``...), a repeated field,
markup inside a text field, XHTML or base64 content, an entry outside its usual place.
``tests/test_sources_fastfeed.py`` proves the equality over every feedparser test file that
feedparser reads without a bozo flag and over the project's own feed fixtures.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.mixin import _cp1252, _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
RSS10 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# Entry children whose feedparser meaning is mirrored here, by (namespace, local name).
# The value names the field; "" marks an element that touches none of our fields.
_RSS_FIELDS: dict[tuple[str, str], str] = {
    ("", "title"): "title",
    ("", "link"): "link",
    ("", "description"): "summary",
    ("", "guid"): "guid",
    ("", "pubDate"): "published",
    ("", "author"): "",
    ("", "category"): "",
    ("", "comments"): "",
    ("", "enclosure"): "",
    (CONTENT, "encoded"): "content",
    (DC, "date"): "updated",
    (DC, "creator"): "",
    (DC, "subject"): "",
    (DC, "language"): "",
    (DC, "publisher"): "",
    (DC, "rights"): "",
}
_RSS10_FIELDS: dict[tuple[str, str], str] = {
    (RSS10 if ns == "" else ns, local): field for (ns, local), field in _RSS_FIELDS.items()
}
_ATOM_FIELDS: dict[tuple[str, str], str] = {
    (ATOM, "title"): "title",
    (ATOM, "link"): "atomlink",
    (ATOM, "id"): "atomid",
    (ATOM, "updated"): "updated",
    (ATOM, "published"): "published",
    (ATOM, "summary"): "summary",
    (ATOM, "content"): "content",
    (ATOM, "author"): "",
    (ATOM, "contributor"): "",
    (ATOM, "category"): "",
    (ATOM, "rights"): "",
}
# Children of these are allowed (their own children are feedparser's business, not ours).
_CONTAINERS = frozenset({(ATOM, "author"), (ATOM, "contributor")})

_TEXT_TYPES = {"text": "text/plain", "html": "text/html", "text/plain": "text/plain"}
_TEXT_TYPES |= {"text/html": "text/html"}
_HTML_LINK_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


class Decline(Exception):
    """This feed is outside the fast path's subset; feedparser reads it."""


def parse_entries(
    body: bytes, url: str, content_type: str | None = None
) -> list[dict[str, Any]] | None:
    """feedparser-equal entry dicts for a well-formed RSS/Atom feed, or None to decline."""
    try:
        root = _root(body, content_type)
        # "xml:base" cannot be spelled otherwise (the prefix is fixed, entities refused)
        return _entries(root, url, has_base=b"xml:base" in body)
    except (Decline, etree.XMLSyntaxError, ValueError):
        return None


def _root(body: bytes, content_type: str | None) -> Any:
    if content_type:
        charset = re.search(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", content_type, re.I)
        if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise Decline("charset")
        media = content_type.split(";", 1)[0].strip().lower()
        if media.startswith("text/") and media not in ("text/xml", "text/plain"):
            raise Decline("media type")  # feedparser's RFC 3023 rules differ for text/*
    if body.startswith(b"\xef\xbb\xbf"):
        raise Decline("byte-order mark")
    declared = _DECLARED_ENCODING.match(body[:200])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise Decline("declared encoding")
    body.decode("utf-8")  # UnicodeDecodeError is a ValueError: decline
    if b"<!DOCTYPE" in body[:2048] or b"<!doctype" in body[:2048]:
        raise Decline("doctype")
    root = etree.fromstring(body, _PARSER)
    if root.getroottree().docinfo.doctype:
        raise Decline("doctype")
    return root


class _Document:
    """One walk over the whole tree: declines on a processing instruction, and counts the
    elements feedparser would make an entry of."""

    def __init__(self, root: Any):
        self.entries = 0
        for element in root.iter():
            tag = element.tag
            if not isinstance(tag, str):
                if isinstance(element, etree._ProcessingInstruction):
                    raise Decline("processing instruction")
                continue
            if _local(tag).lower() in ("item", "entry"):
                self.entries += 1

    def all_entries_found(self, found: list[Any]) -> None:
        """feedparser makes an entry of every <item> or <entry>, whatever its namespace or
        place; decline when any is not where this module looks."""
        if self.entries != len(found):
            raise Decline("entries outside their usual place")


def _local(tag: str) -> str:
    """The local name of a Clark-notation tag (``{namespace}local``), as etree.QName's."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _namespace(tag: str) -> str:
    """The namespace of a Clark-notation tag ("" for none), as etree.QName's."""
    return tag[1 : tag.index("}")] if tag[:1] == "{" else ""


def _entries(root: Any, url: str, has_base: bool = True) -> list[dict[str, Any]]:
    """``has_base``: the feed may set an ``xml:base`` (without one, every base is ``url``)."""
    document = _Document(root)
    base = None if has_base else url
    tag = root.tag
    if tag == "rss" and root.get("version") == "2.0":
        channel = _only_child(root, "channel")
        items = channel.findall("item")
        document.all_entries_found(items)
        return [_rss_entry(item, url, _RSS_FIELDS, None, base) for item in items]
    if tag == f"{{{RDF}}}RDF":
        items = root.findall(f"{{{RSS10}}}item")
        document.all_entries_found(items)
        about = f"{{{RDF}}}about"
        return [_rss_entry(item, url, _RSS10_FIELDS, item.get(about), base) for item in items]
    if tag == f"{{{ATOM}}}feed":
        entries = root.findall(f"{{{ATOM}}}entry")
        document.all_entries_found(entries)
        return [_atom_entry(entry, url, base) for entry in entries]
    raise Decline("not RSS 2.0, RSS 1.0 or Atom 1.0")


def _only_child(parent: Any, tag: str) -> Any:
    found = parent.findall(tag)
    if len(found) != 1:
        raise Decline(f"{len(found)} <{tag}> elements")
    return found[0]


def _classify(entry: Any, fields: dict[tuple[str, str], str]) -> dict[str, Any]:
    """The entry's children by field; declines on an element feedparser gives a meaning
    that is not mirrored here."""
    seen: dict[str, Any] = {}
    links: list[Any] = []
    for child in entry:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments
        key = (_namespace(tag), _local(tag))
        field = fields.get(key)
        if field is None:
            _unhandled_by_feedparser(child)
            continue
        if field == "":
            if key not in _CONTAINERS:
                for inner in child.iterdescendants():
                    if isinstance(inner.tag, str):
                        _unhandled_by_feedparser(inner)
            continue
        if field == "atomlink":
            links.append(child)
            continue
        if field in seen:
            raise Decline(f"repeated {field}")
        if len(child):
            raise Decline(f"markup inside {field}")
        seen[field] = child
    seen["links"] = links
    return seen


def _unhandled_by_feedparser(element: Any) -> None:
    """Decline unless feedparser stores this element (and all inside it) under a name of its
    own, away from the fields read here: it has no handler for it."""
    for inner in element.iter():
        if not isinstance(inner.tag, str):
            continue
        qname = etree.QName(inner)
        uri = (qname.namespace or "").lower()
        prefix = _FeedParserMixin.namespaces.get(uri, inner.prefix or "")
        if uri and "backend.userland.com/rss" in uri:
            prefix = ""
        name = f"{prefix}_{qname.localname}" if prefix else qname.localname
        name = name.lower()
        if hasattr(_FeedParserMixin, f"_start_{name}") or hasattr(_FeedParserMixin, f"_end_{name}"):
            raise Decline(f"element {name} has a feedparser meaning")
        if not uri:
            raise Decline(f"element {name} in no namespace")


def _rss_entry(
    item: Any, url: str, fields: dict[tuple[str, str], str], about: str | None, base: str | None
) -> dict[str, Any]:
    """``base``: the base URI of every element when the feed sets no ``xml:base``."""
    found = _classify(item, fields)
    entry: dict[str, Any] = {}
    if about:
        entry["id"] = about
    for field in ("title", "summary"):
        if field in found:
            entry[field] = _text(found[field])
    if "content" in found:
        entry["content"] = [{"value": _text(found["content"])}]
        entry.setdefault("summary", entry["content"][0]["value"])
    if "guid" in found:
        guid = found["guid"]
        is_link = guid.get("isPermaLink", guid.get("ispermalink", "true")) == "true"
        value = _text(guid, resolve=(base or _base(guid, url)) if is_link else None)
        entry["id"] = value
        if is_link:
            entry["link"] = value
    if "link" in found:
        link = found["link"]
        entry["link"] = _link_text(_text(link, resolve=base or _base(link, url)))
    _dates(entry, found)
    return entry


def _atom_entry(element: Any, url: str, base: str | None) -> dict[str, Any]:
    found = _classify(element, _ATOM_FIELDS)
    entry: dict[str, Any] = {}
    if "title" in found:
        entry["title"] = _text(found["title"], typed=True)
    if "summary" in found:
        entry["summary"] = _text(found["summary"], typed=True)
    if "content" in found:
        content = found["content"]
        if content.get("src") is not None:
            raise Decline("out-of-line content")
        value = _text(content, typed=True)
        entry["content"] = [{"value": value}]
        entry.setdefault("summary", value)
    for link in found["links"]:
        if link.get("href") is None:
            raise Decline("link without href")
        if _is_alternate_html(link):  # the last alternate HTML link wins, as in feedparser
            entry["link"] = _urljoin(base or _base(link, url), link.get("href"))
    if "atomid" in found:
        # feedparser reads an Atom id as a permalink guid: resolved, and the link when the
        # entry has no alternate HTML link
        entry["id"] = _text(found["atomid"], resolve=base or _base(found["atomid"], url))
        entry.setdefault("link", entry["id"])
    _dates(entry, found)
    return entry


def _base(element: Any, url: str) -> str:
    """The base URI in effect at ``element``: the document's URL, then each ``xml:base``
    from the root down to the element itself, joined as feedparser joins them."""
    bases = [e.get(XML_BASE) for e in (*reversed(list(element.iterancestors())), element)]
    base = url
    for value in bases:
        if value is not None:
            base = make_safe_absolute_uri(base, value) or base
    return base


def _is_alternate_html(link: Any) -> bool:
    rel = link.get("rel", "alternate")
    kind = link.get("type", "application/atom+xml" if rel == "self" else "text/html")
    return rel == "alternate" and _content_type(kind) in _HTML_LINK_TYPES


def _content_type(value: str) -> str:
    lowered = value.lower()
    return {"text": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}.get(
        lowered, lowered
    )


def _dates(entry: dict[str, Any], found: dict[str, Any]) -> None:
    # feedparser's own date parser: the same struct for the same text
    if "published" in found:
        entry["published_parsed"] = _parse_date(_text(found["published"]))
    if "updated" in found:
        entry["updated_parsed"] = _parse_date(_text(found["updated"]))


def _text(element: Any, *, typed: bool = False, resolve: str | None = None) -> str:
    """The element's text as feedparser's ``pop`` leaves it."""
    if typed:
        kind = _TEXT_TYPES.get(element.get("type", "text").lower())
        if kind is None:
            raise Decline("content type outside text/html")
    value = (element.text or "").strip()
    if resolve is not None and value:
        value = _urljoin(resolve, value)
    return _fix_encoding(value)


def _link_text(value: str) -> str:
    # feedparser's repair of '&amp;' in RSS link elements (see its pop())
    if "&" not in value:
        return value
    value = value.replace("&amp;", "&")
    return re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)


def _fix_encoding(value: str) -> str:
    """feedparser's repair of UTF-8 read as Latin-1, then its cp1252 mapping of C1 codes."""
    if value.isascii():  # both are the identity on ASCII (most text): skip them
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)
