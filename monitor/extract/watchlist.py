"""The watchlist: tracked companies, their aliases, model families and chip families.

It is the ``watchlist:`` section of sources.yaml (docs/configuration.md). The packaged
``monitor/data/watchlist.yaml`` holds the defaults; a user section extends them (a
company id that already exists is replaced), unless it sets ``include_defaults: false``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGS = ("en", "fr", "zh", "zh-Hant")
ENTITY_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


class Family(BaseModel):
    """A model or chip family: how its names are written and how a value is composed.

    A mention is ``<name><separator?><version>`` followed by optional editions, e.g.
    ``Qwen`` + ``2.5`` + ``Max``. ``bare`` matches a version written without the family
    name (``R2``, ``910C``, ``H20``), only in items that name the company, one of its
    products or a model of its own written in full (unless ``context: false``).
    ``alone: true`` lets the family name on its own be a value (chips such as ``Ascend``
    when no model number is given).
    """

    model_config = ConfigDict(extra="forbid")

    family: str = Field(description="canonical family prefix, e.g. 'Qwen', 'Ascend'")
    names: list[str] = Field(default_factory=list, description="surface forms of the family")
    separator: str = Field(" ", description="written between family and version in values")
    version: str | None = Field(None, description="regular expression of a version")
    bare: str | None = Field(None, description="regex of a version written without the name")
    editions: list[str] = Field(default_factory=list, description="edition words kept")
    edition_separator: str = "-"
    alone: bool = False
    keep_size: bool = False
    edition_alone: bool = False
    rewrites: list[tuple[str, str]] = Field(
        default_factory=list,
        description="[regex, replacement] applied to a value, e.g. to the developer's order",
    )
    exclude: list[str] = Field(
        default_factory=list, description="look-alike names that are not this family"
    )
    case_sensitive: bool = False
    context: bool = True

    @field_validator("version", "bare")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from None
            if compiled.groups:
                raise ValueError(f"use (?:...) instead of capturing groups: {value!r}")
        return value

    @field_validator("rewrites")
    @classmethod
    def _valid_rewrites(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for pattern, _replacement in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc}): {pattern!r}") from None
        return value

    @model_validator(mode="after")
    def _matchable(self) -> Family:
        if not self.names and not self.bare:
            raise ValueError(f"family {self.family!r} needs 'names' or 'bare'")
        if self.names and not (self.version or self.alone or self.editions):
            raise ValueError(f"family {self.family!r} needs 'version', 'editions' or 'alone'")
        return self


class Company(BaseModel):
    """One tracked company (a watchlist id such as ``alibaba``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="display name used in alerts, e.g. 'Alibaba Cloud'")
    aliases: dict[str, list[str]] | list[str] = Field(
        default_factory=list, description="per language (en, fr, zh, zh-Hant) or a flat list"
    )
    products: list[str] = Field(
        default_factory=list,
        description="apps and tools (not facts) that tie a short model name to the company",
    )
    models: list[Family] = Field(default_factory=list)
    chips: list[Family] = Field(default_factory=list)

    @field_validator("aliases")
    @classmethod
    def _known_langs(
        cls, value: dict[str, list[str]] | list[str]
    ) -> dict[str, list[str]] | list[str]:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(LANGS))
            if unknown:
                raise ValueError(
                    f"unknown alias language(s) {', '.join(unknown)}; allowed: {', '.join(LANGS)}"
                )
        return value

    def all_aliases(self) -> list[str]:
        """Every alias in every language, plus the display name, without duplicates."""
        names = [self.name]
        if isinstance(self.aliases, dict):
            for lang in self.aliases:
                names.extend(self.aliases[lang])
        else:
            names.extend(self.aliases)
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))


class Watchlist(BaseModel):
    """The ``watchlist:`` section of sources.yaml."""

    model_config = ConfigDict(extra="forbid")

    include_defaults: bool = Field(
        True, description="extend the packaged defaults (a same id replaces the default company)"
    )
    companies: dict[str, Company] = Field(default_factory=dict)
    region_linker: bool = Field(
        default=True,
        description="add the regions the learned linker finds beyond the hand rules "
        "(false: the rules alone, fewer region facts and fewer wrong ones)",
    )

    @field_validator("companies")
    @classmethod
    def _ids(cls, value: dict[str, Company]) -> dict[str, Company]:
        for entity_id in value:
            if not ENTITY_ID.match(entity_id):
                raise ValueError(
                    f"company id {entity_id!r} must be lower-case letters, digits, '-' or '_'"
                )
        return value

    @model_validator(mode="after")
    def _merge_defaults(self) -> Watchlist:
        if self.include_defaults:
            merged = dict(_packaged_companies())
            merged.update(self.companies)
            self.companies = merged
            self.include_defaults = False  # merged once; re-validation must not merge again
        return self

    def display_name(self, entity_id: str) -> str:
        """Human name for alerts ("Alibaba Cloud"); the id itself for unknown ids."""
        company = self.companies.get(entity_id)
        return company.name if company else entity_id


def _load_packaged() -> dict[str, Any]:
    text = resources.files("monitor").joinpath("data/watchlist.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("monitor/data/watchlist.yaml is not a mapping")
    return data


@lru_cache(maxsize=1)
def _packaged_companies() -> dict[str, Company]:
    data = _load_packaged()
    data["include_defaults"] = False
    return dict(Watchlist.model_validate(data).companies)


def default_watchlist() -> Watchlist:
    """The packaged watchlist of the seven companies of the mission."""
    return Watchlist(include_defaults=False, companies=dict(_packaged_companies()))
