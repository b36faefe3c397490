"""Alerts and their deliveries (part of ``Store``).

An alert is a row with a unique key (rule + mention, or rule + window), so evaluating the same
history twice stores it once. Each alert has one delivery row per channel, claimed by the
delivering process (``sending``), then ``sent``, or back to ``pending`` with the next try's
time after a failure, or ``failed`` after a permanent one. A claim older than
``STALE_CLAIM_MS`` (its process was killed) is taken again, so a ``kill -9`` never loses a
delivery; the message id sent with it lets a receiver drop the one repeat that can follow a
kill between the send and its record.

A claim is ``sending`` with the claimer's ``host:pid``; the claimer's own live claims are never
taken back by another pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.core.model import Alert, Delivery, NewAlert, from_ms, to_ms, utcnow
from tui.core.process import is_gone, this_process
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

STALE_CLAIM_MS = 120_000
"""A ``sending`` claim older than this belongs to a process that died: it is tried again (at
once when the claimer ran on this host and its process is gone)."""
MENTION_CURSOR = "mention_cursor"

_ALERT_COLUMNS = (
    "a.id, a.key, a.rule, a.kind, a.at, a.title, a.explanation, a.mention_id, a.detail,"
    " a.acked_at, a.acked_by"
)


def _claimer_gone(claimer: str | None) -> bool:
    """Whether the process that claimed a delivery (``host:pid``) is gone from this host."""
    if not claimer:
        return True
    host, _, pid = claimer.rpartition(":")
    return pid.isdigit() and is_gone(host, int(pid))


def _detail_json(detail: Mapping[str, Any]) -> str:
    return json.dumps(dict(detail), sort_keys=True, ensure_ascii=False) if detail else "{}"


def _alert(row: Sequence[Any], deliveries: tuple[Delivery, ...] = ()) -> Alert:
    return Alert(
        id=row[0],
        key=row[1],
        rule=row[2],
        kind=row[3],
        at=from_ms(row[4]),
        title=row[5],
        explanation=row[6],
        mention_id=row[7],
        detail=json.loads(row[8]),
        acked_at=from_ms(row[9]) if row[9] is not None else None,
        acked_by=row[10],
        deliveries=deliveries,
    )


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery to make now: the alert and the channel."""

    alert: Alert
    channel: str
    attempts: int


