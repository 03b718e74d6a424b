"""Commands: ``check-config`` (validate sources.yaml, print a summary) and ``kinds``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from monitor.cli.main import EXIT_CONFIG, AppContext, cli, fail
from monitor.conftypes import format_interval
from monitor.errors import NotifyError


@cli.command("check-config")
@click.pass_obj
def check_config(app: AppContext) -> None:
    """Validate the configuration and print a summary.

    Every problem is reported at once, one line each as FILE:LINE: message; the exit
    status is then 2. Alert channel URLs are shown masked.
    """
    from monitor.fetch import safe_url
    from monitor.notify.channels import describe_channels

    config = app.config  # ConfigError -> the group prints the lines and exits 2
    by_kind = Counter(source.kind for source in config.sources)
    enabled = len(config.enabled_sources)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items()))
    click.echo(f"{app.config_path}: OK")
    click.echo(
        f"sources: {len(config.sources)} ({summary or 'none'}); "
        f"{enabled} enabled, {len(config.sources) - enabled} disabled"
    )
    languages = Counter(source.lang or "unspecified" for source in config.sources)
    click.echo("languages: " + ", ".join(f"{lang} {n}" for lang, n in sorted(languages.items())))
    width = max((len(source.name) for source in config.sources), default=0)
    for source in config.sources:
        every = format_interval(source.effective(config.defaults).every)
        flag = "" if source.enabled else "  (disabled)"
        url = safe_url(str(source.url))  # no user:password@ on screen
        click.echo(f"  {source.name:<{width}}  {source.kind:<4}  {every:>4}  {url}{flag}")
    click.echo(f"watchlist: {len(config.watchlist.companies)} companies")
    try:
        channels = describe_channels(config)
    except NotifyError as exc:  # an unusable channel file is a configuration problem too
        fail(f"{app.config_path}: alerts: {exc}", EXIT_CONFIG)
    click.echo(f"alert channels: {len(channels)}")
    for channel in channels:
        click.echo(f"  {channel}")
    _check_templates(config)


def _check_templates(config: Any) -> None:
    from monitor.notify.channels import alerts_of
    from monitor.notify.render import Renderer

    problems = Renderer(alerts_of(config).templates_path).check()
    if problems:
        fail("\n".join(problems), EXIT_CONFIG)


@cli.command("kinds")
@click.argument("kind", required=False)
def list_kinds(kind: str | None) -> None:
    """Describe the source kinds and their keys in sources.yaml (or just KIND)."""
    from monitor.sources import kinds

    registry = kinds()
    if kind is not None and kind not in registry:
        raise click.UsageError(f"unknown kind {kind!r} (allowed: {', '.join(registry)})")
    names = [kind] if kind else list(registry)
    for index, name in enumerate(names):
        if index:
            click.echo()
        cls = registry[name]
        click.echo(click.style(name, bold=True))
        click.echo(_indent(cls.help()))
        keys = ", ".join(sorted(cls.config_model.model_fields))
        click.echo(_indent(f"Keys: {keys}"))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())
