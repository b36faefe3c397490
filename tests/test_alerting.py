"""Alert rules in the lease holder: what fires, once, and reaches a real webhook on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.sources.server import Reply, Server
from tui import delivery
from tui.alert_config import AlertRule, ChannelConfig, OnCall
from tui.alerting import Alerter, Evaluation, replay
from tui.channels import BACKOFF_MAX
from tui.config import Config, ConfigError, SourceConfig, load_config
from tui.core.format import delivery_line
from tui.core.model import IncomingMention, Score, utcnow
from tui.delivery import Deliverer
from tui.store import Store
from tui.store.rollups import COLLECTOR, HOUR_MS, hour_of

NEG = Score(-0.7, "negative", ())
NEU = Score(0.0, "neutral", ())


def config(*rules: AlertRule, channels: tuple[ChannelConfig, ...] = ()) -> Config:
    return Config(brand_terms=("acme",), on_call=OnCall(rules=rules, channels=channels))


async def add(store: Store, at: datetime, n: int, score: Score = NEG, source: str = "feed",
              text: str = "the app is broken again") -> list[int]:  # fmt: skip
    key = f"{source}-{at.timestamp()}"
    mentions = [
        IncomingMention(source, f"{key}-{i}", f"{text} {i}", "ann", None, at + timedelta(seconds=i))
        for i in range(n)
    ]
    return await store.add_mentions(mentions, [score] * n)


async def cover(store: Store, start_hour: int, end_hour: int, skip: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """The collector's record of the hours it ran (what ``acquire_lease`` writes live)."""

    async def body(db):  # type: ignore[no-untyped-def]
        await db.executemany(
            "INSERT INTO coverage(source, hour, ok) VALUES (?, ?, 1) ON CONFLICT DO NOTHING",
            [(COLLECTOR, h) for h in range(start_hour, end_hour + 1) if h not in skip],
        )

    await store._transaction(body)


# -- negative and reach ----------------------------------------------------------------------


async def test_each_new_negative_alerts_once_and_old_history_does_not(store: Store) -> None:
    rule = AlertRule("negatives", "negative")
    alerter = Alerter(config(rule), store, print)
    now = utcnow()
    await add(store, now - timedelta(days=3), 2)  # an import of old history: not news
    fresh = await add(store, now - timedelta(minutes=2), 2)
    await add(store, now - timedelta(minutes=1), 1, NEU)
    first = await alerter.evaluate()
    again = await alerter.evaluate()
    alerts = await store.alerts()
    assert len(first) == 2 and again == []
    assert sorted(a.mention_id for a in alerts) == sorted(fresh)
    assert all(a.key.startswith("negatives:m") for a in alerts)
    assert "negative mention from ann on feed" in alerts[0].explanation
    assert await store.alert_cursor() == await store.max_id()


async def test_terms_and_sources_narrow_a_rule(store: Store) -> None:
    rule = AlertRule("outage", "negative", sources=("feed",), terms=("outage",))
    now = utcnow()
    await add(store, now, 1, text="total outage here")
    await add(store, now, 1, text="an outaged word is not the term")
    await add(store, now, 1, source="other", text="outage elsewhere")
    assert len(await Alerter(config(rule), store, print).evaluate()) == 1


async def test_reach_alerts_above_the_threshold(store: Store) -> None:
    now = utcnow()
    big = IncomingMention("m", "1", "hello", "star", None, now, reach={"followers": 50_000})
    small = IncomingMention("m", "2", "hello", "nobody", None, now, reach={"followers": 12})
    ids = await store.add_mentions([big, small], [NEU, NEU])
    rule = AlertRule("big", "reach", min_followers=10_000)
    await Alerter(config(rule), store, print).evaluate()
    (alert,) = await store.alerts()
    assert alert.mention_id == ids[0]
    assert "50,000 followers" in alert.explanation


