"""Command-line interface. Importing the command modules registers their commands."""

from monitor.cli import (
    changes_cmds,
    daemon_cmds,
    doctor_cmds,
    extract_cmds,
    review_cmds,
    source_cmds,
    store_cmds,
    web_cmds,
    worker_cmds,
)
from monitor.cli.main import cli, main

__all__ = [
    "changes_cmds",
    "cli",
    "daemon_cmds",
    "doctor_cmds",
    "extract_cmds",
    "main",
    "review_cmds",
    "source_cmds",
    "store_cmds",
    "web_cmds",
    "worker_cmds",
]
