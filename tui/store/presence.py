"""Who is on what: one heartbeat row per running app (part of ``Store``).

Each app that may write keeps a row in ``presence`` (operator, Unix user, host, pid, when it
started, the mention selected and what it is doing with it), written every few seconds in its
own short transaction and deleted when the app quits. A row counts only while it is live: its
heartbeat is younger than ``STALE_SECONDS`` and, when it ran on this host, its process still
exists (``tui.core.process.is_gone``: a ``kill -9`` counts as gone at once). Rows that are not
live are ignored by every read and deleted by the next heartbeat of any app.

A heartbeat is a commit, and every commit changes ``PRAGMA data_version`` for every other
connection, which the apps poll to refresh the list. ``content_stamp`` tells the list's data
apart from presence: it changes when mentions arrive, when an event is written (every operator
action, edit and deletion writes one) and when a draft is saved; a heartbeat changes none of it.

"Handled this shift" counts the mentions an operator marked done or saved a reply draft for
(``status`` events with detail ``done``, ``draft`` events) since the shift began: the last
``SHIFT_HOURS`` hours, or since their app started if it has run longer than that.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tui.core.model import from_ms, to_ms, utcnow
from tui.core.process import is_gone, this_process
from tui.core.text import clip
from tui.store.base import StoreBase, head

if TYPE_CHECKING:
    import aiosqlite

Activity = Literal["browsing", "looking", "replying"]
"""``browsing``: nothing selected; ``looking``: a mention selected; ``replying``: its reply
editor open."""

TEAM_TEXT_CHARS = 400
"""Characters of the selected mention's text read for the team view (it shows one line)."""
STALE_SECONDS = 10.0
"""A row whose heartbeat is older than this is ignored (its app hung, or its host went away)."""
SHIFT_HOURS = 8
"""How far back "handled this shift" counts, at least (longer if the app started earlier)."""

_COLUMNS = (
    "p.app, p.operator, p.unix_user, p.host, p.pid, p.started_at, p.beat_at, p.mention_id,"
    " p.activity, p.activity_since"
)


def new_app_id() -> str:
    """A key for one running app: its host and pid, and a random part (pids get reused)."""
    host, pid = this_process()
    return f"{host}:{pid}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Presence:
    """One running app, as its last heartbeat described it."""

    app: str
    """The app's key (``new_app_id``)."""
    operator: str
    unix_user: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    mention_id: int | None
    activity: Activity
    activity_since: datetime
    """When this mention was selected, or the reply editor opened."""

    @property
    def replying(self) -> bool:
        return self.activity == "replying"


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A row of the team view: a running app, what it has selected, what its operator did."""

    presence: Presence
    first_line: str | None
    """The selected mention's text, as stored (the caller makes it one line), or None."""
    handled: int
    """Mentions this operator marked done or drafted a reply for this shift."""
    shift_start: datetime


def _presence(row: Sequence[Any]) -> Presence:
    return Presence(
        app=row[0],
        operator=row[1],
        unix_user=row[2],
        host=row[3],
        pid=row[4],
        started_at=from_ms(row[5]),
        beat_at=from_ms(row[6]),
        mention_id=row[7],
        activity=row[8],
        activity_since=from_ms(row[9]),
    )


def _live(row: Sequence[Any], now: int, stale_after_s: float) -> bool:
    return row[6] >= now - int(stale_after_s * 1000) and not is_gone(row[3], row[4])


def shift_start(started_at: datetime, now: datetime | None = None) -> datetime:
    """When the shift of an app started at ``started_at`` began, for "handled this shift"."""
    back = (now or utcnow()) - timedelta(hours=SHIFT_HOURS)
    return min(started_at, back)


class PresenceQueries(StoreBase):
    """Store methods for presence (the heartbeat rows) and the team view."""

    async def beat(
        self,
        app: str,
        started_at: datetime,
        mention_id: int | None,
        activity: Activity,
        activity_since: datetime,
        *,
        stale_after_s: float = STALE_SECONDS,
    ) -> None:
        """Write this app's row (one short transaction), and delete the rows that are not live."""
        host, pid = this_process()
        now = to_ms(utcnow())

        async def body(db: aiosqlite.Connection) -> None:
            rows = await self._all(f"SELECT {_COLUMNS} FROM presence p WHERE p.app <> ?", (app,))
            dead = [(row[0],) for row in rows if not _live(row, now, stale_after_s)]
            if dead:
                await db.executemany("DELETE FROM presence WHERE app = ?", dead)
            await db.execute(
                "INSERT INTO presence(app, operator, unix_user, host, pid, started_at, beat_at,"
                " mention_id, activity, activity_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(app) DO UPDATE SET operator = excluded.operator,"
                " beat_at = excluded.beat_at, mention_id = excluded.mention_id,"
                " activity = excluded.activity, activity_since = excluded.activity_since",
                (
                    app,
                    self.operator,
                    self.unix_user,
                    host,
                    pid,
                    to_ms(started_at),
                    now,
                    mention_id,
                    activity,
                    to_ms(activity_since),
                ),
            )

        await self._transaction(body)

    async def leave(self, app: str) -> None:
        """Delete this app's row (it quits)."""

        async def body(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM presence WHERE app = ?", (app,))

        await self._transaction(body)

    async def present(self, stale_after_s: float = STALE_SECONDS) -> list[Presence]:
        """Every live app, oldest first."""
        now = to_ms(utcnow())
        rows = await self._all(f"SELECT {_COLUMNS} FROM presence p ORDER BY p.started_at, p.app")
        return [_presence(row) for row in rows if _live(row, now, stale_after_s)]

    async def handled(self, operator: str, since: datetime) -> int:
        """Mentions ``operator`` marked done or drafted a reply for since ``since`` (not
        counting what they took back with ``u``)."""
        (count,) = await self._one(
            "SELECT count(DISTINCT mention_id) FROM events"
            " WHERE by = ? AND at >= ? AND mention_id IS NOT NULL"
            " AND (action = 'draft' OR (action = 'status' AND detail = 'done'))"
            " AND NOT EXISTS (SELECT 1 FROM undone u WHERE u.event_id = events.id)",
            (operator, to_ms(since)),
        )
        return int(count)

    async def team(self, stale_after_s: float = STALE_SECONDS) -> list[TeamMember]:
        """The team view: each live app with its selected mention's text and its operator's
        handled count this shift."""
        now = utcnow()
        members = []
        for presence in await self.present(stale_after_s):
            text = None
            if presence.mention_id is not None:
                row = await self._one(
                    f"SELECT {head('text', TEAM_TEXT_CHARS)} FROM mentions WHERE id = ?",
                    (presence.mention_id,),
                )
                text = clip(row[0], TEAM_TEXT_CHARS) if row else None
            start = shift_start(presence.started_at, now)
            handled = await self.handled(presence.operator, start)
            members.append(TeamMember(presence, text, handled, start))
        return members

    async def content_stamp(self) -> tuple[int, int, int, int]:
        """What changes when the list's or the detail pane's data does, and not when only
        presence does (cheap: each part is one index probe, drafts are few)."""
        row = await self._one(
            "SELECT (SELECT coalesce(max(id), 0) FROM mentions),"
            " (SELECT coalesce(max(id), 0) FROM events),"
            " (SELECT count(*) FROM drafts), (SELECT coalesce(max(updated_at), 0) FROM drafts)"
        )
        return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))
