"""Every command has help, the docs document it with an example (sqlite-utils' rule), and the
generated command reference (docs/commands.md) matches the CLI's help."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.cli.docgen import render
from tests.conftest import ROOT

COMMANDS = sorted(cli.list_commands(click.Context(cli)))
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = DOCS / "commands.md"
USAGE = (DOCS / "usage.md").read_text(encoding="utf-8")
# What people wrote: every doc except the generated reference (which mentions every option by
# construction, so it cannot prove that an option is explained anywhere).
WRITTEN = "\n".join(
    path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")) if path != REFERENCE
)
README_MAX_BYTES = 9_000  # "at most about 8 KB": the reference belongs in docs/


def test_the_product_has_its_commands() -> None:
    expected = {"init", "check-config", "once", "run", "status", "try", "extract", "eval"}
    expected |= {"changes", "show", "dismiss", "report", "ingest", "notify", "kinds"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.help and len(command.help.strip()) > 20


def test_command_reference_is_generated_from_the_current_help() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(cli), (
        "docs/commands.md differs from the CLI's help: run `make docs` and commit docs/commands.md"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_command_reference_has_the_command(name: str) -> None:
    assert f"## `monitor {name}`" in REFERENCE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", COMMANDS)
def test_usage_documents_command_with_example(name: str) -> None:
    assert re.search(rf"^#+ `monitor {re.escape(name)}\b", USAGE, re.M), (
        f"docs/usage.md has no section for monitor {name}"
    )
    assert re.search(rf"^\$? ?monitor .*\b{re.escape(name)}\b", USAGE, re.M), (
        f"docs/usage.md has no example line running monitor {name}"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_docs_explain_every_option(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    for param in command.params:
        if isinstance(param, click.Option):
            longest = max(param.opts, key=len)
            if longest in ("--help",):
                continue
            assert longest in WRITTEN, f"docs/ do not mention {longest} of monitor {name}"


def test_docs_explain_environment_variables() -> None:
    for var in ("MONITOR_CONFIG", "MONITOR_DB_URL", "MONITOR_NOTIFY_URLS"):
        assert var in WRITTEN


def test_readme_stays_short_and_points_to_every_doc() -> None:
    size = len(README.encode("utf-8"))
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes (at most {README_MAX_BYTES}): move reference text to docs/"
    )
    for path in sorted(DOCS.glob("*.md")):
        assert f"(docs/{path.name})" in README, f"README does not link docs/{path.name}"


@pytest.mark.parametrize(
    "path", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name
)
def test_relative_links_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:\s]+\.md)(?:#[^)]*)?\)", text):
        assert (path.parent / target).is_file(), f"{path.name} links {target}, which is missing"