async def test_rules_read_only_what_could_fire_in_pages_and_the_cursor_passes_the_rest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.alerting.BATCH", 3)  # several pages of candidates
    now = utcnow()
    negatives = await add(store, now - timedelta(minutes=5), 7)
    neutral = await add(store, now - timedelta(minutes=4), 5, NEU)
    await store.set_operator_label(neutral[0], "negative")  # an operator's label counts
    await store.set_operator_label(negatives[0], "neutral")
    loud = IncomingMention(
        "m", "loud", "hello", "star", None, now, reach={"likes": 600, "reposts": 300}
    )
    quiet = IncomingMention("m", "quiet", "hello", "nobody", None, now, reach={"followers": 3})
    loud_id, _ = await store.add_mentions([loud, quiet], [NEU, NEU])
    await add(store, now - timedelta(minutes=1), 4, NEU)  # the newest page holds no candidate
    rules = (AlertRule("neg", "negative"), AlertRule("reach", "reach", min_followers=500))
    stored = await Alerter(config(*rules), store, print).evaluate()
    alerts = await store.alerts(limit=100)
    fired = sorted((a.rule, a.mention_id) for a in alerts)
    expected = [("neg", i) for i in [*negatives[1:], neutral[0]]] + [("reach", loud_id)]
    assert fired == sorted(expected) and len(stored) == len(expected)
    assert await store.alert_cursor() == await store.max_id()
    assert await Alerter(config(*rules), store, print).evaluate() == []


# -- spikes ------------------------------------------------------------------------------------


async def flat_month(store: Store, per_hour: int, hours: int, end: datetime) -> None:
    for h in range(hours, 0, -1):
        await add(store, end - timedelta(hours=h), per_hour)


async def test_a_burst_after_a_flat_month_fires_and_explains_itself(store: Store) -> None:
    now = utcnow().replace(minute=50, second=0, microsecond=0)
    await flat_month(store, 2, 28 * 24, now - timedelta(hours=1))
    await add(store, now - timedelta(minutes=40), 25, text="login outage app down")
    rule = AlertRule("spike", "spike", probability=0.001, min_count=5)
    found = await Evaluation(store, config(rule), now).spike(rule)
    assert found is not None
    assert found.explanation.startswith("25 negatives in the last 1h; usual for ")
    assert "(4 weeks)" in found.explanation
    assert "top words: " in found.explanation and "outage" in found.explanation
    # Stored once per window, however often it is evaluated.
    alerter = Alerter(config(rule), store, print)
    await alerter.evaluate(now)
    await alerter.evaluate(now + timedelta(minutes=1))
    assert [a.kind for a in await store.alerts() if a.kind == "spike"] == ["spike"]


async def test_a_normal_day_night_cycle_does_not_fire(store: Store) -> None:
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    # Busy days, quiet nights, the same every day for four weeks and today.
    for h in range(29 * 24, 0, -1):
        moment = now - timedelta(hours=h)
        await add(store, moment, 12 if 8 <= moment.hour < 20 else 1)
    rule = AlertRule("spike", "spike")
    for back in range(24):
        at = now - timedelta(hours=back) + timedelta(minutes=59)
        assert await Evaluation(store, config(rule), at).spike(rule) is None, at


async def test_an_outage_is_not_a_quiet_hour_in_the_baseline(store: Store) -> None:
    now = utcnow().replace(minute=30, second=0, microsecond=0)
    start = now - timedelta(weeks=5)
    await cover(store, hour_of(start), hour_of(now))
    for week in (3, 4):  # the same hour, weeks ago: the usual level is 10
        await add(store, now - timedelta(weeks=week, minutes=20), 10)
    outage = {hour_of(now - timedelta(weeks=w)) for w in (1, 2)}
    await cover(store, 0, 0)  # (keeps the first covered hour at the start)

    async def drop(db):  # type: ignore[no-untyped-def]
        await db.executemany(
            "DELETE FROM coverage WHERE source = ? AND hour = ?", [(COLLECTOR, h) for h in outage]
        )

    await store._transaction(drop)
    await add(store, now - timedelta(minutes=20), 14)
    rule = AlertRule("spike", "spike", min_count=5)
    # Counting the two outage weeks as quiet (0) would make 14 look like a spike over 5.
    assert await Evaluation(store, config(rule), now).spike(rule) is None
    gaps = await store.gaps(min(outage), max(outage) + 1)
    assert outage <= gaps


