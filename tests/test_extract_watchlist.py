"""The watchlist: YAML-only additions, merge with the defaults, validation messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from monitor.cli import cli
from monitor.extract import Extractor, Watchlist, default_watchlist
from monitor.types import Item

BAIDU_YAML = """
watchlist:
  companies:
    baidu:
      name: Baidu AI Cloud
      aliases:
        en: [Baidu, Baidu AI Cloud]
        zh: [百度, 百度智能云]
      models:
        - family: ERNIE
          names: [ERNIE, 文心]
          separator: " "
          version: '\\d+(?:\\.\\d+)*'
          editions: [Turbo, X1]
          edition_separator: " "
      chips:
        - family: Kunlun
          names: [Kunlun, 昆仑芯]
          separator: " "
          version: 'P\\d+'
"""

ITEM = {
    "id": "b-1",
    "title": "Baidu AI Cloud opens a data centre in Malaysia",
    "text": "Baidu released ERNIE 4.5 Turbo, served on Kunlun P800 chips.",
}


def _facts(config: Path | None, tmp_path: Path) -> set[tuple[str, str, str, str]]:
    path = config or tmp_path / "absent.yaml"
    result = CliRunner().invoke(
        cli, ["--config", str(path), "extract", "-"], input=json.dumps(ITEM) + "\n"
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)["facts"]
    return {(f["entity"], f["kind"], f["value"], f["status"]) for f in facts}


def test_company_added_in_yaml_gives_facts_without_code_change(tmp_path: Path) -> None:
    assert _facts(None, tmp_path) == set()  # the default watchlist has no Baidu
    config = tmp_path / "sources.yaml"
    config.write_text(BAIDU_YAML, encoding="utf-8")
    assert _facts(config, tmp_path) == {
        ("baidu", "region", "MY", "live"),
        ("baidu", "model", "ERNIE 4.5 Turbo", "live"),
        ("baidu", "chip", "Kunlun P800", "live"),
    }


def test_user_section_extends_defaults_and_replaces_same_id() -> None:
    data = yaml.safe_load(BAIDU_YAML)["watchlist"]
    data["companies"]["nvidia"] = {"name": "Nvidia Corp", "aliases": ["Nvidia"]}
    watchlist = Watchlist.model_validate(data)
    assert {"alibaba", "deepseek", "baidu", "nvidia"} <= set(watchlist.companies)
    assert watchlist.display_name("nvidia") == "Nvidia Corp"
    assert watchlist.companies["nvidia"].chips == []  # replaced, not merged
    facts = Extractor(watchlist).extract(Item(title="Nvidia ships H20 chips to China"))
    assert facts == []  # the user's nvidia has no chip families


def test_include_defaults_false_starts_empty() -> None:
    data = yaml.safe_load(BAIDU_YAML)["watchlist"]
    data["include_defaults"] = False
    assert list(Watchlist.model_validate(data).companies) == ["baidu"]


def test_display_names() -> None:
    watchlist = default_watchlist()
    assert watchlist.display_name("alibaba") == "Alibaba Cloud"
    assert watchlist.display_name("deepseek") == "DeepSeek"
    assert watchlist.display_name("nvidia") == "NVIDIA"
    assert watchlist.display_name("unknown-co") == "unknown-co"
    assert set(watchlist.companies) == {
        "alibaba",
        "huawei",
        "tencent",
        "nvidia",
        "deepseek",
        "openai",
        "anthropic",
    }


@pytest.mark.parametrize(
    ("company", "message"),
    [
        ({"name": "X", "nickname": "y"}, "Extra inputs are not permitted"),
        ({"name": "X", "aliases": {"de": ["X"]}}, "unknown alias language(s) de"),
        (
            {"name": "X", "models": [{"family": "F", "names": ["F"], "version": "(\\d"}]},
            "not a valid regular expression",
        ),
        ({"name": "X", "models": [{"family": "F", "names": ["F"]}]}, "needs 'version'"),
    ],
    ids=["unknown-key", "unknown-language", "bad-regex", "family-without-version"],
)
def test_bad_entries_are_rejected(company: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Watchlist.model_validate({"companies": {"x": company}})
    assert message in str(info.value)


def test_bad_watchlist_in_sources_yaml_gives_file_line(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "watchlist:\n  companies:\n    baidu:\n      name: Baidu\n      nickname: B\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "extract", "-"], input="")
    assert result.exit_code == 2
    assert f"{config}:" in result.stderr
    assert "nickname" in result.stderr
