"""monitor.yamlconf reads with libyaml when it can: the same data, lines and duplicate
keys as the pure-Python parser, and a syntax error worded by the pure-Python parser."""

from __future__ import annotations

import pytest
import yaml

from monitor.yamlconf import _FAST_LOADER, YamlSyntaxError, _load, load_yaml_with_lines
from tests.conftest import ROOT

TEXTS = [
    pytest.param((ROOT / "sources.yaml").read_text(encoding="utf-8"), id="shipped"),
    pytest.param(
        "base: &b {every: 1h, lang: en}\nsources:\n  - <<: *b\n    name: a\n"
        "    name: again\n  - [1, 2, {x: 'é'}]\nempty:\nwhen: 2026-11-30\n",
        id="anchors-merges-duplicates",
    ),
    pytest.param("", id="empty"),
]


@pytest.mark.skipif(_FAST_LOADER is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("text", TEXTS)
def test_libyaml_reads_as_the_pure_python_parser(text: str) -> None:
    fast, slow = _load(_FAST_LOADER, text), _load(yaml.SafeLoader, text)
    assert (fast.data, fast.lines, fast.duplicate_keys) == (
        slow.data,
        slow.lines,
        slow.duplicate_keys,
    )
    assert load_yaml_with_lines(text) == slow


@pytest.mark.parametrize(
    "text", ["sources: [\n", "a: b: c\n", "a:\n\t- x\n", "- a\nb: c\n", "a: 1\n---\nb: 2\n"]
)
def test_a_syntax_error_is_worded_by_the_pure_python_parser(text: str) -> None:
    with pytest.raises(YamlSyntaxError) as slow:
        _load(yaml.SafeLoader, text)
    with pytest.raises(YamlSyntaxError) as got:
        load_yaml_with_lines(text)
    assert (got.value.line, got.value.message) == (slow.value.line, slow.value.message)
