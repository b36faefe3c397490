"""Deliveries of stored alerts to their channels, by the collector lease holder.

Each pass claims the deliveries due (``Store.claim_deliveries``), groups them by channel and
rule, and sends each group as one message (``tui.channels.send``). A rule's ``cooldown`` keeps
a storm from becoming hundreds of messages: within it, after a message for the rule went out on
a channel, further alerts wait and leave together as one digest when it ends. A failed send is
tried again with backoff (honouring ``Retry-After`` up to ``tui.channels.BACKOFF_MAX``), up
to ``MAX_ATTEMPTS``; a permanent failure (a 4xx, a program that cannot run) is recorded as
failed with its reason. A ``kill -9`` between claiming and recording leaves a claim that the
next pass takes again once stale.

A channel whose ``secret_env`` is not set in this process is not a failure of the delivery but
of where it runs: the lease can move to a process started without the variable. Its
deliveries stay pending, without using up attempts, and are looked at again every
``SECRET_WAIT`` seconds with the reason on each (the alerts screen shows it), logged once per
channel; whichever process holds the lease with the variable set delivers them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import httpx

from tui.alert_config import AlertRule, ChannelConfig
from tui.channels import DeliveryFailed, Message, backoff, missing_secret, send
from tui.config import Config, secret_names
from tui.core.model import Alert, iso, utcnow
from tui.core.process import this_process
from tui.core.text import first_line, one_line
from tui.store import Store, StoreError
from tui.store.alerts import Due

MAX_ATTEMPTS = 20
"""Tries of one delivery before it is recorded as failed (about a day with backoff)."""
IDLE = 30.0
"""Longest sleep between passes when nothing is due sooner."""
URGENT_KINDS = frozenset({"negative", "spike", "sla", "source"})
SECRET_WAIT = 30.0
"""Seconds between looks at deliveries kept pending for a secret this process lacks."""

Log = Callable[[str], None]


def message_id(channel: str, alerts: Sequence[Alert]) -> str:
    """The same alerts on the same channel always make the same id (receivers dedupe)."""
    ids = ",".join(str(a.id) for a in sorted(alerts, key=lambda a: a.id))
    return hashlib.sha256(f"{channel}:{ids}".encode()).hexdigest()[:32]


def _alert_json(alert: Alert, mention: dict[str, object] | None) -> dict[str, object]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "kind": alert.kind,
        "at": iso(alert.at),
        "title": alert.title,
        "explanation": alert.explanation,
        "detail": dict(alert.detail),
        "mention": mention,
    }


class Deliverer:
    """Sends due deliveries while this process holds the collector lease."""

    def __init__(
        self,
        config: Config,
        store: Store,
        client: httpx.AsyncClient,
        log: Log,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.log = log
        self.env = env
        """Where channel secrets are read (and what a command's environment comes from)."""
        self._secret_names = secret_names(config)
        self._lacking: set[str] = set()
        """Channels whose missing secret was logged already (once per channel)."""
        self._channels: dict[str, ChannelConfig] = {c.name: c for c in config.on_call.channels}
        self._rules: dict[str, AlertRule] = {r.name: r for r in config.on_call.rules}
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """One pass; returns how many deliveries went out."""
        due = await self.store.claim_deliveries()
        groups: dict[tuple[str, str], list[Due]] = {}
        for item in due:
            groups.setdefault((item.channel, item.alert.rule), []).append(item)
        sent = 0
        for (channel, rule), items in groups.items():
            sent += await self._deliver(channel, rule, items)
        return sent

    async def _deliver(self, channel_name: str, rule_name: str, items: list[Due]) -> int:
        pairs = [(item.alert.id, channel_name) for item in items]
        channel = self._channels.get(channel_name)
        if channel is None:
            await self.store.delivery_failed(
                pairs, f"{channel_name}: no such channel in the config any more", None
            )
            return 0
        rule = self._rules.get(rule_name)
        cooldown = rule.cooldown if rule is not None else 0.0
        now = utcnow()
        last = await self.store.last_sent(rule_name, channel_name)
        if last is not None and cooldown and now - last < timedelta(seconds=cooldown):
            await self.store.held(pairs, last + timedelta(seconds=cooldown))
            return 0
        lacking = missing_secret(channel, self.env)
        if lacking is not None:
            host, pid = this_process()
            reason = one_line(
                f"{channel_name}: {lacking} is not set in the collecting process ({host}:{pid});"
                f" kept pending for one that has it (export {lacking} where it runs)"
            )
            await self.store.held(pairs, now + timedelta(seconds=SECRET_WAIT), error=reason)
            if channel_name not in self._lacking:
                self._lacking.add(channel_name)
                self.log(f"alerts: {reason}")
            return 0
        alerts = [item.alert for item in items]
        message = await self._message(channel_name, alerts)
        try:
            await send(channel, message, self.client, self.env, self._secret_names)
        except DeliveryFailed as error:
            attempts = max(item.attempts for item in items)
            if error.permanent or attempts >= MAX_ATTEMPTS:
                await self.store.delivery_failed(pairs, str(error), None)
                self.log(f"alerts: {error}; given up")
            else:
                wait = backoff(attempts, error.retry_after)
                await self.store.delivery_failed(pairs, str(error), now + timedelta(seconds=wait))
                self.log(f"alerts: {error}; trying again in {wait:.0f}s")
            return 0
        await self.store.delivered(pairs, message.delivery_id)
        return len(pairs)

    async def _message(self, channel: str, alerts: list[Alert]) -> Message:
        ids = [a.mention_id for a in alerts if a.mention_id is not None]
        rows = await self.store.rows(ids)
        mentions: dict[int, dict[str, object]] = {}
        for mention_id, row in rows.items():
            mentions[mention_id] = {
                "id": row.id,
                "source": row.source,
                "author": row.author,
                "label": row.effective_label,
                "created_at": iso(row.created_at),
                "text": row.text,
            }
        alerts = sorted(alerts, key=lambda a: a.id)
        digest = len(alerts) > 1
        if digest:
            title = one_line(f"{len(alerts)} alerts: {alerts[0].rule}", 120)
            summary = f"{len(alerts)} alerts from rule {alerts[0].rule} (digest)"
        else:
            title = one_line(alerts[0].title, 120)
            summary = alerts[0].explanation
        lines = [one_line(a.explanation, 400) for a in alerts[:50]]
        if len(alerts) > 50:
            lines.append(f"… and {len(alerts) - 50} more")
        payload = {
            "digest": digest,
            "text": first_line(summary, 400),
            "alerts": [
                _alert_json(a, mentions.get(a.mention_id) if a.mention_id else None) for a in alerts
            ],
        }
        return Message(
            delivery_id=message_id(channel, alerts),
            payload=payload,
            title=title,
            text="\n".join(lines),
            urgent=any(a.kind in URGENT_KINDS for a in alerts),
        )

    async def run(
        self, halt: asyncio.Event, may_run: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        """Until ``halt``: deliver what is due, then sleep until the next is due (only while
        ``may_run`` says this process is the one to)."""
        while not halt.is_set():
            try:
                if may_run is None or await may_run():
                    await self.deliver_due()
                upcoming = await self.store.next_delivery_at()
            except StoreError as error:
                self.log(f"alerts: delivery failed: {error}")
                upcoming = None
            wait = IDLE
            if upcoming is not None:
                wait = min(IDLE, max(0.2, (upcoming - utcnow()).total_seconds()))
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(halt.wait())]
            try:
                await asyncio.wait(waits, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
