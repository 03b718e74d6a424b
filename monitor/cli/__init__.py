"""Command-line interface: the ``cli`` group; each command's module is imported when that
command runs (see ``monitor.cli.registry``)."""

from monitor.cli.main import cli, main

__all__ = ["cli", "main"]