# -- the response clock ---------------------------------------------------------------------


async def test_sla_alerts_before_the_due_time_and_when_late(store: Store) -> None:
    rule = AlertRule("late", "sla", lead=600)
    now = utcnow()
    soon, late, answered = [
        (await add(store, now - timedelta(minutes=m), 1))[0] for m in (25, 40, 45)
    ]
    await store.set_status(answered, "done")
    await Alerter(config(rule), store, print).evaluate(now)
    keys = {a.key for a in await store.alerts()}
    assert keys == {f"late:m{soon}:soon", f"late:m{late}:late"}


# -- delivery --------------------------------------------------------------------------------


def hook(server: Server, *replies: Reply) -> ChannelConfig:
    server.route("/hook", *(replies or (Reply(204),)), method="POST")
    return ChannelConfig("team", "webhook", url=server.url + "/hook", timeout=2.0)


async def test_alerts_reach_the_webhook_with_their_mention(store: Store, server: Server) -> None:
    channel = hook(server, Reply(500), Reply(204))
    cfg = config(AlertRule("negatives", "negative", notify=("team",)), channels=(channel,))
    (mention_id,) = await add(store, utcnow(), 1, text="refund never came")
    await Alerter(cfg, store, print).evaluate()
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(cfg, store, client, print)
        assert await deliverer.deliver_due() == 0  # the 500: tried again later
        (alert,) = await store.alerts()
        assert (
            alert.deliveries[0].state == "pending" and "answered 500" in alert.deliveries[0].error
        )

        async def now_due(db):  # type: ignore[no-untyped-def]
            await db.execute("UPDATE deliveries SET next_at = 0")

        await store._transaction(now_due)
        assert await deliverer.deliver_due() == 1
    requests = server.to("/hook")
    assert len(requests) == 2
    body = json.loads(requests[1].body)
    assert body["alerts"][0]["mention"]["id"] == mention_id
    assert body["alerts"][0]["mention"]["text"].startswith("refund never came")
    assert requests[0].headers["x-triage-delivery"] == requests[1].headers["x-triage-delivery"]
    (alert,) = await store.alerts()
    assert alert.deliveries[0].state == "sent"


async def test_a_storm_becomes_one_message_and_a_digest(store: Store, server: Server) -> None:
    channel = hook(server)
    rule = AlertRule("negatives", "negative", notify=("team",), cooldown=600)
    cfg = config(rule, channels=(channel,))
    await add(store, utcnow(), 1)
    alerter = Alerter(cfg, store, print)
    await alerter.evaluate()
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(cfg, store, client, print)
        assert await deliverer.deliver_due() == 1
        await add(store, utcnow(), 30)
        await alerter.evaluate()
        assert await deliverer.deliver_due() == 0  # held for the cooldown
        assert len(server.to("/hook")) == 1

        async def cooldown_over(db):  # type: ignore[no-untyped-def]
            await db.execute("UPDATE deliveries SET sent_at = sent_at - 601000 WHERE state='sent'")
            await db.execute("UPDATE deliveries SET next_at = 0 WHERE state = 'pending'")

        await store._transaction(cooldown_over)
        assert await deliverer.deliver_due() == 30
    _, digest = server.to("/hook")
    assert json.loads(digest.body)["digest"] is True
    assert len(json.loads(digest.body)["alerts"]) == 30


