"""What `monitor status` reads of sources.yaml (monitor.configview): the same sources as the
full validation, the same file:line errors when a key it reads is wrong, and no refusal
over a key it does not read."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import Config, load_config
from monitor.configview import (
    KINDS,
    QUIET_AFTER,
    SOURCE_NAME,
    TOP_KEYS,
    _light_view,
    _plain_mapping,
    read_config_view,
    view_of,
)
from monitor.errors import ConfigError
from monitor.notify.config import AlertsConfig
from monitor.sources.base import _NAME, kinds
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_what_it_restates_is_what_the_full_validation_says() -> None:
    assert set(Config.model_fields) == TOP_KEYS
    assert set(kinds()) == KINDS
    assert SOURCE_NAME.pattern == _NAME.pattern
    assert AlertsConfig().source_quiet_after == QUIET_AFTER


GOOD = [
    pytest.param((ROOT / "sources.yaml").read_text(encoding="utf-8"), id="shipped"),
    pytest.param("", id="empty"),
    pytest.param("sources:\nalerts:\n", id="sections-with-nothing"),
    pytest.param(
        """\
        defaults: {every: 1h}
        sources:
          - {name: a, kind: feed, url: 'https://a.test/', quiet_after: 30d}
          - {name: b.2, kind: json, url: 'https://b.test/', enabled: false, preset: huggingface}
          - {name: c_3, kind: feed, url: 'https://c.test/', quiet_after: none}
          - {name: d, kind: feed, url: 'https://d.test/', quiet_after: 3600}
        alerts:
          source_quiet_after: 2w
        """,
        id="quiet-after",
    ),
    pytest.param(
        """\
        sources:
          - {name: a, kind: feed, url: 'https://a.test/'}
        alerts:
          source_quiet_after: none
        """,
        id="never-quiet",
    ),
]


@pytest.mark.parametrize("text", GOOD)
def test_a_good_file_is_read_lightly_as_the_full_validation_reads_it(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, text)
    data = _plain_mapping(path.read_text(encoding="utf-8"))
    assert data is not None and _light_view(data, path) is not None, "took the full path"
    light, full = read_config_view(path), view_of(load_config(path))
    assert light.sources == full.sources
    assert light.alerts() == full.alerts()
    assert light.alerts().apprise_path == full.alerts().apprise_path


def test_quiet_after_is_the_sources_own_else_the_alerts_default(tmp_path: Path) -> None:
    path = write(tmp_path, str(GOOD[3].values[0]))
    view = read_config_view(path)
    assert [(s.name, s.enabled, s.quiet_after) for s in view.sources] == [
        ("a", True, timedelta(days=30)),
        ("b.2", False, timedelta(weeks=2)),
        ("c_3", True, None),
        ("d", True, timedelta(hours=1)),
    ]


BAD_IN_WHAT_STATUS_READS = [
    "sources:\n  - {name: a, kind: rss2, url: 'https://a.test/'}\n",
    "sources:\n  - {name: 'a b', kind: feed, url: 'https://a.test/'}\n",
    "sources:\n  - {kind: feed, url: 'https://a.test/'}\n",
    "sources:\n  - {name: a, kind: feed, url: 'https://a.test/'}\n"
    "  - {name: a, kind: feed, url: 'https://b.test/'}\n",
    "sources:\n  - {name: a, kind: feed, url: 'https://a.test/', enabled: maybe}\n",
    "sources:\n  - {name: a, kind: feed, url: 'https://a.test/', quiet_after: 5x}\n",
    "sources:\n  - {name: a, kind: feed, url: 'https://a.test/', quiet_after: 10s}\n",
    "sources:\n  - a\n",
    "sources: {a: 1}\n",
    "alerts:\n  source_quiet_after: -1\n",
    "alerts: [1]\n",
    "source:\n  - {name: a, kind: feed, url: 'https://a.test/'}\n",
    "sources: [\n",
    "sources: []\nsources: []\n",
    "- a\n",
]


@pytest.mark.parametrize("text", BAD_IN_WHAT_STATUS_READS)
def test_a_mistake_in_what_status_reads_is_reported_as_the_full_validation_does(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as full:
        load_config(path)
    with pytest.raises(ConfigError) as light:
        read_config_view(path)
    assert light.value.problems == full.value.problems


def test_a_missing_file_is_reported_as_the_full_validation_does(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as full:
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError) as light:
        read_config_view(tmp_path / "nope.yaml")
    assert light.value.problems == full.value.problems


def test_a_bad_alerts_section_is_reported_when_the_channels_are_wanted(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  routes:\n    - {name: r, timezone: Mars/Olympus}\n")
    view = read_config_view(path)  # the sources and quiet_after are fine
    with pytest.raises(ConfigError) as full:
        load_config(path)
    with pytest.raises(ConfigError) as light:
        view.alerts()
    assert light.value.problems == full.value.problems


BAD_ELSEWHERE = """\
sources:
  - name: listing
    kind: html
    url: https://a.test/
    item: 'a[href'
watchlist:
  companies:
    Not An Id: {}
"""


def test_status_answers_over_a_mistake_in_a_key_it_does_not_read(
    tmp_path: Path, db_url: str
) -> None:
    """A bad CSS selector and a bad watchlist: `once` and `check-config` refuse the file,
    `status` (which shows neither) still answers."""
    path = write(tmp_path, BAD_ELSEWHERE)
    runner = CliRunner()
    checked = runner.invoke(cli, ["--config", str(path), "check-config"])
    assert checked.exit_code == 2 and "CSS selector" in checked.output
    status = runner.invoke(cli, ["--config", str(path), "--db", db_url, "status"])
    assert status.exit_code == 0, status.output
    assert "listing" in status.output and "html" in status.output
