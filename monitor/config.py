"""sources.yaml: pydantic models and ``load_config``, which reports every problem at once.

Each problem is one line naming the file, the line, the source, the bad value and what is
allowed, e.g. ``sources.yaml:14: source 'qwen-blog': unknown kind 'rss2' (allowed: feed,
html, json)``. The source list is a union discriminated on ``kind`` and built from the
kind registry (``monitor.sources``), so a new kind needs no change here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import Field, PrivateAttr, ValidationError

from monitor.conftypes import format_interval, show_value
from monitor.errors import ConfigError
from monitor.extract.watchlist import Watchlist, default_watchlist
from monitor.notify.config import AlertsConfig
from monitor.retention import RetentionConfig
from monitor.sources.base import Defaults, SourceConfig, SourceSettings, StrictModel, kinds
from monitor.yamlconf import LineMap, YamlSyntaxError, load_yaml_with_lines

__all__ = [
    "Config",
    "ConfigError",
    "Defaults",
    "SourceConfig",
    "SourceSettings",
    "UnknownSource",
    "format_interval",
    "load_config",
]


def _source_union() -> Any:
    models = tuple(kind.config_model for kind in kinds().values())
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007


if TYPE_CHECKING:
    AnySource = SourceConfig
else:
    AnySource = _source_union()


class UnknownSource(ConfigError):
    """A command named a source the configuration does not have."""


class Config(StrictModel):
    """The whole of sources.yaml."""

    defaults: Defaults = Field(default_factory=Defaults)
    sources: list[AnySource] = Field(default_factory=list)
    watchlist: Watchlist = Field(default_factory=default_watchlist)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    _path: Path | None = PrivateAttr(default=None)

    @property
    def config_path(self) -> Path | None:
        """The file this configuration was read from (None when built in code)."""
        return self._path

    @property
    def enabled_sources(self) -> list[SourceConfig]:
        return [source for source in self.sources if source.enabled]

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(source.name for source in self.sources) or "none"
        raise UnknownSource([f"no source named {name!r} in the configuration (known: {known})"])

    def settings(self, source: SourceConfig | str) -> SourceSettings:
        """A source's effective fetch settings (its overrides over ``defaults``)."""
        if isinstance(source, str):
            source = self.source(source)
        return source.effective(self.defaults)


def load_config(path: Path | str) -> Config:
    """Read and validate a configuration file; ConfigError lists every problem found."""
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: is a directory, expected a YAML file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{label}: not UTF-8 text ({exc.reason})"]) from None
    except OSError as exc:
        raise ConfigError([f"{label}: cannot read ({exc.strerror or exc})"]) from None
    config = parse_config(text, label)
    # the alerts section's relative paths (channel file, templates) start at this file
    config.alerts = config.alerts.with_base_dir(path.resolve().parent)
    config._path = path
    return config


def parse_config(text: str, label: str = "sources.yaml") -> Config:
    """Validate configuration text; ``label`` names the file in messages."""
    try:
        loaded = load_yaml_with_lines(text)
    except YamlSyntaxError as exc:
        raise ConfigError([f"{label}:{exc.line}: invalid YAML: {exc.message}"]) from None
    data = loaded.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{label}:1: expected a mapping with 'defaults:' and 'sources:' at the top level"]
        )
    # `sources:` with nothing under it yet (only comments) means "none", not an error
    data = {
        key: value
        for key, value in data.items()
        if value is not None or key not in Config.model_fields  # typos still reported
    }
    problems: list[tuple[int, str]] = [
        (line, f"{label}:{line}: duplicate key '{key}' (first at line {first})")
        for line, key, first in loaded.duplicate_keys
    ]
    problems += _duplicate_names(data, loaded.lines, label)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.append(_describe_error(error, data, loaded.lines, label))
        config = None
    if problems:
        problems.sort(key=lambda problem: problem[0])
        raise ConfigError(_unique(message for _, message in problems))
    assert config is not None
    return config


def _duplicate_names(data: dict[str, Any], lines: LineMap, label: str) -> list[tuple[int, str]]:
    sources = data.get("sources")
    if not isinstance(sources, list):
        return []
    first: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(sources):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        line = lines.line(("sources", index, "name"))
        if name in first:
            problems.append(
                (
                    line,
                    f"{label}:{line}: source {name!r}: duplicate name "
                    f"(first at line {first[name]}; names must be unique)",
                )
            )
        else:
            first[name] = line
    return problems


