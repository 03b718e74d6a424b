"""Every command has help, and the README documents it with an example (sqlite-utils' rule)."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import ROOT

COMMANDS = sorted(cli.commands)
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_product_has_its_commands() -> None:
    expected = {"init", "check-config", "once", "run", "status", "try", "extract", "eval"}
    expected |= {"changes", "show", "dismiss", "report", "ingest", "notify", "kinds"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_documents_command_with_example(name: str) -> None:
    assert f"### `monitor {name}" in README, f"README has no section for monitor {name}"
    assert re.search(rf"^\$? ?monitor .*\b{re.escape(name)}\b", README, re.M), (
        f"README has no example line running monitor {name}"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_documents_every_option(name: str) -> None:
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            if longest in ("--help",):
                continue
            assert longest in README, f"README does not mention {longest} of monitor {name}"


def test_readme_documents_environment_variables() -> None:
    for var in ("MONITOR_CONFIG", "MONITOR_DB_URL", "MONITOR_NOTIFY_URLS"):
        assert var in README
