"""YAML loading that remembers where every value was written.

``load_yaml_with_lines`` returns the plain data (as ``yaml.safe_load`` would) plus a
``LineMap`` from data paths such as ``("sources", 3, "url")`` to 1-based line numbers, so
config errors can say ``sources.yaml:14: ...``. Duplicate mapping keys, which PyYAML
silently collapses to the last one, are reported as problems here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class LineMap:
    """Line numbers of values (and of mapping keys) by their path in the loaded data."""

    values: dict[Path_, int] = field(default_factory=dict)
    keys: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The line of the deepest prefix of ``path`` that was in the file (1 if none)."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.values:
                return self.values[prefix]
        return 1

    def key_line(self, path: Path_) -> int:
        """The line where the key ending ``path`` was written (falls back to ``line``)."""
        return self.keys.get(path) or self.line(path)


@dataclass
class LoadedYaml:
    data: Any
    lines: LineMap
    duplicate_keys: list[tuple[int, str, int]]  # (line, key, first line)


class YamlSyntaxError(Exception):
    """The text is not YAML; ``line`` is 1-based, ``message`` is PyYAML's problem text."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


# libyaml's parser, when PyYAML was built with it: a tenth of the pure-Python parser's time
# (0.01 s for a file of 500 sources, against 0.1 s), which `monitor status` and every pass
# pay on start-up.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def load_yaml_with_lines(text: str) -> LoadedYaml:
    if _FAST_LOADER is not None:
        try:
            return _load(_FAST_LOADER, text)
        except YamlSyntaxError:
            pass  # the pure-Python parser words the problem as users have always read it
    return _load(yaml.SafeLoader, text)


def _load(loader_class: type[yaml.SafeLoader], text: str) -> LoadedYaml:
    loader = loader_class(text)
    lines = LineMap()
    duplicates: list[tuple[int, str, int]] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            # walk before constructing: construction flattens `<<` merges into the node
            _walk(node, (), lines, duplicates, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(line, problem) from None
    except yaml.YAMLError as exc:  # unmarked errors (rare): report at line 1
        raise YamlSyntaxError(1, str(exc).splitlines()[0]) from None
    finally:
        loader.dispose()
    return LoadedYaml(data=data, lines=lines, duplicate_keys=duplicates)


def _walk(
    node: yaml.Node,
    path: Path_,
    lines: LineMap,
    duplicates: list[tuple[int, str, int]],
    seen: set[int],
) -> None:
    lines.values.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:  # an alias to an anchor already walked; YAML allows cycles
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue  # `<<: *anchor` merges; the merged keys keep their anchor's lines
            key = key_node.value
            key_line = key_node.start_mark.line + 1
            if key in first_seen:
                duplicates.append((key_line, key, first_seen[key]))
            else:
                first_seen[key] = key_line
            lines.keys.setdefault((*path, key), key_line)
            _walk(value_node, (*path, key), lines, duplicates, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), lines, duplicates, seen)