def _describe_error(
    error: Any, data: dict[str, Any], lines: LineMap, label: str
) -> tuple[int, str]:
    """One pydantic error as (line, 'file:line: source 'x': field: message')."""
    loc: tuple[str | int, ...] = tuple(error["loc"])
    path = _data_path(data, loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    who, field_path = _who(data, path)
    field = _dotted(field_path)
    allowed_kinds = ", ".join(kinds())
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        line = lines.key_line((*path, "kind"))
        if kind == "union_tag_invalid":
            message = f"unknown kind '{ctx.get('tag')}' (allowed: {allowed_kinds})"
        else:
            message = f"missing key 'kind' (allowed: {allowed_kinds})"
    elif kind == "extra_forbidden":
        line = lines.key_line(path)
        allowed = _allowed_keys(loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        message = f"unknown key '{loc[-1]}'{hint}"
        field = _dotted(field_path[:-1])
    elif kind == "missing":
        line = lines.line(path)
        message = f"missing required key '{loc[-1]}'"
        field = _dotted(field_path[:-1])
    elif kind == "literal_error":
        line = lines.line(path)
        message = f"bad value '{show_value(error.get('input'))}' (allowed: {ctx.get('expected')})"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        line = lines.line(path)
        message = f"expected a mapping of keys, got {_type_name(error.get('input'))}"
    elif kind == "list_type":
        line = lines.line(path)
        message = f"expected a list, got {_type_name(error.get('input'))}"
    elif error["msg"] and kind in _OWN_MESSAGES:
        line = lines.line(path)
        message = error["msg"]
    else:
        line = lines.line(path)
        text = str(error["msg"])
        text = text.removeprefix("Value error, ")
        message = f"{text[:1].lower()}{text[1:]} (got '{show_value(error.get('input'))}')"
    prefix = f"{label}:{line}: {who}"
    return line, f"{prefix}{field + ': ' if field else ''}{message}"


_OWN_MESSAGES = {
    "interval",
    "interval_too_short",
    "byte_size",
    "http_url",
    "css_selector",
    "json_path",
    "json_template",
    "json_mapping",
    "source_name",
    "http_header",
}


def _dotted(path: tuple[str | int, ...]) -> str:
    """('routes', 0, 'kinds') -> 'routes[0].kinds', as a user would point at it."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """pydantic's loc minus the steps that are not in the data (discriminator tags)."""
    path: list[str | int] = []
    current = data
    for step in loc:
        if isinstance(current, dict):
            if step in current:
                path.append(step)
                current = current[step]
                continue
            if step == current.get("kind"):
                continue  # the union's tag, not a key the user wrote
        elif isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current):
            path.append(step)
            current = current[step]
            continue
        path.append(step)
        current = None
    return tuple(path)


def _who(data: dict[str, Any], path: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """("source 'x': ", rest of the path) for paths inside one source, else ("", path)."""
    if len(path) >= 2 and path[0] == "sources" and isinstance(path[1], int):
        sources = data.get("sources")
        entry = sources[path[1]] if isinstance(sources, list) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:
            return f"source {name!r}: ", path[2:]
        return f"source #{path[1] + 1}: ", path[2:]
    return "", path


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model at ``loc`` accepts (walking Config's annotations)."""
    from pydantic import BaseModel

    current: Any = Config
    for step in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(step) if isinstance(step, str) else None
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is list and isinstance(step, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is Union and isinstance(step, str) and step in kinds():
            current = kinds()[step].config_model
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(field.alias or name for name, field in current.model_fields.items())
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        args = get_args(annotation)
        if get_origin(annotation) is Union and type(None) in args:
            rest = [arg for arg in args if arg is not type(None)]
            if len(rest) == 1:
                annotation = rest[0]
                continue
        return annotation


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    names = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list"}
    return names.get(type(value), type(value).__name__)


def _unique(messages: Any) -> list[str]:
    seen: dict[str, None] = {}
    for message in messages:
        seen.setdefault(message, None)
    return list(seen)
