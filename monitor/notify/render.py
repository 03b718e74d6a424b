"""Rendering alert messages from Jinja2 templates, per channel format.

Templates are looked up first in the operator's folder (``alerts.templates``, default
``alerts/templates``) and then in the defaults shipped in ``monitor/templates/alerts``,
so an operator may override one file and keep the rest. Names:
``<message>.title.j2`` and ``<message>.<format>.j2`` where message is ``change``,
``digest``, ``source`` or ``test`` and format ``text``, ``markdown`` or ``html``; a
missing format falls back to ``text``. HTML templates are autoescaped (scraped titles and
sentences are untrusted) and every template uses StrictUndefined (a typo is an error,
not an empty string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)

from monitor.errors import NotifyError
from monitor.store.queries import ChangeView

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "alerts"
MAX_FIELD_CHARS = 1000  # cap scraped text placed in a message
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_escape(value: Any) -> str:
    """Backslash-escape Markdown syntax in untrusted text."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def safe_link(value: Any) -> str:
    """An http(s) URL or ``#``: a scraped ``javascript:`` link must not reach an href."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else "#"


def clip(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def _territories() -> dict[str, str]:
    return dict(Locale("en").territories)


def country_name(code: str) -> str:
    return _territories().get(code.upper(), code)


def display_value(kind: str, value: str) -> str:
    """``MX`` -> ``Mexico (MX)``; chips and models as written."""
    if kind == "region" and len(value) == 2 and value.isalpha():
        return f"{country_name(value)} ({value.upper()})"
    return value


def entity_name(watchlist: Any, entity: str) -> str:
    """The watchlist's display name (``alibaba`` -> ``Alibaba Cloud``), else the id."""
    display = getattr(watchlist, "display_name", None)
    if callable(display):
        try:
            return str(display(entity))
        except (KeyError, ValueError):
            pass
    return entity[:1].upper() + entity[1:]


def change_context(view: ChangeView, watchlist: Any) -> dict[str, Any]:
    evidence = [
        {
            "url": e.url,
            "title": clip(e.title, 300),
            "source": clip(e.source, 200),
            "sentence": clip(e.sentence),
            "published": e.published,
            "lang": e.lang,
            "status": e.status,
        }
        for e in view.evidence
    ]
    return {
        "id": view.id,
        "entity": view.entity,
        "entity_name": entity_name(watchlist, view.entity),
        "kind": view.kind,
        "value": view.value,
        "value_display": display_value(view.kind, view.value),
        "change": view.change,
        "status": view.status,
        "at": view.at,
        "published": view.published,
        "sources": view.sources,
        "evidence": evidence,
        "first": evidence[0] if evidence else None,
        "dismissed": view.dismissed_at is not None,
    }


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str  # what the body is written in: text / markdown / html


class Renderer:
    def __init__(self, templates_dir: Path | None):
        self.templates_dir = templates_dir
        loaders = []
        if templates_dir is not None and templates_dir.is_dir():
            loaders.append(FileSystemLoader(str(templates_dir)))
        loaders.append(FileSystemLoader(str(PACKAGE_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["md"] = markdown_escape
        self.env.filters["clip"] = clip
        self.env.filters["link"] = safe_link
        self.env.filters["country"] = country_name

    def check(self) -> list[str]:
        """``FILE:LINE: problem`` for each operator template that does not compile (found
        by `monitor check-config`, not by the first alert that needs it)."""
        problems = []
        folder = self.templates_dir
        if folder is None or not folder.is_dir():
            return []
        for path in sorted(folder.glob("*.j2")):
            try:
                self.env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
            except TemplateSyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: template syntax error: {exc.message}")
            except (OSError, UnicodeError) as exc:
                problems.append(f"{path}: cannot read template: {exc}")
        return problems

    def render(self, message: str, fmt: str, context: dict[str, Any]) -> Message:
        """Title and body of ``message`` for a channel taking ``fmt``. NotifyError on a
        template problem (missing file, undefined variable, syntax)."""
        try:
            title = self.env.get_template(f"{message}.title.j2").render(**context)
            try:
                template = self.env.get_template(f"{message}.{fmt}.j2")
                used = fmt
            except TemplateNotFound:
                template = self.env.get_template(f"{message}.text.j2")
                used = "text"
            body = template.render(**context)
        except TemplateNotFound as exc:
            raise NotifyError(f"alert template not found: {exc.name}") from None
        except TemplateError as exc:
            raise NotifyError(f"alert template {message!r} ({fmt}): {exc}") from None
        except Exception as exc:  # an operator's template can fail in any way: 1 / 0, "a" + 1
            raise NotifyError(
                f"alert template {message!r} ({fmt}): {type(exc).__name__}: {exc}"
            ) from None
        return Message(" ".join(title.split()), body.strip() + "\n", used)