async def test_a_permanent_failure_is_recorded_with_its_reason(
    store: Store, server: Server
) -> None:
    channel = hook(server, Reply(404))
    cfg = config(AlertRule("negatives", "negative", notify=("team",)), channels=(channel,))
    await add(store, utcnow(), 1)
    await Alerter(cfg, store, print).evaluate()
    async with httpx.AsyncClient() as client:
        await Deliverer(cfg, store, client, print).deliver_due()
    (alert,) = await store.alerts()
    assert alert.deliveries[0].state == "failed"
    assert "answered 404" in alert.deliveries[0].error
    assert server.url not in alert.deliveries[0].error


async def test_a_delivery_whose_secret_this_process_lacks_waits_for_one_that_has_it(
    store: Store, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease can move to a process started without a channel's secret: its alerts stay
    pending, use up no attempts, say why (logged once), and the next lease holder that has
    the secret delivers them, signed."""
    monkeypatch.setattr(delivery, "SECRET_WAIT", 0.0)
    channel = replace(hook(server), secret_env="TEAM_HOOK_SECRET")
    cfg = config(AlertRule("negatives", "negative", notify=("team",)), channels=(channel,))
    await add(store, utcnow(), 2)
    await Alerter(cfg, store, print).evaluate()
    logged: list[str] = []
    async with httpx.AsyncClient() as client:
        lacking = Deliverer(cfg, store, client, logged.append, env={"PATH": "/bin"})
        for _ in range(3):
            assert await lacking.deliver_due() == 0
        assert server.to("/hook") == []
        assert len(logged) == 1 and "TEAM_HOOK_SECRET is not set" in logged[0]
        for alert in await store.alerts():
            (shown,) = alert.deliveries
            assert (shown.state, shown.attempts) == ("pending", 0)
            assert shown.error is not None and "TEAM_HOOK_SECRET is not set" in shown.error
            assert "export TEAM_HOOK_SECRET" in shown.error
            assert shown.next_at is not None
        having = Deliverer(cfg, store, client, print, env={"TEAM_HOOK_SECRET": "s3cret-value"})
        assert await having.deliver_due() == 2
    (request,) = server.to("/hook")
    assert request.headers["x-triage-signature"].startswith("sha256=")
    for alert in await store.alerts():
        assert [(d.state, d.attempts) for d in alert.deliveries] == [("sent", 1)]


async def test_a_secret_echoed_by_the_receiver_reaches_neither_the_store_nor_the_log(
    store: Store, server: Server
) -> None:
    token, secret = "source-token-77777777", "hook-secret-88888888"
    channel = replace(
        hook(server, Reply(500, f"denied {secret} / {token}\r\nInjected: line".encode())),
        secret_env="TEAM_HOOK_SECRET",
    )
    source = SourceConfig("mastodon", "masto", "https://m.example", options={"token_env": "MT"})
    cfg = replace(
        config(AlertRule("negatives", "negative", notify=("team",)), channels=(channel,)),
        sources=(source,),
    )
    await add(store, utcnow(), 1)
    await Alerter(cfg, store, print).evaluate()
    logged: list[str] = []
    env = {"TEAM_HOOK_SECRET": secret, "MT": token}
    async with httpx.AsyncClient() as client:
        assert await Deliverer(cfg, store, client, logged.append, env=env).deliver_due() == 0
    (alert,) = await store.alerts()
    error = alert.deliveries[0].error
    assert error == "team: answered 500: denied *** / *** Injected: line"
    (line,) = logged
    for leak in (secret, token, "\r", "\n"):
        assert leak not in line and leak not in error


async def test_a_retry_after_of_years_is_cut_to_the_longest_backoff(
    store: Store, server: Server
) -> None:
    channel = hook(server, Reply(429, headers={"Retry-After": "999999999"}))
    cfg = config(AlertRule("negatives", "negative", notify=("team",)), channels=(channel,))
    await add(store, utcnow(), 1)
    await Alerter(cfg, store, print).evaluate()
    async with httpx.AsyncClient() as client:
        assert await Deliverer(cfg, store, client, print).deliver_due() == 0
    (alert,) = await store.alerts()
    (shown,) = alert.deliveries
    assert shown.state == "pending" and shown.next_at is not None
    wait = (shown.next_at - utcnow()).total_seconds()
    assert BACKOFF_MAX - 60 < wait <= BACKOFF_MAX
    line = delivery_line(shown, utcnow())
    today = f"{shown.next_at:%Y-%m-%d}" == f"{utcnow():%Y-%m-%d}"
    when = f"{shown.next_at:%H:%M:%S}Z" if today else f"{shown.next_at:%Y-%m-%d %H:%M:%S}Z"
    assert line.startswith(f"team: pending, next try {when} (in 59m")
    assert "1 try so far (team: answered 429)" in line


# -- replay and config -----------------------------------------------------------------------


async def test_replay_finds_what_would_have_fired_by_post_time(store: Store) -> None:
    now = utcnow().replace(minute=50, second=0, microsecond=0)
    await flat_month(store, 1, 28 * 24, now - timedelta(days=2))
    burst_at = now - timedelta(days=2, minutes=30)
    await add(store, burst_at, 20)
    rules = (AlertRule("spike", "spike"), AlertRule("negatives", "negative"))
    found = await replay(store, config(*rules), now - timedelta(days=3), now)
    spikes = [a for a in found if a.rule == "spike"]
    assert spikes and all(
        burst_at <= a.at <= burst_at + timedelta(hours=1, minutes=15) for a in spikes
    )
    negatives = [a for a in found if a.rule == "negatives"]
    assert len(negatives) == 24 + 20  # every negative posted in the three days
    assert await store.alerts() == []  # nothing stored


def test_alert_config_errors_name_the_key_and_never_echo_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[alerts]]\nwhen = "negative"\nnotify = ["nowhere"]\n')
    with pytest.raises(
        ConfigError, match=r"config.toml:3: alerts.notify: no channel named 'nowhere'"
    ):
        load_config(path)
    path.write_text(
        '[[channels]]\nname = "x"\nkind = "webhook"\nurl = "https://h.example/x"\n'
        'secret_env = "s3cr3t-value!"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "s3cr3t" not in str(error.value) and "environment variable" in str(error.value)
    path.write_text('[sla]\nnegative = "soon"\n')
    with pytest.raises(ConfigError, match=r"sla\.negative"):
        load_config(path)
    path.write_text('[sla]\nnegative = "20m"\nbusiness_hours = "mon-fri 09:00-17:00"\n')
    sla = load_config(path).on_call.sla
    saturday = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert sla.due_at(saturday, "negative") == datetime(2026, 12, 7, 9, 20, tzinfo=UTC)
    assert HOUR_MS == 3_600_000


def test_a_command_channel_names_the_variables_it_gets_and_never_their_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    table = '[[channels]]\nname = "pager"\nkind = "command"\ncommand = ["/bin/true"]\n'
    path.write_text(table + 'secret_env = "PAGER_KEY"\nenv = ["PAGER_ROUTE", "LC_ALL"]\n')
    (channel,) = load_config(path).on_call.channels
    assert channel.env == ("PAGER_ROUTE", "LC_ALL") and channel.secret_env == "PAGER_KEY"
    path.write_text(table + 'env = ["tok=abc123secret"]\n')
    with pytest.raises(ConfigError, match=r"config.toml:5: channels.env") as error:
        load_config(path)
    assert "abc123secret" not in str(error.value)
    path.write_text(
        '[[channels]]\nname = "hook"\nkind = "webhook"\nurl = "https://h.example/x"\n'
        'env = ["PAGER_ROUTE"]\n'
    )
    with pytest.raises(ConfigError, match=r"channels.env: a webhook channel runs no program"):
        load_config(path)
