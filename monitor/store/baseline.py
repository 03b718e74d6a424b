"""Loading the seed facts (storage/baseline.yaml) into the facts table."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from monitor.changes import STATUS_RANK
from monitor.errors import ConfigError
from monitor.store.db import utcnow
from monitor.store.facts import add_fact, fact_rows
from monitor.store.models import ENTITY_LENGTH, VALUE_LENGTH
from monitor.types import FACT_KINDS, Fact


def read_baseline(path: Path) -> list[Fact]:
    """Parse a baseline file (`facts:` list of {entity, kind, value, status})."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read baseline: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}{line}: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("facts", []), list):
        raise ConfigError([f"{path}: expected a mapping with a `facts:` list"])
    facts: list[Fact] = []
    problems: list[str] = []
    for n, raw in enumerate(data.get("facts") or [], start=1):
        if not isinstance(raw, dict):
            problems.append(f"{path}: fact #{n}: expected a mapping, got {raw!r}")
            continue
        entity, kind = str(raw.get("entity", "")), str(raw.get("kind", ""))
        value, status = str(raw.get("value", "")), str(raw.get("status", "live"))
        if not entity or not value:
            problems.append(f"{path}: fact #{n}: entity and value are required")
        elif len(value) > VALUE_LENGTH:
            problems.append(f"{path}: fact #{n}: value longer than {VALUE_LENGTH} characters")
        elif len(entity) > ENTITY_LENGTH:
            problems.append(f"{path}: fact #{n}: entity longer than {ENTITY_LENGTH} characters")
        elif kind not in FACT_KINDS:
            problems.append(
                f"{path}: fact #{n}: unknown kind {kind!r} (allowed: {', '.join(FACT_KINDS)})"
            )
        elif status not in STATUS_RANK:
            problems.append(
                f"{path}: fact #{n}: unknown status {status!r} (allowed: live, planned)"
            )
        else:
            facts.append(Fact(entity=entity, kind=kind, value=value, status=status))
    if problems:
        raise ConfigError(problems)
    return facts


def load_baseline(session: Session, facts: list[Fact]) -> tuple[int, int]:
    """Insert baseline facts not yet known; upgrade planned -> live. Idempotent.

    Returns (added, upgraded).
    """
    added = upgraded = 0
    now = utcnow()
    rows = fact_rows(session, [fact.key for fact in facts])
    for fact in facts:
        row = rows.get(fact.key)
        if row is None:  # a triple listed twice: the second sees the row the first added
            rows[fact.key] = add_fact(session, fact, "baseline", now)
            added += 1
        elif STATUS_RANK[fact.status] > STATUS_RANK.get(row.status, 0):
            row.status = fact.status
            upgraded += 1
    return added, upgraded
