"""`monitor check-config` and `monitor kinds`, in process and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

BAD = """\
sources:
  - name: qwen-blog
    kind: rss2
    url: https://qwenlm.github.io/blog/index.xml
  - name: nvidia
    kind: feed
    url: nvidianews.nvidia.com/releases.xml
    every: 1 hour
"""

GOOD = """\
sources:
  - name: openai-news
    kind: feed
    url: https://openai.com/news/rss.xml
  - name: hf-qwen
    kind: json
    preset: huggingface
    url: https://huggingface.co/api/models?author=Qwen
    every: 2h
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_check_config_summarises_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "sources: 2 (1 feed, 1 json); 1 enabled, 1 disabled" in result.stdout
    assert "languages: unspecified 2" in result.stdout
    lines = result.stdout.splitlines()
    feed_line = next(line for line in lines if "openai-news" in line)
    assert feed_line.split() == ["openai-news", "feed", "30m", "https://openai.com/news/rss.xml"]
    json_line = next(line for line in lines if "hf-qwen" in line)
    assert "2h" in json_line.split() and "(disabled)" in json_line
    assert "alert channels:" in result.stdout
    assert "watchlist:" in result.stdout
    assert "first pass of a source: quiet (no alerts); max age of an alerting item: 7d" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("alerts", "shown"),
    [
        (
            "quiet_first_pass: false\n  max_age: none",
            "first pass of a source: alerts; max age of an alerting item: none",
        ),
        ("max_age: 36h", "quiet (no alerts); max age of an alerting item: 36h"),
    ],
)
def test_check_config_shows_the_quiet_first_day_settings(
    tmp_path: Path, alerts: str, shown: str
) -> None:
    path = write(tmp_path, f"sources: []\nalerts:\n  {alerts}\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert shown in result.stdout


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ("max_age: soon", "alerts.max_age: bad duration 'soon' (allowed: a number with a unit"),
        ("max_age: -1d", "alerts.max_age: bad duration '-1d'"),
        ("quiet_first_pass: maybe", "alerts.quiet_first_pass:"),
    ],
)
def test_check_config_rejects_bad_quiet_first_day_settings(
    tmp_path: Path, alerts: str, message: str
) -> None:
    path = write(tmp_path, f"sources: []\nalerts:\n  {alerts}\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}:3: {message}"), result.stderr


def test_check_config_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"{path}:3: source 'qwen-blog': unknown kind 'rss2' (allowed: feed, html, json)",
        f"{path}:7: source 'nvidia': url: bad URL 'nvidianews.nvidia.com/releases.xml' "
        "(allowed: an absolute http:// or https:// URL)",
        f"{path}:8: source 'nvidia': every: bad interval '1 hour' "
        "(allowed: a number with a unit s, m, h, d or w, e.g. 90s, 15m, 2h, 1d)",
    ]
    assert result.stdout == ""


def test_check_config_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.yaml"), "check-config"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}: file not found"


def test_kinds_prints_each_kinds_help() -> None:
    result = CliRunner().invoke(cli, ["kinds"])
    assert result.exit_code == 0
    for kind in ("feed", "html", "json"):
        assert f"\n{kind}\n" in f"\n{result.stdout}"
    assert "preset: huggingface" in result.stdout
    assert "follow: true" in result.stdout
    one = CliRunner().invoke(cli, ["kinds", "json"])
    assert one.exit_code == 0 and "html" not in one.stdout.split("\n", 1)[0]
    bad = CliRunner().invoke(cli, ["kinds", "rss2"])
    assert bad.exit_code == 2 and "unknown kind 'rss2'" in bad.stderr


def monitor_command() -> list[str]:
    script = Path(sys.executable).parent / "monitor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


def test_check_config_subprocess_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    completed = subprocess.run(
        [*monitor_command(), "--config", str(path), "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}:") for line in lines)
    assert completed.stdout == ""


def test_check_config_subprocess_uses_monitor_config_env(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    env["MONITOR_CONFIG"] = str(path)
    completed = subprocess.run(
        [*monitor_command(), "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "openai-news" in completed.stdout


def test_check_config_hides_credentials_in_source_urls(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sources:
          - {name: private, kind: feed, url: "https://bob:S3cretPw@feeds.example/rss.xml"}
        """,
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "S3cretPw" not in result.output and "bob" not in result.output
    assert "https://***@feeds.example/rss.xml" in result.output  # masked, not dropped


def test_check_config_reports_broken_templates_and_unreadable_channel_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "change.text.j2").write_text("ok {{ value }}\n{{ broken", "utf-8")
    path = write(tmp_path, "sources: []\nalerts:\n  templates: tpl\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'tpl' / 'change.text.j2'}:2: template syntax error:" in result.output

    (tmp_path / "apprise.yml").write_bytes(b"urls:\n  - \xd8\xff\n")
    path = write(tmp_path, "sources: []\nalerts:\n  apprise_config: apprise.yml\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a UnicodeDecodeError
    assert "apprise.yml: not UTF-8 text" in result.output


def test_check_config_reports_every_stage_at_once_and_no_ok(tmp_path: Path) -> None:
    """A bad source, a bad route time zone, an unusable channel file and a broken template:
    all four reported in one run, nothing on stdout (no "OK" before an error)."""
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "change.text.j2").write_text("{% if %}", "utf-8")
    (tmp_path / "apprise.yml").write_text("urls:\n  - nosuchscheme://x/TOKEN\n", "utf-8")
    path = write(
        tmp_path,
        """\
        sources:
          - {name: a, kind: rss2, url: "https://a.test/feed"}
        alerts:
          apprise_config: apprise.yml
          templates: tpl
          routes:
            - {name: daily, mode: digest, timezone: Mars/Olympus}
        """,
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    errors = result.stderr
    assert "unknown kind 'rss2'" in errors
    assert "unknown time zone 'Mars/Olympus'" in errors
    assert "apprise.yml: unusable Apprise URL(s): #1 (nosuchscheme://...)" in errors
    assert "TOKEN" not in errors
    assert f"{tmp_path / 'tpl' / 'change.text.j2'}:1: template syntax error" in errors


def test_check_config_checks_channels_and_templates_of_a_file_with_bad_sources(
    tmp_path: Path,
) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "digest.text.j2").write_text("{{ broken", "utf-8")
    path = write(tmp_path, "sources:\n  - {name: a, kind: feed}\nalerts:\n  templates: tpl\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "missing required key 'url'" in result.stderr
    assert "digest.text.j2:1: template syntax error" in result.stderr
