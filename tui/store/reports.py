"""Queries behind ``triage report`` (part of ``Store``).

Each stays fast at a million mentions: totals by label, source and tag come from the
``counts`` and ``tag_counts`` rollups (a few hundred rows per shift); everything else walks an
index over the period only (``mentions_created`` for posts, ``events_by_at`` per operator for
actions, ``mention_sla_open`` for the open clock, ``mentions_follow_up``, ``alerts_at``). No
query reads the whole ``mentions`` table.

Times are ms since the epoch, periods half-open ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.core.model import Alert, from_ms
from tui.core.text import clip
from tui.store.alerts import _ALERT_COLUMNS, _alert
from tui.store.base import StoreBase, head

SNIPPET_CHARS = 200
"""Characters of a mention's text read for a report line."""

_OPERATORS = (
    # Each operator in ``events`` once, by a skip scan of ``events_by_at`` (by, at): one probe
    # per operator, so the events of the period are then read per operator by (by, at).
    "WITH RECURSIVE ops(name) AS ("
    " SELECT (SELECT min(by) FROM events INDEXED BY events_by_at)"
    " UNION ALL SELECT (SELECT min(by) FROM events INDEXED BY events_by_at WHERE by > ops.name)"
    " FROM ops WHERE ops.name IS NOT NULL)"
)
_PERIOD_EVENTS = (
    " FROM ops CROSS JOIN events e INDEXED BY events_by_at"
    " WHERE ops.name IS NOT NULL AND e.by = ops.name AND e.at >= ? AND e.at < ?"
)


def _nested(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, int]]:
    """(outer, inner, n) rows as {outer: {inner: n}}."""
    out: dict[str, dict[str, int]] = {}
    for outer, inner, n in rows:
        out.setdefault(outer, {})[inner] = int(n)
    return out


@dataclass(frozen=True, slots=True)
class ReportMention:
    """A mention as a report lists it: who posted where, and the start of what they said."""

    id: int
    created_at: datetime
    source: str
    author: str
    text: str
    """At most ``SNIPPET_CHARS`` characters of the text, unsanitized."""


@dataclass(frozen=True, slots=True)
class DueFollowUp:
    mention_id: int
    due_at: datetime
    note: str


