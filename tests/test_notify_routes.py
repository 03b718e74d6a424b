"""Routing: which channels get which change, immediately or as a digest."""

from __future__ import annotations

from pathlib import Path

from monitor.notify.channels import Channel, load_channels
from monitor.notify.config import AlertsConfig
from monitor.notify.routes import health_channels, plan

CHAT = Channel("ch-chat", frozenset({"chat"}), "markdown", "chat://****", None)
MAIL = Channel("ch-mail", frozenset({"email"}), "html", "mailto://****", None)
BOTH = [CHAT, MAIL]


def _routes(*routes: dict) -> AlertsConfig:
    return AlertsConfig.model_validate({"routes": list(routes), "health_tags": ["email"]})


def _plan(cfg: AlertsConfig, entity: str, kind: str, change: str) -> list[tuple[str, str, str]]:
    return sorted(
        (t.route.name, t.channel.id, t.state) for t in plan(cfg, BOTH, entity, kind, change)
    )


def test_default_route_sends_everything_everywhere_immediately() -> None:
    assert _plan(AlertsConfig(), "alibaba", "region", "new") == [
        ("all", "ch-chat", "pending"),
        ("all", "ch-mail", "pending"),
    ]


def test_models_to_chat_everything_to_a_mail_digest() -> None:
    cfg = _routes(
        {"name": "models", "kinds": ["model"], "tags": ["chat"]},
        {"name": "deepseek-live", "entities": ["deepseek"], "changes": ["live"], "tags": ["chat"]},
        {"name": "daily", "tags": ["email"], "mode": "digest"},
    )
    assert _plan(cfg, "alibaba", "model", "new") == [
        ("daily", "ch-mail", "queued"),
        ("models", "ch-chat", "pending"),
    ]
    assert _plan(cfg, "alibaba", "region", "new") == [("daily", "ch-mail", "queued")]
    # two immediate routes reach the chat: it gets the change once, from the first route
    assert _plan(cfg, "deepseek", "model", "live") == [
        ("daily", "ch-mail", "queued"),
        ("models", "ch-chat", "pending"),
    ]
    assert _plan(cfg, "deepseek", "region", "live") == [
        ("daily", "ch-mail", "queued"),
        ("deepseek-live", "ch-chat", "pending"),
    ]
    assert [c.id for c in health_channels(cfg, BOTH)] == ["ch-mail"]


def test_same_url_in_file_and_env_is_one_channel(tmp_path: Path) -> None:
    url = "json://127.0.0.1:9/hook"
    path = tmp_path / "apprise.yml"
    path.write_text(f"version: 1\nurls:\n  - {url}:\n      - tag: chat\n", encoding="utf-8")
    (channel,) = load_channels(AlertsConfig(apprise_config=str(path)), {"MONITOR_NOTIFY_URLS": url})
    assert channel.tags == {"chat", "env"}


def test_shipped_operator_templates_match_the_packaged_defaults() -> None:
    root = Path(__file__).resolve().parent.parent
    operator = {p.name: p.read_text() for p in (root / "alerts" / "templates").glob("*.j2")}
    packaged = {
        p.name: p.read_text() for p in (root / "monitor" / "templates" / "alerts").glob("*.j2")
    }
    assert operator == packaged
    assert {"change.title.j2", "change.text.j2", "change.markdown.j2", "change.html.j2"} <= set(
        packaged
    )
