"""The static HTML report (`monitor report`): one self-contained page, no external assets.

Per company: the timeline of changes with their evidence, and the countries, chips and
models known, baseline versus discovered. Scraped text is autoescaped and links that are
not http(s) are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from monitor.notify.render import safe_link
from monitor.store.facts import all_facts
from monitor.store.queries import ChangeQuery, find_changes
from monitor.views import DisplayNames, change_context, display_value, entity_name

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KINDS = ("region", "chip", "model")


def build_report(session: Session, names: DisplayNames | None, now: datetime) -> str:
    views = find_changes(session, ChangeQuery()).changes
    facts = all_facts(session)
    companies: dict[str, dict[str, Any]] = {}

    def company(entity: str) -> dict[str, Any]:
        if entity not in companies:
            companies[entity] = {
                "id": entity,
                "name": entity_name(names, entity),
                "changes": [],
                "facts": defaultdict(list),
                "discovered": 0,
            }
        return companies[entity]

    for fact in facts:
        entry = company(fact.entity)
        entry["facts"][fact.kind].append(
            {
                "value": display_value(fact.kind, fact.value),
                "status": fact.status,
                "origin": "baseline" if fact.origin == "baseline" else "discovered",
                "first_seen": fact.first_seen_at,
                "dismissed": fact.dismissed_at is not None,
            }
        )
        if fact.origin != "baseline" and fact.dismissed_at is None:
            entry["discovered"] += 1
    for view in sorted(views, key=lambda v: (v.published or v.at, v.id)):
        company(view.entity)["changes"].append(change_context(view, names))
    ordered = sorted(companies.values(), key=lambda c: str(c["name"]).lower())
    for entry in ordered:
        entry["facts"] = {k: entry["facts"].get(k, []) for k in KINDS}
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["link"] = safe_link
    template = env.get_template("report.html.j2")
    return template.render(
        companies=ordered,
        generated=now,
        total_changes=len(views),
        dismissed=sum(1 for v in views if v.dismissed_at),
        kinds=KINDS,
    )
