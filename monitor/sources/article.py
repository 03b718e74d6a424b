"""Reading one article page: main text by trafilatura, JSON-LD and OpenGraph metadata.

The main text is trafilatura's (measured better on real news pages, see
bench/bench_article.py). When it finds none, a small readability-style extractor of our
own takes over: boilerplate containers (nav, aside, footer, share bars, comment sections,
...) are dropped, every paragraph credits its text to its parent (and half to its
grandparent), links count against a block, and the best-scoring container gives the text.
An ``<article>`` element wins when it holds most of that text.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import lxml.html
from bs4.dammit import UnicodeDammit
from lxml import etree

from monitor.errors import ParseError
from monitor.sources.text import MAX_TEXT_CHARS, MAX_TITLE_CHARS, clean_text, parse_date

# UnicodeDammit logs a warning for every page with undecodable bytes; scraped pages often
# have some, and the replacement characters are harmless for text extraction.
logging.getLogger("bs4.dammit").setLevel(logging.ERROR)

_DROP_TAGS = (
    "script",
    "style",
    "template",
    "iframe",
    "svg",
    "button",
    "select",
    "object",
    "embed",
    "canvas",
    "dialog",
)
# page furniture by tag, dropped unless it holds most of the page (ASP.NET pages wrap
# everything in one <form>; some blogs put the whole post in <noscript>)
_FURNITURE_TAGS = ("nav", "aside", "footer", "form", "noscript", "figcaption")
# class/id words of page furniture; matched as whole words so "shared-article" survives
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:comments?|share|sharing|social|related|recommended|newsletter|promo|"
    r"advert|ads?|cookies?|consent|breadcrumbs?|sidebar|footer|nav|navbar|menu|subscribe|"
    r"subscription|popup|modal|outbrain|taboola|teaser|most-read|paywall|banner|"
    r"author|bio|byline|tags?|credits?|copyright|disclaimer|read-more|readmore)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "td")
_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "techarticle",
    "report",
    "webpage",
    "pressrelease",
}
# <meta name=...> spellings of a publication date (Dublin Core, PRISM, Highwire, Parse.ly...)
_DATE_META = {
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "article:published",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "prism.publicationdate",
    "citation_publication_date",
    "citation_date",
    "parsely-pub-date",
    "sailthru.date",
}
# characters lxml refuses in text (it raises mid-edit otherwise); tabs/newlines stay
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
MIN_PARAGRAPH_CHARS = 25


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    text: str
    published: datetime | None
    description: str


def read_article(body: bytes, url: str) -> Article:
    """The main text and metadata of an article page; ParseError when it is unusable."""
    root = _parse(body, url)
    try:
        meta = _metadata(root)
        text = _trafilatura_text(root, url)
        if not text:  # trafilatura found no main text: the density extractor's best block
            _drop_boilerplate(root)
            text = _main_text(root)
    except (ValueError, etree.LxmlError) as exc:  # lxml refusing odd text mid-edit
        raise ParseError(f"unreadable article page ({exc})") from None
    title = meta.get("headline") or meta.get("og:title") or _title_tag(root)
    text = _without_title_line(text, clean_text(title or ""))
    published = parse_date(meta.get("datePublished")) or parse_date(
        meta.get("article:published_time")
    )
    return Article(
        title=clean_text(title or "", MAX_TITLE_CHARS),
        text=text[:MAX_TEXT_CHARS],
        published=published,
        description=clean_text(meta.get("description") or meta.get("og:description") or ""),
    )


def density_text(body: bytes, url: str) -> str:
    """The main text by this module's own paragraph-density extractor alone (kept as the
    fallback and for bench/bench_article.py, which scores it against trafilatura)."""
    root = _parse(body, url)
    try:
        _drop_boilerplate(root)
        return _main_text(root)[:MAX_TEXT_CHARS]
    except (ValueError, etree.LxmlError) as exc:
        raise ParseError(f"unreadable article page ({exc})") from None


def _trafilatura_text(root: Any, url: str) -> str:
    """Main text by trafilatura (its default extraction, with its fallbacks), measured
    better than the density extractor on real news pages (docs/performance.md). It gets
    a copy of the tree: it edits what it reads."""
    import trafilatura  # imported on first use: it loads its own dependencies

    text = trafilatura.extract(
        copy.deepcopy(root),
        url=url,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,
        with_metadata=False,
    )
    return clean_paragraphs(text or "")


def _without_title_line(text: str, title: str) -> str:
    """The text without a first line that repeats the headline (the item has the title)."""
    first, _newline, rest = text.partition("\n")
    if title and first.strip().casefold() == title.casefold():
        return rest
    return text


def clean_paragraphs(text: str) -> str:
    """One paragraph a line, each cleaned like every other scraped text."""
    lines = (clean_text(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _parse(body: bytes, url: str) -> Any:
    if not body.strip():
        raise ParseError("empty article page")
    markup = UnicodeDammit(body, is_html=True).unicode_markup
    if markup is None:
        raise ParseError("article page is in an unknown encoding")
    markup = _CONTROL_CHARS.sub("", _XML_DECL.sub("", markup))
    try:
        root = lxml.html.document_fromstring(markup, base_url=url)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"unreadable article page ({exc})") from None
    return root


def _metadata(root: Any) -> dict[str, str]:
    """JSON-LD article fields first, then OpenGraph / meta tags, first value wins."""
    found: dict[str, str] = {}
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        for obj in _ld_objects(data):
            for key in ("headline", "datePublished", "description"):
                value = obj.get(key)
                if isinstance(value, str) and value.strip() and key not in found:
                    found[key] = value.strip()
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip()
        value = (meta.get("content") or "").strip()
        if not value:
            continue
        if key in ("og:title", "og:description", "article:published_time", "description"):
            found.setdefault(key, value)
        elif key.lower() in _DATE_META:
            found.setdefault("article:published_time", value)
    if "article:published_time" not in found:
        # microdata on any element, then the first <time datetime=...>
        for element in root.iterfind(".//*[@itemprop='datePublished']"):
            value = element.get("content") or element.get("datetime") or element.text_content()
            if value and value.strip():
                found["article:published_time"] = value.strip()
                break
    if "article:published_time" not in found:
        for time in root.iter("time"):
            value = (time.get("datetime") or "").strip()
            if value:
                found["article:published_time"] = value
                break
    return found


def _ld_objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Article-typed objects anywhere in a JSON-LD document (lists, @graph, nesting)."""
    if depth > 6:
        return
    if isinstance(data, list):
        for entry in data[:50]:
            yield from _ld_objects(entry, depth + 1)
    elif isinstance(data, dict):
        types = data.get("@type")
        names = types if isinstance(types, list) else [types]
        if any(isinstance(name, str) and name.lower() in _ARTICLE_TYPES for name in names):
            yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _ld_objects(graph, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _ld_objects(main, depth + 1)


def _title_tag(root: Any) -> str:
    for title in root.iter("title"):
        return str(title.text_content())
    return ""


def _drop_boilerplate(root: Any) -> None:
    # first what is never text (scripts, styles), so the sizes below are visible text
    _drop(
        element
        for element in root.iter()
        if not isinstance(element.tag, str) or element.tag in _DROP_TAGS
    )
    page_chars = max(len(root.text_content()), 1)
    page_paragraph_chars = max(_paragraph_chars(root), 1)
    doomed = []
    for element in root.iter():
        if element.tag in ("html", "body", "article", "main"):
            continue
        marker = f"{element.get('class') or ''} {element.get('id') or ''}"
        furniture = element.tag in _FURNITURE_TAGS or (
            bool(marker.strip()) and _BOILERPLATE.search(marker) is not None
        )
        hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true"
        if not (furniture or hidden):
            continue
        # a wrapper holding most of the page (class="page sidebar-layout") is layout
        if len(element.text_content()) >= 0.4 * page_chars:
            continue
        if _paragraph_chars(element) >= 0.5 * page_paragraph_chars:
            continue
        doomed.append(element)
    _drop(doomed)


def _drop(elements: Any) -> None:
    for element in list(elements):
        if element.getparent() is not None:
            element.drop_tree()


def _main_text(root: Any) -> str:
    scores: dict[Any, float] = {}
    for paragraph in root.iter("p", "pre", "blockquote", "div"):
        if paragraph.tag == "div":
            length = len(_own_text(paragraph))  # text written straight into a div, <br>s
        else:
            length = len(clean_text(paragraph.text_content()))
        if length < MIN_PARAGRAPH_CHARS:
            continue
        parent = paragraph.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + length
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0.0) + length / 2
    if not scores:
        body = root.find("body")
        return clean_text(body.text_content()) if body is not None else ""
    for candidate in list(scores):
        scores[candidate] *= 1 - _link_density(candidate)
    best = max(scores, key=lambda element: scores[element])
    best_len = _paragraph_chars(best)
    for container in (*root.iter("article"), *root.iter("main")):
        # prefer the semantic container when it holds the chosen text and little more
        if best is container or container in best.iterancestors():
            if _paragraph_chars(container) <= best_len * 1.5:
                best = container
            break
    return _block_text(best)


def _own_text(element: Any) -> str:
    """Text directly inside ``element`` (its text and its children's tails), not nested."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return clean_text(" ".join(parts))


def _paragraph_chars(element: Any) -> int:
    return sum(len(clean_text(p.text_content())) for p in element.iter("p"))


def _link_density(element: Any) -> float:
    total = len(element.text_content())
    if total == 0:
        return 1.0
    linked = sum(len(link.text_content()) for link in element.iter("a"))
    return min(linked / total, 1.0)


def _block_text(container: Any) -> str:
    lines: list[str] = []
    for block in container.iter(*_BLOCKS):
        if any(ancestor.tag in _BLOCKS for ancestor in block.iterancestors()):
            continue  # counted with its enclosing block
        text = clean_text(block.text_content())
        if not text:
            continue
        if block.tag in ("li", "td") and _link_density(block) > 0.5:
            continue  # link lists inside the article (tags, "read more")
        lines.append(text)
    joined = "\n".join(lines)
    everything = clean_text(" ".join(container.itertext()))
    if len(joined) < 0.5 * len(everything):
        return everything  # text not in paragraphs (divs and <br>s): take it all
    return joined
