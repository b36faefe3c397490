"""Counts over time and the hours they can be trusted (part of ``Store``).

``counts`` and ``tag_counts`` hold mentions per 15 minutes of post time by source, label (the
operator's first) and tag, kept by triggers in the transaction of every write that changes them
(schema migration 11): trends, baselines and reports read a few hundred rows, never the
mentions. ``coverage`` says which hours the collector ran (``source`` empty) and how each
source's polls went, so a baseline leaves out an outage instead of calling it a quiet hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tui.core.model import to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

BUCKET_MS = 900_000
"""One bucket of ``counts``: 15 minutes."""
HOUR_MS = 3_600_000
COLLECTOR = ""
"""``coverage.source`` of the rows that say the collector ran that hour."""


def bucket_of(moment: datetime) -> int:
    return to_ms(moment) // BUCKET_MS


def hour_of(moment: datetime) -> int:
    return to_ms(moment) // HOUR_MS


class RollupQueries(StoreBase):
    """Store methods for counts over time and coverage."""

    async def _cover(self, db: aiosqlite.Connection, source: str, ok: bool | None) -> None:
        """Note in ``db``'s transaction that ``source`` was polled this hour (``ok`` or
        failed), or, ``ok`` None, that the collector ran."""
        await db.execute(
            "INSERT INTO coverage(source, hour, ok, failed) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET ok = ok + excluded.ok, failed = failed + excluded.failed",
            (source, hour_of(utcnow()), int(ok is not False), int(ok is False)),
        )

    async def series(
        self,
        start: int,
        end: int,
        *,
        negative: bool = False,
        source: str | None = None,
        tag: str | None = None,
        sources: Sequence[str] = (),
    ) -> list[int]:
        """Mentions per bucket for buckets ``start`` .. ``end - 1`` (``negative``: negatives
        only), optionally of one source, of any of ``sources``, or with one tag."""
        params: list[object] = []
        if tag is not None:
            sql = (
                "SELECT bucket, sum(n) FROM tag_counts WHERE tag = ? AND bucket >= ? AND bucket < ?"
            )
            params += [tag, start, end]
        else:
            sql = "SELECT bucket, sum(n) FROM counts WHERE bucket >= ? AND bucket < ?"
            params += [start, end]
            if source is not None:
                sql += " AND source = ?"
                params.append(source)
            if sources:
                sql += f" AND source IN ({','.join('?' * len(sources))})"
                params += list(sources)
        if negative:
            sql += " AND label = 'negative'"
        rows = await self._all(sql + " GROUP BY bucket", params)
        counts = [0] * max(0, end - start)
        for bucket, n in rows:
            counts[bucket - start] = int(n)
        return counts

    async def series_by_source(
        self, start: int, end: int, *, negative: bool = False
    ) -> dict[str, list[int]]:
        """``series`` for every source with mentions in the range."""
        sql = "SELECT source, bucket, sum(n) FROM counts WHERE bucket >= ? AND bucket < ?"
        if negative:
            sql += " AND label = 'negative'"
        out: dict[str, list[int]] = {}
        for source, bucket, n in await self._all(sql + " GROUP BY source, bucket", (start, end)):
            out.setdefault(source, [0] * (end - start))[bucket - start] = int(n)
        return out

    async def gaps(self, start_hour: int, end_hour: int, sources: Sequence[str] = ()) -> set[int]:
        """Hours in ``start_hour`` .. ``end_hour - 1`` whose counts cannot be trusted: from the
        first hour the collector ever ran, every hour it did not run, and every hour a source
        (of ``sources``; empty: any) failed without one good poll. Hours before the collector
        first ran (imported history) are trusted."""
        first = await self._one("SELECT min(hour) FROM coverage WHERE source = ?", (COLLECTOR,))
        gaps: set[int] = set()
        if first is None or first[0] is None:
            return gaps
        ran = {
            r[0]
            for r in await self._all(
                "SELECT hour FROM coverage WHERE source = ? AND hour >= ? AND hour < ?",
                (COLLECTOR, start_hour, end_hour),
            )
        }
        now = hour_of(utcnow())
        gaps.update(h for h in range(max(start_hour, first[0]), min(end_hour, now)) if h not in ran)
        sql = (
            "SELECT DISTINCT hour FROM coverage WHERE source != ? AND hour >= ? AND hour < ?"
            " AND ok = 0 AND failed > 0"
        )
        params: list[object] = [COLLECTOR, start_hour, end_hour]
        if sources:
            sql += f" AND source IN ({','.join('?' * len(sources))})"
            params += list(sources)
        gaps.update(r[0] for r in await self._all(sql, params))
        return gaps

    async def texts_between(
        self, start: datetime, end: datetime, *, negative: bool = True, limit: int = 2000
    ) -> list[str]:
        """Texts of mentions posted in [start, end) (negatives by default), newest first, at
        most ``limit``: what a spike's explanation finds its words in."""
        sql = (
            "SELECT text FROM mentions INDEXED BY mentions_created"
            " WHERE created_at >= ? AND created_at < ?"
        )
        if negative:
            sql += " AND coalesce(operator_label, label) = 'negative'"
        rows = await self._all(
            sql + " ORDER BY created_at DESC LIMIT ?", (to_ms(start), to_ms(end), limit)
        )
        return [r[0] for r in rows]

    async def first_bucket(self) -> int | None:
        """The earliest bucket with any mention (how much history there is)."""
        row = await self._one("SELECT min(bucket) FROM counts WHERE n > 0")
        return row[0] if row else None
