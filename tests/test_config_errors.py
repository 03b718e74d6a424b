"""Bad sources.yaml files: each mistake reported as one file:line with the source name,
the bad value and what is allowed; all of them at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


# (yaml, expected line, pieces the message must contain)
BAD_CASES = [
    pytest.param(
        """\
        sources:
          - name: ok
            kind: feed
            url: https://example.com/a
          - name: qwen-blog
            kind: rss2
            url: https://qwenlm.github.io/blog/index.xml
        """,
        6,
        ["source 'qwen-blog'", "unknown kind 'rss2'", "(allowed: feed, html, json)"],
        id="unknown-kind",
    ),
    pytest.param(
        """\
        sources:
          - name: no-kind
            url: https://example.com/a
        """,
        2,
        ["source 'no-kind'", "missing key 'kind'", "allowed: feed, html, json"],
        id="missing-kind",
    ),
    pytest.param(
        """\
        sources:
          - name: ftp
            kind: feed
            url: ftp://example.com/feed.xml
        """,
        4,
        ["source 'ftp'", "url", "'ftp://example.com/feed.xml'", "http:// or https://"],
        id="bad-url-scheme",
    ),
    pytest.param(
        """\
        sources:
          - name: relative
            kind: feed
            url: /feed.xml
        """,
        4,
        ["source 'relative'", "bad URL '/feed.xml'"],
        id="relative-url",
    ),
    pytest.param(
        """\
        sources:
          - name: fast
            kind: feed
            url: https://example.com/a
            every: 10s
        """,
        5,
        ["source 'fast'", "every", "'10s'", "minimum: 1m"],
        id="interval-too-short",
    ),
    pytest.param(
        """\
        sources:
          - name: weird
            kind: feed
            url: https://example.com/a
            every: 15 minutes
        """,
        5,
        ["source 'weird'", "every", "bad interval '15 minutes'", "15m, 2h, 1d"],
        id="interval-unparseable",
    ),
    pytest.param(
        """\
        defaults:
          every: soon
        """,
        2,
        ["defaults.every", "bad interval 'soon'"],
        id="defaults-interval",
    ),
    pytest.param(
        """\
        defaults:
          max_body: 5 parsecs
        """,
        2,
        ["defaults.max_body", "bad size '5 parsecs'", "5MiB"],
        id="bad-size",
    ),
    pytest.param(
        """\
        defaults:
          every: 1h
          evry: 2h
        """,
        3,
        ["defaults", "unknown key 'evry'", "every", "max_body", "user_agent"],
        id="unknown-defaults-key",
    ),
    pytest.param(
        """\
        sources:
          - name: typo
            kind: feed
            url: https://example.com/a
            langauge: fr
        """,
        5,
        ["source 'typo'", "unknown key 'langauge'", "lang", "every"],
        id="unknown-source-key",
    ),
    pytest.param(
        """\
        sources:
          - name: html-typo
            kind: html
            url: https://example.com/a
            item: li
            folow: true
        """,
        6,
        ["source 'html-typo'", "unknown key 'folow'", "follow", "item", "summary"],
        id="unknown-html-key-lists-html-keys",
    ),
    pytest.param(
        """\
        sourcse:
          - name: a
        """,
        1,
        ["unknown key 'sourcse'", "sources", "defaults"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        """\
        sources: []
        watchlst:
        """,
        2,
        ["unknown key 'watchlst'", "watchlist"],
        id="unknown-empty-top-level-key",
    ),
    pytest.param(
        """\
        sources:
          - name: a
            kind: feed
            url: https://example.com/a
          - name: b
            kind: feed
            url: https://example.com/b
          - name: a
            kind: feed
            url: https://example.com/c
        """,
        8,
        ["source 'a'", "duplicate name", "first at line 2"],
        id="duplicate-name",
    ),
    pytest.param(
        """\
        sources:
          - name: german
            kind: feed
            url: https://example.com/a
            lang: de
        """,
        5,
        ["source 'german'", "lang", "'de'", "'en', 'fr', 'zh' or 'zh-Hant'"],
        id="bad-lang",
    ),
    pytest.param(
        """\
        sources:
          - name: listing
            kind: html
            url: https://example.com/a
            item: "div[["
        """,
        5,
        ["source 'listing'", "item", "bad CSS selector 'div[['"],
        id="bad-css-selector",
    ),
    pytest.param(
        """\
        sources:
          - name: listing
            kind: html
            url: https://example.com/a
        """,
        2,
        ["source 'listing'", "missing required key 'item'"],
        id="html-missing-item",
    ),
    pytest.param(
        """\
        sources:
          - name: api
            kind: json
            url: https://example.com/api
        """,
        2,
        ["source 'api'", "needs 'preset'", "huggingface, github-releases", "'title'"],
        id="json-without-mapping",
    ),
    pytest.param(
        """\
        sources:
          - name: api
            kind: json
            url: https://example.com/api
            preset: gitlab
        """,
        5,
        ["source 'api'", "preset", "'gitlab'", "'huggingface' or 'github-releases'"],
        id="json-unknown-preset",
    ),
    pytest.param(
        """\
        sources:
          - name: api
            kind: json
            url: https://example.com/api
            items: data..items
            fields: {title: name}
        """,
        5,
        ["source 'api'", "items", "bad JSON path 'data..items'"],
        id="json-bad-path",
    ),
    pytest.param(
        """\
        sources:
          - kind: feed
            url: https://example.com/a
        """,
        2,
        ["source #1", "missing required key 'name'"],
        id="missing-name",
    ),
    pytest.param(
        """\
        sources:
          - name: "has space"
            kind: feed
            url: https://example.com/a
        """,
        2,
        ["name", "bad name 'has space'", "letters, digits"],
        id="bad-name",
    ),
    pytest.param(
        """\
        sources:
          - name: a
            kind: feed
            url: https://example.com/a
            read_timeout: -3
        """,
        5,
        ["source 'a'", "read_timeout", "greater than 0", "'-3'"],
        id="negative-timeout",
    ),
    pytest.param(
        """\
        sources:
          name: a
          kind: feed
        """,
        2,
        ["sources", "expected a list"],
        id="sources-not-a-list",
    ),
    pytest.param(
        """\
        sources:
          - https://example.com/feed.xml
        """,
        2,
        ["source #1", "expected a mapping"],
        id="source-not-a-mapping",
    ),
    pytest.param(
        """\
        sources:
          - name: a
            kind: feed
            url: https://example.com/a
            url: https://example.com/b
        """,
        5,
        ["duplicate key 'url'", "first at line 4"],
        id="duplicate-yaml-key",
    ),
    pytest.param(
        """\
        sources:
          - name: a
            kind: feed
           url: https://example.com/a
        """,
        4,
        ["invalid YAML"],
        id="invalid-yaml",
    ),
    pytest.param(
        """\
        sources:
          - name: smuggler
            kind: feed
            url: https://example.com/a
            headers:
              X-Token: "abc\\r\\nHost: evil.example"
        """,
        6,
        ["source 'smuggler'", "headers", "bad value for header 'X-Token'", "no control"],
        id="header-injection",
    ),
    pytest.param(
        """\
        defaults:
          user_agent: "monitor\\nX-Evil: 1"
        """,
        2,
        ["defaults.user_agent", "bad value for header 'User-Agent'"],
        id="user-agent-injection",
    ),
    pytest.param(
        """\
        sources:
          - name: spaces
            kind: feed
            url: https://example.com/a
            headers: {"Bad Name": x}
        """,
        5,
        ["source 'spaces'", "bad header name 'Bad Name'"],
        id="bad-header-name",
    ),
    pytest.param(
        """\
        - just
        - a list
        """,
        1,
        ["expected a mapping", "'sources:'"],
        id="top-level-not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "line", "pieces"), BAD_CASES)
def test_bad_config_reports_file_line_and_details(
    tmp_path: Path, text: str, line: int, pieces: list[str]
) -> None:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.startswith(f"{tmp_path / 'sources.yaml'}:{line}: "), problem
    for piece in pieces:
        assert piece in problem, (piece, problem)
    assert "\n" not in problem


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """\
        defaults:
          every: 5s
        sources:
          - name: one
            kind: rss2
            url: https://example.com/a
          - name: two
            kind: feed
            url: gopher://example.com/b
            colour: blue
          - name: one
            kind: json
            url: https://example.com/c
            preset: huggingface
        """,
    )
    lines = [int(problem.split(":")[1]) for problem in problems]
    assert lines == [2, 5, 9, 10, 11], problems
    assert "unknown kind 'rss2'" in problems[1]
    assert "duplicate name" in problems[4]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert caught.value.problems == [f"{tmp_path / 'absent.yaml'}: file not found"]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_nested_positions_are_written_as_indexes() -> None:
    from monitor.config import _dotted

    assert _dotted(("alerts", "routes", 0, "kinds", 1)) == "alerts.routes[0].kinds[1]"
    assert _dotted(("defaults", "every")) == "defaults.every"
    assert _dotted(()) == ""
