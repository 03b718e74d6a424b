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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

from monitor.errors import NotifyError
from monitor.safetext import strip_controls
from monitor.views import clip, country_name, headline

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "alerts"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_escape(value: Any) -> str:
    """Backslash-escape Markdown syntax in untrusted text."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def safe_link(value: Any) -> str:
    """An http(s) URL or ``#``: a scraped ``javascript:`` link must not reach an href."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else "#"


@pass_context
def template_headline(
    context: Context,
    change: Mapping[str, Any] | None = None,
    *,
    status: bool = True,
    live: str = "now live",
    bold: bool = False,
) -> str:
    """``{{ headline() }}`` in a change template, ``{{ headline(c) }}`` for each of a
    digest's changes: :func:`monitor.views.headline` of that change, escaped for the
    template's format (HTML, Markdown), the value in bold when ``bold``."""
    c = change if change is not None else context.get_all()
    kind, value, state = str(c["kind"]), str(c["value_display"]), str(c["status"])
    name = context.name or ""
    if name.endswith(".html.j2"):
        value = Markup("<b>{}</b>").format(value) if bold else escape(value)
        what = headline(
            escape(kind), value, c["change"], escape(state), with_status=status, live=live
        )
        return Markup(what)  # each part escaped above
    if name.endswith(".markdown.j2"):
        value = f"**{markdown_escape(value)}**" if bold else markdown_escape(value)
    return headline(kind, value, c["change"], state, with_status=status, live=live)


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
        self.env.globals["headline"] = template_headline

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
        # Evidence quotes scraped text: no bidi override may reorder what the reader sees
        # (nor a control character reach a channel), whatever the template prints.
        return Message(
            strip_controls(" ".join(title.split())), strip_controls(body.strip()) + "\n", used
        )
