"""The response clock and reach of mentions (part of ``Store``).

Due times live in ``mention_sla``, kept by triggers (schema migration 11): a new mention gets
``sla_due(posted, label)``, a label change moves it, and the first ``done`` or recorded reply
(an event ``replied`` or ``reply_copied``) answers it. Reach is what the source said of the
author and the post when it was collected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tui.core.model import IncomingMention, from_ms, to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

ENGAGEMENT = ("reposts", "likes", "replies", "score", "comments", "points", "quotes")
"""Reach figures about the post itself (the rest, ``followers``, is about its author)."""


def reach_of(figures: Mapping[str, int]) -> tuple[int | None, int | None]:
    """(followers, engagement): the author's audience and the post's own reach."""
    followers = figures.get("followers")
    engaged = [figures[k] for k in ENGAGEMENT if figures.get(k) is not None]
    return followers, (sum(engaged) if engaged else None)


class ClockQueries(StoreBase):
    """Store methods for the response clock and reach."""

    async def mark_replied(self, mention_id: int, where: str = "") -> None:
        """Record that a reply was sent (outside this tool): answers the mention's clock."""

        async def body(db: aiosqlite.Connection) -> None:
            await self._event(db, mention_id, "replied", where)

        await self._transaction(body)

    async def stop_clocks_due_before(self, ids: Sequence[int], moment: datetime) -> int:
        """Take the response clock off each of ``ids`` that was due before ``moment`` (answered
        or not): history imported after the fact, not a wait the team can still meet, so it is
        never overdue, never first in the urgent view and no response time in a report.
        Returns how many."""
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))

        async def body(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                f"DELETE FROM mention_sla WHERE mention_id IN ({marks}) AND due_at < ?",
                [*ids, to_ms(moment)],
            )
            return int(cursor.rowcount)

        return await self._transaction(body)

    async def overdue(self, now: datetime | None = None) -> int:
        """Open mentions whose first response is late."""
        (count,) = await self._one(
            "SELECT count(*) FROM mention_sla INDEXED BY mention_sla_open"
            " WHERE answered_at IS NULL AND due_at < ?",
            (to_ms(now or utcnow()),),
        )
        return int(count)

    async def due_between(
        self, start: datetime, end: datetime, limit: int = 1000
    ) -> list[tuple[int, datetime]]:
        """Open mentions due in [start, end): (id, due), soonest first."""
        rows = await self._all(
            "SELECT mention_id, due_at FROM mention_sla INDEXED BY mention_sla_open"
            " WHERE answered_at IS NULL AND due_at >= ? AND due_at < ?"
            " ORDER BY due_at, mention_id LIMIT ?",
            (to_ms(start), to_ms(end), limit),
        )
        return [(r[0], from_ms(r[1])) for r in rows]

    async def _record_reach(
        self, db: aiosqlite.Connection, mentions: Sequence[IncomingMention], before: int
    ) -> None:
        """Reach of the mentions just added (ids above ``before``), in their transaction."""
        rows = []
        for mention in mentions:
            if not mention.reach:
                continue
            followers, engagement = reach_of(mention.reach)
            detail = json.dumps(dict(mention.reach), sort_keys=True)
            rows.append(
                (followers, engagement, detail, mention.source, mention.external_id, before)
            )
        if rows:
            await db.executemany(
                "INSERT INTO mention_reach(mention_id, followers, engagement, detail)"
                " SELECT id, ?, ?, ? FROM mentions WHERE source = ? AND external_id = ? AND id > ?"
                " ON CONFLICT(mention_id) DO NOTHING",
                rows,
            )

    async def reaches(self, ids: Sequence[int]) -> dict[int, tuple[int | None, int | None]]:
        """(followers, engagement) of each of ``ids`` that has reach figures."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._all(
            f"SELECT mention_id, followers, engagement FROM mention_reach"
            f" WHERE mention_id IN ({marks})",
            list(ids),
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    async def follow_ups_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[int, datetime]]:
        """Follow-ups still set that come due in [start, end]: (mention id, due)."""
        rows = await self._all(
            "SELECT id, follow_up_due FROM mentions INDEXED BY mentions_follow_up"
            " WHERE follow_up_due >= ? AND follow_up_due <= ? ORDER BY follow_up_due LIMIT 1000",
            (to_ms(start), to_ms(end)),
        )
        return [(r[0], from_ms(r[1])) for r in rows]

    async def last_arrival(self, source: str) -> tuple[int, datetime] | None:
        """The newest mention of ``source``: (id, when it was collected)."""
        row = await self._one(
            "SELECT id, collected_at FROM mentions WHERE source = ? ORDER BY id DESC LIMIT 1",
            (source,),
        )
        return (row[0], from_ms(row[1])) if row else None
