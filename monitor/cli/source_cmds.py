"""Commands: ``check-config`` (validate sources.yaml, print a summary) and ``kinds``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.app import App
from monitor.cli.main import EXIT_CONFIG, cli, fail
from monitor.conftypes import format_interval
from monitor.errors import ConfigError, NotifyError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.notify.config import AlertsConfig


@cli.command("check-config")
@click.pass_obj
def check_config(app: App) -> None:
    """Validate the configuration and print a summary.

    Every stage is checked before anything is printed: sources.yaml (sources, watchlist,
    alert routes and their time zones), the alert channels, the alert templates. Every
    problem of every stage is reported at once, one line each as FILE:LINE: message, on
    stderr, and the exit status is then 2 (with no summary). Alert channel URLs are shown
    masked.

    \b
    Example:
      monitor --config sources.yaml check-config
    """
    from monitor.config import load_config

    problems: list[str] = []
    config: Config | None = None
    try:
        config = load_config(app.config_path)
    except ConfigError as exc:
        problems += exc.problems
    alerts = config.alerts if config is not None else _alerts_section(app.config_path)
    channels: list[str] = []
    if alerts is not None:
        channels, alert_problems = _check_alerts(app, alerts)
        problems += alert_problems
    if problems or config is None:
        fail("\n".join(problems), EXIT_CONFIG)
    _print_summary(app, config, channels)


def _alerts_section(path: Path) -> AlertsConfig | None:
    """The channel file and templates paths of a file that failed to validate as a whole,
    so that those are checked too; None when the paths are themselves invalid (their
    problems are among the file's) or the file cannot be read at all."""
    from pydantic import ValidationError

    from monitor.notify.config import AlertsConfig
    from monitor.yamlconf import YamlSyntaxError, load_yaml_with_lines

    try:
        data = load_yaml_with_lines(path.read_text(encoding="utf-8")).data
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return None
    section = data.get("alerts") if isinstance(data, dict) else None
    section = section if isinstance(section, dict) else {}
    # only the two paths matter here: a bad route elsewhere must not hide a bad template
    paths = {key: section[key] for key in ("apprise_config", "templates") if key in section}
    try:
        alerts = AlertsConfig.model_validate(paths)
    except ValidationError:
        return None
    return alerts.with_base_dir(path.resolve().parent)


def _check_alerts(app: App, alerts: AlertsConfig) -> tuple[list[str], list[str]]:
    """(one line per channel, problems) for the channel file and the templates."""
    from monitor.notify.channels import describe_channels
    from monitor.notify.render import Renderer

    channels: list[str] = []
    problems: list[str] = []
    try:
        channels = describe_channels(alerts)
    except NotifyError as exc:  # an unusable channel file is a configuration problem too
        problems.append(f"{app.config_path}: alerts: {exc}")
    problems += Renderer(alerts.templates_path).check()
    return channels, problems


def _print_summary(app: App, config: Config, channels: list[str]) -> None:
    from monitor.fetch import safe_url

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
    private = ", ".join(config.defaults.allow_private_hosts) or "none"
    click.echo(f"internal addresses allowed besides each source's own origin: {private}")
    click.echo(f"watchlist: {len(config.watchlist.companies)} companies")
    click.echo(f"alert channels: {len(channels)}")
    for channel in channels:
        click.echo(f"  {channel}")
    alerts = config.alerts
    max_age = format_interval(alerts.max_age) if alerts.max_age is not None else "none"
    click.echo(
        f"first pass of a source: {'quiet (no alerts)' if alerts.quiet_first_pass else 'alerts'}; "
        f"max age of an alerting item: {max_age}"
    )


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