class AlertQueries(StoreBase):
    """Store methods for alerts and deliveries."""

    async def alert_cursor(self) -> int:
        """The highest mention id the lease holder has evaluated rules on."""
        row = await self._one("SELECT value FROM alert_state WHERE name = ?", (MENTION_CURSOR,))
        return int(row[0]) if row else 0

    async def add_alerts(
        self, alerts: Sequence[NewAlert], *, cursor: int | None = None
    ) -> list[int]:
        """Store the alerts not stored yet (by key) with a pending delivery per channel, and
        move the mention cursor to ``cursor``, in one transaction. Returns the new ids."""
        now = to_ms(utcnow())

        async def body(db: aiosqlite.Connection) -> list[int]:
            # Batched like add_mentions: ids above the previous maximum are exactly the new
            # alerts, because this transaction holds the write lock.
            (before,) = await self._one("SELECT coalesce(max(id), 0) FROM alerts")
            await db.executemany(
                "INSERT INTO alerts(key, rule, kind, at, mention_id, title, explanation, detail)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(key) DO NOTHING",
                [
                    (
                        alert.key,
                        alert.rule,
                        alert.kind,
                        to_ms(alert.at),
                        alert.mention_id,
                        alert.title,
                        alert.explanation,
                        _detail_json(alert.detail),
                    )
                    for alert in alerts
                ],
            )
            ids = [r[0] for r in await self._all("SELECT id FROM alerts WHERE id > ?", (before,))]
            if ids:
                await db.executemany(
                    "INSERT INTO deliveries(alert_id, channel, next_at)"
                    " SELECT id, ?, ? FROM alerts WHERE key = ? AND id > ?",
                    [
                        (channel, now, alert.key, before)
                        for alert in alerts
                        for channel in alert.channels
                    ],
                )
            if cursor is not None:
                await db.execute(
                    "INSERT INTO alert_state(name, value) VALUES (?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
                    (MENTION_CURSOR, cursor),
                )
            return ids

        return await self._transaction(body)

    async def has_alert(self, key: str) -> bool:
        return await self._one("SELECT 1 FROM alerts WHERE key = ?", (key,)) is not None

    async def claim_deliveries(self, limit: int = 100) -> list[Due]:
        """Take the deliveries due now (pending and due, or claimed by a process that died),
        marking them ``sending``; soonest first."""
        now = to_ms(utcnow())
        host, pid = this_process()
        me = f"{host}:{pid}"

        async def body(db: aiosqlite.Connection) -> list[Due]:
            claims = await self._all(
                "SELECT alert_id, channel, claimed_at, claimed_by FROM deliveries"
                " WHERE state = 'sending'"
            )
            dead = [
                (r[0], r[1]) for r in claims if r[2] < now - STALE_CLAIM_MS or _claimer_gone(r[3])
            ]
            await db.executemany(
                "UPDATE deliveries SET state = 'pending', claimed_by = NULL"
                " WHERE alert_id = ? AND channel = ?",
                dead,
            )
            rows = await self._all(
                f"SELECT {_ALERT_COLUMNS}, d.channel, d.attempts FROM deliveries d"
                " INDEXED BY deliveries_due JOIN alerts a ON a.id = d.alert_id"
                " WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at LIMIT ?",
                (now, limit),
            )
            await db.executemany(
                "UPDATE deliveries SET state = 'sending', claimed_at = ?, claimed_by = ?,"
                " attempts = attempts + 1 WHERE alert_id = ? AND channel = ?",
                [(now, me, r[0], r[11]) for r in rows],
            )
            return [Due(_alert(r), r[11], r[12] + 1) for r in rows]

        return await self._transaction(body)

    async def next_delivery_at(self) -> datetime | None:
        """When the next pending delivery is due (None: nothing pending)."""
        row = await self._one(
            "SELECT min(next_at) FROM deliveries INDEXED BY deliveries_due WHERE state = 'pending'"
        )
        return from_ms(row[0]) if row and row[0] is not None else None

    async def delivered(self, pairs: Sequence[tuple[int, str]], message: str) -> None:
        """The (alert id, channel) deliveries went out in the message with id ``message``."""
        now = to_ms(utcnow())
        await self._transaction(
            lambda db: db.executemany(
                "UPDATE deliveries SET state = 'sent', sent_at = ?, message = ?, error = NULL"
                " WHERE alert_id = ? AND channel = ?",
                [(now, message, alert_id, channel) for alert_id, channel in pairs],
            )
        )

    async def delivery_failed(
        self, pairs: Sequence[tuple[int, str]], error: str, retry_at: datetime | None
    ) -> None:
        """A try failed: pending again until ``retry_at``, or ``failed`` for good (None)."""
        state = "pending" if retry_at is not None else "failed"
        next_at = to_ms(retry_at) if retry_at is not None else to_ms(utcnow())
        await self._transaction(
            lambda db: db.executemany(
                "UPDATE deliveries SET state = ?, next_at = ?, error = ?, claimed_at = NULL"
                " WHERE alert_id = ? AND channel = ?",
                [(state, next_at, error, alert_id, channel) for alert_id, channel in pairs],
            )
        )

    async def held(
        self, pairs: Sequence[tuple[int, str]], until: datetime, *, error: str | None = None
    ) -> None:
        """Put claimed deliveries back, due at ``until``, without counting the claim as an
        attempt (a cooldown holds them for a digest; a secret this process lacks); ``error``,
        when given, says why."""
        await self._transaction(
            lambda db: db.executemany(
                "UPDATE deliveries SET state = 'pending', next_at = ?, claimed_at = NULL,"
                " attempts = max(0, attempts - 1), error = coalesce(?, error)"
                " WHERE alert_id = ? AND channel = ?",
                [(to_ms(until), error, alert_id, channel) for alert_id, channel in pairs],
            )
        )

    async def last_sent(self, rule: str, channel: str) -> datetime | None:
        """When a message for ``rule`` last went out on ``channel`` (cooldowns)."""
        row = await self._one(
            "SELECT max(d.sent_at) FROM alerts a JOIN deliveries d ON d.alert_id = a.id"
            " WHERE a.rule = ? AND d.channel = ? AND d.state = 'sent'"
            " AND a.id > (SELECT coalesce(max(id), 0) - 5000 FROM alerts)",
            (rule, channel),
        )
        return from_ms(row[0]) if row and row[0] is not None else None

    async def alerts(
        self, *, limit: int = 200, open_only: bool = False, since: datetime | None = None
    ) -> list[Alert]:
        """The newest alerts first, with their deliveries."""
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts a"
        where, params = [], []
        if open_only:
            where.append("a.acked_at IS NULL")
        if since is not None:
            where.append("a.at >= ?")
            params.append(to_ms(since))
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self._all(sql + " ORDER BY a.id DESC LIMIT ?", [*params, limit])
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found: dict[int, list[Delivery]] = {}
        for r in await self._all(
            f"SELECT alert_id, channel, state, attempts, error, sent_at, next_at FROM deliveries"
            f" WHERE alert_id IN ({marks}) ORDER BY channel",
            [r[0] for r in rows],
        ):
            found.setdefault(r[0], []).append(
                Delivery(
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    from_ms(r[5]) if r[5] is not None else None,
                    from_ms(r[6]) if r[2] == "pending" else None,
                )
            )
        return [_alert(r, tuple(found.get(r[0], ()))) for r in rows]

    async def alert_status(self) -> tuple[int, int]:
        """(the newest alert's id, how many are not acknowledged): the app polls this."""
        row = await self._one(
            "SELECT (SELECT coalesce(max(id), 0) FROM alerts),"
            " (SELECT count(*) FROM alerts INDEXED BY alerts_open WHERE acked_at IS NULL)"
        )
        return int(row[0]), int(row[1])

    async def acknowledge(self, alert_id: int) -> bool:
        """Record that this store's operator saw the alert (False: it was already)."""

        async def body(db: aiosqlite.Connection) -> bool:
            row = await self._one(
                "SELECT mention_id, acked_at FROM alerts WHERE id = ?", (alert_id,)
            )
            if row is None:
                raise KeyError(f"no alert {alert_id}")
            if row[1] is not None:
                return False
            await db.execute(
                "UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ?",
                (to_ms(utcnow()), self.operator, alert_id),
            )
            await self._event(db, row[0], "alert_ack", {"alert": alert_id})
            return True

        return await self._transaction(body)