class ReportQueries(StoreBase):
    """Store methods for the shift report."""

    async def counts_by_source(
        self, start_bucket: int, end_bucket: int
    ) -> dict[str, dict[str, int]]:
        """Mentions posted in buckets ``start_bucket`` .. ``end_bucket - 1`` (15 minutes of post
        time each), by source and effective label: {source: {label: n}}, from ``counts``."""
        rows = await self._all(
            "SELECT source, label, sum(n) FROM counts WHERE bucket >= ? AND bucket < ?"
            " GROUP BY source, label HAVING sum(n) > 0",
            (start_bucket, end_bucket),
        )
        return _nested(rows)

    async def counts_by_tag(self, start_bucket: int, end_bucket: int) -> dict[str, dict[str, int]]:
        """Like ``counts_by_source``, by tag (a mention counts once under each of its tags),
        from ``tag_counts``: each tag once by a skip scan, then its buckets by the key."""
        rows = await self._all(
            "WITH RECURSIVE tags(name) AS ("
            " SELECT (SELECT min(tag) FROM tag_counts)"
            " UNION ALL SELECT (SELECT min(tag) FROM tag_counts WHERE tag > tags.name)"
            " FROM tags WHERE tags.name IS NOT NULL)"
            " SELECT c.tag, c.label, sum(c.n) FROM tags CROSS JOIN tag_counts c"
            " WHERE tags.name IS NOT NULL AND c.tag = tags.name"
            " AND c.bucket >= ? AND c.bucket < ?"
            " GROUP BY c.tag, c.label HAVING sum(c.n) > 0",
            (start_bucket, end_bucket),
        )
        return _nested(rows)

    async def open_posted(self, start: int, end: int) -> int:
        """Mentions posted in the period whose status is still ``new``."""
        (count,) = await self._one(
            "SELECT count(*) FROM mentions INDEXED BY mentions_created"
            " WHERE created_at >= ? AND created_at < ? AND status = 'new'",
            (start, end),
        )
        return int(count)

    async def open_negatives_posted(
        self, start: int, end: int, limit: int = 500
    ) -> list[ReportMention]:
        """Negative mentions (effective label) posted in the period and still ``new``, newest
        first, at most ``limit``."""
        rows = await self._all(
            f"SELECT id, created_at, source, author, {head('text', SNIPPET_CHARS)}"
            " FROM mentions INDEXED BY mentions_created"
            " WHERE created_at >= ? AND created_at < ? AND status = 'new'"
            " AND coalesce(operator_label, label) = 'negative'"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (start, end, limit),
        )
        return [
            ReportMention(r[0], from_ms(r[1]), r[2], r[3], clip(r[4], SNIPPET_CHARS)) for r in rows
        ]

    async def breached_posted(self, start: int, end: int) -> int:
        """Mentions posted in the period whose first response came after it was due, or that
        had none by ``end`` and were due before ``end``."""
        (count,) = await self._one(
            "SELECT count(*) FROM mentions m INDEXED BY mentions_created"
            " JOIN mention_sla s ON s.mention_id = m.id"
            " WHERE m.created_at >= ? AND m.created_at < ?"
            " AND min(coalesce(s.answered_at, ?), ?) > s.due_at",
            (start, end, end, end),
        )
        return int(count)

    async def first_responses(self, start: int, end: int) -> list[int]:
        """Milliseconds from post to first response of each mention answered in the period,
        in no order. Every answer is written with an event (a ``status``, ``replied`` or
        ``reply_copied``), so the mentions are found through the period's events."""
        rows = await self._all(
            f"{_OPERATORS}"
            " SELECT s.answered_at - m.created_at FROM mention_sla s"
            " JOIN mentions m ON m.id = s.mention_id"
            " WHERE s.answered_at >= ? AND s.answered_at < ? AND s.mention_id IN ("
            f" SELECT e.mention_id {_PERIOD_EVENTS}"
            " AND e.action IN ('status', 'replied', 'reply_copied'))",
            # A done's answer time has whole seconds (the trigger's clock), so a done written
            # in the second after ``end`` may have answered before it: look at those events too.
            (start, end, start, end + 1000),
        )
        return [int(r[0]) for r in rows]

    async def operator_actions(self, start: int, end: int) -> dict[str, dict[str, int]]:
        """What each operator did in the period: {operator: {action: events}}."""
        rows = await self._all(
            f"{_OPERATORS} SELECT e.by, e.action, count(*) {_PERIOD_EVENTS}"
            " GROUP BY e.by, e.action",
            (start, end),
        )
        return _nested(rows)

    async def done_between(self, start: int, end: int) -> tuple[int, dict[str, int]]:
        """(distinct mentions marked done in the period, the same per operator); a ``done``
        the operator took back with ``u`` does not count."""
        done = (
            " AND e.action = 'status' AND e.detail = 'done'"
            " AND NOT EXISTS (SELECT 1 FROM undone u WHERE u.event_id = e.id)"  # taken back (u)
        )
        (total,) = await self._one(
            f"{_OPERATORS} SELECT count(DISTINCT e.mention_id) {_PERIOD_EVENTS}{done}",
            (start, end),
        )
        rows = await self._all(
            f"{_OPERATORS} SELECT e.by, count(DISTINCT e.mention_id) {_PERIOD_EVENTS}{done}"
            " GROUP BY e.by",
            (start, end),
        )
        return int(total), {r[0]: int(r[1]) for r in rows}

    async def follow_ups_due(self, start: int, end: int, limit: int = 500) -> list[DueFollowUp]:
        """Follow-ups not done that are due in [start, end), soonest first, at most ``limit``."""
        rows = await self._all(
            "SELECT m.id, m.follow_up_due, coalesce(f.note, '')"
            " FROM mentions m INDEXED BY mentions_follow_up"
            " LEFT JOIN follow_ups f ON f.mention_id = m.id"
            " WHERE m.follow_up_due >= ? AND m.follow_up_due < ?"
            " ORDER BY m.follow_up_due, m.id LIMIT ?",
            (start, end, limit),
        )
        return [DueFollowUp(r[0], from_ms(r[1]), r[2]) for r in rows]

    async def follow_ups_overdue(self, now: int) -> int:
        """Follow-ups not done whose due time is before ``now``."""
        (count,) = await self._one(
            "SELECT count(*) FROM mentions INDEXED BY mentions_follow_up"
            " WHERE follow_up_due IS NOT NULL AND follow_up_due < ?",
            (now,),
        )
        return int(count)

    async def alerts_between(self, start: int, end: int, limit: int = 500) -> list[Alert]:
        """Alerts raised in the period, oldest first, at most ``limit`` (without deliveries)."""
        rows: Sequence[Any] = await self._all(
            f"SELECT {_ALERT_COLUMNS} FROM alerts a INDEXED BY alerts_at"
            " WHERE a.at >= ? AND a.at < ? ORDER BY a.at, a.id LIMIT ?",
            (start, end, limit),
        )
        return [_alert(r) for r in rows]
