"""load_config: valid files, and every kind of mistake reported as file:line with the
source name, the bad value and what is allowed."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import Config, UnknownSource, load_config
from monitor.sources import FeedSource, HtmlSource, JsonSource

GOOD = """\
defaults:
  every: 15m
  max_body: 512KiB
sources:
  - name: openai-news
    kind: feed
    url: https://openai.com/news/rss.xml
  - name: deepseek-news
    kind: html
    url: https://api-docs.deepseek.com/news/news250120
    item: 'a.menu__link[href*="/news/"]'
    follow: true
    every: 2h
    read_timeout: 5
    headers: {Accept-Language: en}
  - name: hf-qwen
    kind: json
    preset: huggingface
    url: https://huggingface.co/api/models?author=Qwen&sort=createdAt&direction=-1&limit=50
    lang: en
    enabled: false
"""


def write(tmp_path: Path, text: str, name: str = "sources.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_config_loads_with_kinds_defaults_and_overrides(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.config_path == tmp_path / "sources.yaml"
    feed, html, json_source = config.sources
    assert isinstance(feed, FeedSource)
    assert isinstance(html, HtmlSource) and html.follow is True
    assert isinstance(json_source, JsonSource) and json_source.preset == "huggingface"
    assert [s.name for s in config.enabled_sources] == ["openai-news", "deepseek-news"]

    feed_settings = config.settings("openai-news")
    assert feed_settings.every == timedelta(minutes=15)  # from defaults
    assert feed_settings.max_body == 512 * 1024
    assert feed_settings.read_timeout == 30  # built-in default
    html_settings = html.effective(config.defaults)
    assert html_settings.every == timedelta(hours=2)  # its own
    assert html_settings.read_timeout == 5
    assert html_settings.headers == {"Accept-Language": "en"}
    assert config.source("hf-qwen") is json_source


def test_unknown_source_lookup_names_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(UnknownSource, match=r"no source named 'nope'.*openai-news"):
        config.source("nope")


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.sources == []
    assert config.defaults.every == timedelta(minutes=30)
    assert config.defaults.max_body == 5 * 1024 * 1024


def test_empty_sections_mean_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "defaults:\nsources:\n  # none yet\n"))
    assert config.sources == []
    assert config.defaults.retries == 2


def test_config_built_in_code_has_no_path() -> None:
    assert Config().config_path is None


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            sources:
              - &base
                name: a
                kind: feed
                url: https://example.com/a
                every: 2h
              - <<: *base
                name: b
                url: https://example.com/b
            """,
        )
    )
    assert [(s.name, s.every) for s in config.sources] == [
        ("a", timedelta(hours=2)),
        ("b", timedelta(hours=2)),
    ]


def test_alert_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    elsewhere = tmp_path / "etc" / "monitor"
    elsewhere.mkdir(parents=True)
    config = load_config(write(elsewhere, "sources: []\n"))
    assert config.alerts.base_dir == elsewhere.resolve()
    assert config.alerts.apprise_path == elsewhere.resolve() / "alerts" / "apprise.yml"
    assert config.alerts.templates_path == elsewhere.resolve() / "alerts" / "templates"


def test_config_can_be_built_in_code_from_source_models() -> None:
    feed = FeedSource(name="f", kind="feed", url="https://example.com/feed")
    api = JsonSource(name="j", kind="json", url="https://example.com/api", preset="huggingface")
    config = Config(sources=[feed, api])
    assert config.source("j") is api
    assert config.settings("f").every == timedelta(minutes=30)
