"""Alerts config, channels, rendering, routing, a down channel, digests, source health."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import Engine, select

from monitor import tasks
from monitor.cli import cli
from monitor.errors import NotifyError
from monitor.extract.watchlist import default_watchlist
from monitor.notify.channels import describe_channels, load_channels
from monitor.notify.config import AlertsConfig
from monitor.notify.digest import last_scheduled
from monitor.notify.render import Renderer
from monitor.store.db import session_factory, transaction
from monitor.store.items import get_or_create_source
from monitor.store.models import DeliveryRow, SourceRow
from monitor.store.queries import ChangeView, EvidenceView
from monitor.views import change_context
from tests.httpserver import LocalServer, Reply, Request
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    apprise_file,
    item,
    json_channel,
    make_app,
    make_config,
    store,
)

T0 = datetime(2025, 3, 10, 12, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"routs": []}, "routs"),
        ({"retry": {"backoff": "soon"}}, "bad duration 'soon'"),
        ({"routes": [{"name": "x", "timezone": "Mars/Olympus"}]}, "unknown time zone"),
        ({"routes": [{"name": "x", "at": "25:00"}]}, "bad time '25:00'"),
        ({"routes": [{"name": "x", "kinds": ["country"]}]}, "region"),
        ({"routes": [{"name": "x"}, {"name": "x"}]}, "duplicate route name"),
        ({"routes": [{"name": "x", "mode": "weekly"}]}, "immediate"),
    ],
    ids=["unknown-key", "duration", "timezone", "time", "kind", "dupe-route", "mode"],
)
def test_alerts_config_rejects_with_a_clear_message(data: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        AlertsConfig.model_validate(data)
    assert message in str(info.value)


def test_alerts_config_defaults() -> None:
    cfg = AlertsConfig()
    assert [(r.name, r.mode, r.tags) for r in cfg.routes] == [("all", "immediate", None)]
    assert cfg.retry.max_attempts == 8 and cfg.retry.backoff == timedelta(seconds=30)
    assert cfg.source_down_after == timedelta(hours=6)
    assert cfg.with_base_dir(Path("/etc/monitor")).apprise_path == Path(
        "/etc/monitor/alerts/apprise.yml"
    )


def test_channels_are_masked_and_env_urls_added(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, apprise_file("  - json://user:s3cretpw@127.0.0.1:9/hook:\n      - tag: chat\n")
    )
    env = {
        "MONITOR_NOTIFY_URLS": "json://bob:t0ken42@127.0.0.1:9/a  mailto://127.0.0.1:9?to=a@b.test&from=c@d.test"
    }
    lines = describe_channels(config.alerts, env)
    assert len(lines) == 3
    text = "\n".join(lines)
    assert "s3cretpw" not in text and "t0ken42" not in text
    channels = load_channels(config.alerts, env)
    assert [sorted(c.tags) for c in channels] == [["chat"], ["env"], ["env"]]
    assert [c.format for c in channels] == ["text", "text", "html"]


def test_tokens_in_path_and_query_are_masked_too(tmp_path: Path) -> None:
    """Apprise's own privacy form leaves a webhook's path token, an ntfy topic and custom
    headers (``+Authorization=...``) in the clear."""
    config = make_config(tmp_path, apprise_file("  - ntfy://ntfy.sh/TopicS3cret\n"))
    env = {
        "MONITOR_NOTIFY_URLS": "json://127.0.0.1:9/hooks/PathT0ken?+Authorization=Bearer%20H3ader"
    }
    text = "\n".join(describe_channels(config.alerts, env))
    for secret in ("TopicS3cret", "PathT0ken", "H3ader", "Bearer"):
        assert secret not in text
    assert "ntfy://ntfy.sh/T...t" in text and "json://127.0.0.1:9/h...s/P...n" in text


def test_shipped_example_file_has_no_channels() -> None:
    root = Path(__file__).resolve().parent.parent
    alerts = AlertsConfig(apprise_config=str(root / "alerts" / "apprise.yml"))
    assert load_channels(alerts, {}) == []


def test_bad_urls_are_reported_without_their_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    env = {"MONITOR_NOTIFY_URLS": "json://127.0.0.1:9/ok slack://T0PSECRET/bad"}
    with pytest.raises(NotifyError, match=r"URL #2 \(slack://...\)") as info:
        load_channels(AlertsConfig(apprise_config=None), env)
    assert "T0PSECRET" not in str(info.value)
    path = tmp_path / "apprise.yml"
    path.write_text(
        apprise_file("  - json://127.0.0.1:9/ok\n", "  - slack://S3CRET/bad:\n      - tag: x\n")
    )
    with pytest.raises(NotifyError, match=r"#2 \(slack://...\)") as info:
        load_channels(AlertsConfig(apprise_config=str(path)), {})
    assert "S3CRET" not in str(info.value)
    assert "T0PSECRET" not in caplog.text and "S3CRET" not in caplog.text


def _view(kind: str, value: str, change: str, **extra: object) -> ChangeView:
    evidence = [
        EvidenceView(
            url="javascript:alert(1)",
            title="<img src=x onerror=alert(1)> *bold*",
            source="Wire",
            sentence="It said <script>x</script> [link](http://evil.test).",
            published=T0,
            lang="en",
            status="live",
        )
    ]
    return ChangeView(
        1,
        1,
        extra.get("entity", "alibaba"),
        kind,
        value,
        "live",
        change,
        T0,
        T0,  # type: ignore[arg-type]
        None,
        None,
        evidence,
    )


@pytest.mark.parametrize(
    ("entity", "kind", "value", "change", "title"),
    [
        ("alibaba", "region", "MX", "new", "Alibaba Cloud: new region Mexico (MX)"),
        ("deepseek", "model", "DeepSeek-R2", "live", "DeepSeek: model DeepSeek-R2 now live"),
        ("huawei", "chip", "Ascend 910C", "new", "Huawei Cloud: new chip Ascend 910C"),
        ("alibaba", "region", "SA", "live", "Alibaba Cloud: region Saudi Arabia (SA) now live"),
        ("zhipu", "model", "GLM-5", "new", "zhipu: new model GLM-5"),
    ],
)
def test_titles(entity: str, kind: str, value: str, change: str, title: str) -> None:
    msg = Renderer(None).render(
        "change",
        "text",
        change_context(_view(kind, value, change, entity=entity), default_watchlist()),
    )
    assert msg.title == title


def test_html_is_escaped_markdown_is_escaped_links_checked() -> None:
    ctx = change_context(_view("region", "MX", "new"), default_watchlist())
    html = Renderer(None).render("change", "html", ctx).body
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html
    assert "javascript:" not in html
    md = Renderer(None).render("change", "markdown", ctx).body
    assert "[link](http://evil.test)" not in md and r"\[link\]" in md
    assert "javascript:" not in md and "[Wire](#)" in md
    text = Renderer(None).render("change", "text", ctx).body
    assert "Reported by 1 source." in text


def test_operator_templates_override_and_strict_undefined(tmp_path: Path) -> None:
    (tmp_path / "change.title.j2").write_text("ALERT {{ entity_name }} {{ value }}")
    ctx = change_context(_view("region", "MX", "new"), default_watchlist())
    msg = Renderer(tmp_path).render("change", "html", ctx)
    assert msg.title == "ALERT Alibaba Cloud MX"
    assert "Mexico (MX)" in msg.body  # the body still comes from the shipped default
    (tmp_path / "change.title.j2").write_text("{{ entity_nmae }}")
    with pytest.raises(NotifyError, match="entity_nmae"):
        Renderer(tmp_path).render("change", "text", ctx)
    (tmp_path / "change.title.j2").write_text("{{ sources / 0 }}")
    with pytest.raises(NotifyError, match="ZeroDivisionError"):  # a row failed, not a crash
        Renderer(tmp_path).render("change", "text", ctx)


def test_a_down_channel_does_not_hold_back_another(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/down", Reply(status=503))
    http_server.route("/up", Reply(status=200))
    config = make_config(
        tmp_path,
        apprise_file(
            json_channel(http_server.url("/down"), "a"), json_channel(http_server.url("/up"), "b")
        ),
        retry={"max_attempts": 2, "backoff": "1m"},
    )
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item(
                "Alibaba plans Mexico region",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            ),
            item(
                "Alibaba plans Riyadh region",
                url="https://a.test/2",
                published="2025-03-02T00:00:00",
            ),
        ],
    )
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=T0)
    report = tasks.deliver_due(app, now=T0)
    assert report.sent == 2 and report.retrying == 1
    assert len(http_server.hits("/up")) == 2
    assert len(http_server.hits("/down")) == 1  # skipped for the rest of the pass
    for minutes in range(1, 6):  # the down channel's rows run out of attempts
        assert tasks.deliver_due(app, now=T0 + timedelta(minutes=minutes)).sent == 0
    assert len(http_server.hits("/down")) == 4  # 2 rows x max_attempts, no more
    assert len(http_server.hits("/up")) == 2
    with sessions() as s:
        states = sorted((r.channel, r.state, r.attempts) for r in s.scalars(select(DeliveryRow)))
    assert [st for _, st, _ in states].count("sent") == 2
    assert [st for _, st, _ in states].count("failed") == 2

    runner = CliRunner()
    db = fresh_db.url.render_as_string(hide_password=False)
    (tmp_path / "sources.yaml").write_text(
        f"sources: []\nalerts:\n  apprise_config: {tmp_path / 'apprise.yml'}\n", encoding="utf-8"
    )
    base = ["--config", str(tmp_path / "sources.yaml"), "--db", db]
    status = runner.invoke(cli, [*base, "status", "--json"])
    assert status.exit_code == 0, status.output
    alerts = json.loads(status.output)["alerts"]
    assert alerts["outbox"] == {"sent": 2, "failed": 2}
    assert sorted(c["url"] for c in alerts["channels"]) == [
        http_server.url(p).replace("http://", "json://") for p in ("/d...n", "/up")
    ]
    assert [f["channel"] for f in alerts["failed"]] == [
        http_server.url("/d...n").replace("http://", "json://")  # the path masked
    ] * 2
    assert "Alert outbox" in runner.invoke(cli, [*base, "status"]).output
    http_server.route("/down", Reply(status=200))
    result = runner.invoke(
        cli, ["--config", str(tmp_path / "sources.yaml"), "--db", db, "notify", "--retry-failed"]
    )
    assert result.exit_code == 0, result.output
    assert "re-queued 2 failed" in result.output
    assert "alerts: 2 sent" in result.output
    assert len(http_server.hits("/down")) == 6
    assert "outbox: 4 sent" in result.output


def test_digest_collects_a_day_into_one_message_at_its_time(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/mail", Reply(status=200))
    http_server.route("/chat", Reply(status=200))
    config = make_config(
        tmp_path,
        apprise_file(
            json_channel(http_server.url("/mail"), "email"),
            json_channel(http_server.url("/chat"), "chat"),
        ),
        routes=[
            {"name": "models-to-chat", "kinds": ["model"], "tags": ["chat"]},
            {
                "name": "daily",
                "tags": ["email"],
                "mode": "digest",
                "at": "08:00",
                "timezone": "Europe/Paris",
            },
        ],
    )
    sessions = session_factory(fresh_db)
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    day = datetime(2025, 3, 10)  # Paris is UTC+1 in March before DST: 08:00 local = 07:00 UTC
    texts = [
        "Alibaba plans Mexico region",
        "Alibaba plans Riyadh region",
        "Alibaba released Qwen3 today",
    ]
    for n, title in enumerate(texts):
        store(
            sessions, [item(title, url=f"https://a.test/{n}", published=f"2025-03-09T1{n}:00:00")]
        )
        tasks.process_pending(app, now=day - timedelta(hours=10 - n))
    # the model went to chat at once; nothing to e-mail yet
    assert tasks.deliver_due(app, now=day - timedelta(hours=7)).sent == 1
    assert len(http_server.hits("/chat")) == 1
    assert tasks.deliver_due(app, now=day + timedelta(hours=6, minutes=59)).sent == 0
    assert http_server.hits("/mail") == []
    # 08:00 Paris: one message with all three changes
    assert tasks.deliver_due(app, now=day + timedelta(hours=7)).sent == 1
    (digest,) = http_server.hits("/mail")
    body = digest.body.decode()
    assert "3 changes" in body
    for text in ("Mexico (MX)", "Saudi Arabia (SA)", "Qwen3"):
        assert text in body
    assert tasks.deliver_due(app, now=day + timedelta(hours=7, minutes=5)).sent == 0
    # a change after 08:00 waits for the next day's digest
    store(
        sessions,
        [
            item(
                "Huawei Ascend 910C planned",
                url="https://a.test/9",
                published="2025-03-10T09:00:00",
            )
        ],
    )
    tasks.process_pending(app, now=day + timedelta(hours=9))
    assert tasks.deliver_due(app, now=day + timedelta(hours=20)).sent == 0
    assert tasks.deliver_due(app, now=day + timedelta(days=1, hours=7)).sent == 1
    assert "Ascend 910C" in http_server.hits("/mail")[1].body.decode()
    assert len(http_server.hits("/mail")) == 2


def test_last_scheduled_uses_the_route_time_zone() -> None:
    route = AlertsConfig.model_validate(
        {"routes": [{"name": "d", "mode": "digest", "at": "08:00", "timezone": "Asia/Shanghai"}]}
    ).routes[0]
    assert last_scheduled(route, datetime(2025, 3, 10, 0, 30)) == datetime(2025, 3, 10, 0, 0)
    assert last_scheduled(route, datetime(2025, 3, 9, 23, 59)) == datetime(2025, 3, 9, 0, 0)


@pytest.mark.parametrize(
    ("zone", "at", "start"),
    [
        ("Europe/Paris", "02:30", datetime(2026, 10, 23)),  # fall back: 02:30 happens twice
        ("Europe/Paris", "02:30", datetime(2026, 3, 27)),  # spring forward: 02:30 never does
        ("America/New_York", "01:30", datetime(2026, 10, 30)),
        ("Australia/Lord_Howe", "02:00", datetime(2026, 4, 2)),  # a half-hour shift
    ],
)
def test_digest_schedule_is_once_a_day_across_dst(zone: str, at: str, start: datetime) -> None:
    route = AlertsConfig.model_validate(
        {"routes": [{"name": "d", "mode": "digest", "at": at, "timezone": zone}]}
    ).routes[0]
    moments = []
    now = start
    while now < start + timedelta(days=4):
        moment = last_scheduled(route, now)
        assert moment <= now
        assert not moments or moment >= moments[-1], f"went back a day at {now} UTC"
        if not moments or moment > moments[-1]:
            moments.append(moment)
        now += timedelta(minutes=5)
    gaps = [(b - a) / timedelta(hours=1) for a, b in pairwise(moments)]
    assert len(moments) == 5 and all(22 <= g <= 26 for g in gaps), (moments, gaps)


def test_source_down_then_recovered_alerts_once_each(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/hook", Reply(status=200))
    config = make_config(
        tmp_path, apprise_file(json_channel(http_server.url("/hook"))), source_down_after="6h"
    )
    sessions = session_factory(fresh_db)
    app = make_app(fresh_db, config)
    with transaction(sessions) as s:
        src = get_or_create_source(s, "qwen-blog", "feed", "https://qwen.test/feed")
        src.failing_since, src.consecutive_failures, src.last_error = T0, 5, "HTTP 502"
    assert tasks.deliver_due(app, now=T0 + timedelta(hours=5)).sent == 0
    assert tasks.deliver_due(app, now=T0 + timedelta(hours=6)).sent == 1
    assert tasks.deliver_due(app, now=T0 + timedelta(hours=9)).sent == 0
    body = http_server.hits("/hook")[0].body.decode()
    assert "qwen-blog" in body and "is down" in body and "HTTP 502" in body
    with transaction(sessions) as s:
        row = s.scalars(select(SourceRow)).one()
        row.failing_since, row.consecutive_failures = None, 0
    assert tasks.deliver_due(app, now=T0 + timedelta(hours=10)).sent == 1
    assert tasks.deliver_due(app, now=T0 + timedelta(hours=11)).sent == 0
    assert "has recovered" in http_server.hits("/hook")[1].body.decode()


def test_notify_test_reports_each_channel_masked(
    tmp_path: Path, http_server: LocalServer, db_url: str
) -> None:
    http_server.route("/ok", Reply(status=200))
    http_server.route("/bad", Reply(status=500))
    ok = http_server.url("/ok").replace("http://", "json://user:pa55word@")
    bad = http_server.url("/bad").replace("http://", "json://")
    (tmp_path / "apprise.yml").write_text(
        apprise_file(f"  - {ok}:\n      - tag: a\n", f"  - {bad}:\n      - tag: b\n")
    )
    # a relative apprise_config is read from the config file's folder, not the CWD
    (tmp_path / "sources.yaml").write_text("sources: []\nalerts:\n  apprise_config: apprise.yml\n")
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "sources.yaml"), "--db", db_url, "notify", "--test"]
    )
    assert result.exit_code == 1
    assert "pa55word" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("accepted: json://user:****@127.0.0.1")
    assert lines[1].startswith("NOT accepted: json://127.0.0.1")
    assert len(http_server.hits("/ok")) == 1 and b"test message" in http_server.hits("/ok")[0].body


def test_a_hanging_channel_does_not_delay_another(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    import threading

    other_reached = threading.Event()

    def slow(req: Request) -> Reply:
        # Answers 200 only if the other channel got its alert while this one was in flight.
        return Reply(status=200 if other_reached.wait(timeout=5) else 500)

    def fast(req: Request) -> Reply:
        other_reached.set()
        return Reply(status=200)

    http_server.route("/slow", slow)
    http_server.route("/fast", fast)
    config = make_config(
        tmp_path,
        apprise_file(  # the slow channel comes first, so its row is first in the outbox
            json_channel(http_server.url("/slow?rto=30"), "a"),
            json_channel(http_server.url("/fast"), "b"),
        ),
    )
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item(
                "Alibaba plans Mexico region",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            )
        ],
    )
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=T0)
    assert tasks.deliver_due(app, now=T0).sent == 2


WAIT_FOR_CHANNELS = 5.0


def test_a_stalled_channel_does_not_hold_back_the_next_pass(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    """The daemon's pass stops waiting for a channel that stalls; the next pass sends the
    other channel's new alert and leaves the stalled one alone until it is done."""
    import threading

    release = threading.Event()

    def stalled(req: Request) -> Reply:
        release.wait(timeout=60)
        return Reply(status=200)

    http_server.route("/stalled", stalled)
    http_server.route("/fast", Reply(status=200))
    config = make_config(
        tmp_path,
        apprise_file(
            json_channel(http_server.url("/stalled?rto=90"), "a"),
            json_channel(http_server.url("/fast"), "b"),
        ),
    )
    sessions = session_factory(fresh_db)
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    try:
        store(
            sessions,
            [
                item(
                    "Alibaba plans Mexico region",
                    url="https://a.test/1",
                    published="2025-03-01T00:00:00",
                )
            ],
        )
        tasks.process_pending(app, now=T0)
        # `wait` bounds how long a pass waits for its channels: long enough for the fast
        # channel on a loaded machine, far shorter than the stalled one's 60 s
        first = tasks.deliver_due(app, now=T0, wait=WAIT_FOR_CHANNELS)
        assert first.sent == 1 and len(first.busy_channels) == 1  # /fast done, /stalled not
        store(
            sessions,
            [
                item(
                    "Alibaba plans Riyadh region",
                    url="https://a.test/2",
                    published="2025-03-02T00:00:00",
                )
            ],
        )
        tasks.process_pending(app, now=T0)
        second = tasks.deliver_due(app, now=T0 + timedelta(minutes=1), wait=WAIT_FOR_CHANNELS)
        assert second.sent == 1  # the fast channel's second alert went out
        assert second.busy_channels == first.busy_channels  # the stalled one was skipped
        assert len(http_server.hits("/stalled")) == 1  # no second message sent alongside
    finally:
        release.set()
    for _ in range(200):  # the stalled worker finishes by itself once answered
        if not app.busy_channels:
            break
        threading.Event().wait(0.05)
    with sessions() as s:
        states = sorted(r.state for r in s.scalars(select(DeliveryRow)))
    assert states == ["pending", "sent", "sent", "sent"]
    assert tasks.deliver_due(app, now=T0 + timedelta(minutes=2)).sent == 1
