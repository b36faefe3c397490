"""Undo the operator's last action (part of ``Store``).

Events stay append-only: an undo is a new ``undo`` event whose detail names the event it took
back (``undid``), its action and detail, and the value it put back (``restored``); the pair is
also a row of ``undone``, so the next undo goes one action further back. The value before an
action is found in the mention's history: the latest earlier event that set the same thing
(an undo of that kind counts with the value it restored).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.core.model import to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

UNDOABLE = (
    "tag",
    "untag",
    "status",
    "label",
    "follow_up",
    "follow_up_done",
    "claim",
    "assign",
    "unassign",
)
"""The actions ``u`` takes back."""

_FOLLOW_UP = ("follow_up", "follow_up_done")
_HOLDER = ("claim", "assign", "unassign")


@dataclass(frozen=True, slots=True)
class Undone:
    """What an undo took back."""

    mention_id: int
    action: str
    detail: str

    def describe(self) -> str:
        what = {
            "tag": "tag",
            "untag": "removing tag",
            "status": "status",
            "label": "label",
            "follow_up": "follow-up",
            "follow_up_done": "follow-up done",
            "claim": "claim",
            "assign": "assignment",
            "unassign": "release",
        }.get(self.action, self.action)
        detail = self.detail
        if self.action in _HOLDER or self.action in _FOLLOW_UP:
            detail = ""
        return f"{what} {detail}".strip()


def _json(detail: str) -> Any:
    try:
        return json.loads(detail)
    except ValueError:
        return None


class UndoQueries(StoreBase):
    """``Store.undo``."""

    async def undo(self) -> Undone | None:
        """Take back this operator's last action not yet undone (None: nothing to undo), in
        one transaction with its ``undo`` event."""
        marks = ",".join("?" * len(UNDOABLE))

        async def body(db: aiosqlite.Connection) -> Undone | None:
            row = await self._one(
                "SELECT id, mention_id, action, detail FROM events INDEXED BY events_by"
                f" WHERE by = ? AND action IN ({marks}) AND mention_id IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM undone u WHERE u.event_id = events.id)"
                " ORDER BY id DESC LIMIT 1",
                (self.operator, *UNDOABLE),
            )
            if row is None:
                return None
            event_id, mention_id, action, detail = row
            restored = await self._take_back(db, event_id, mention_id, action, detail)
            await self._event(
                db,
                mention_id,
                "undo",
                {"undid": event_id, "action": action, "detail": detail, "restored": restored},
            )
            (undo_id,) = await self._one("SELECT last_insert_rowid()")
            await db.execute(
                "INSERT INTO undone(event_id, undo_id) VALUES (?, ?)", (event_id, undo_id)
            )
            return Undone(mention_id, action, detail)

        return await self._transaction(body)

    async def _reopen_clock(self, db: aiosqlite.Connection, event_id: int, mention_id: int) -> None:
        """Undoing a ``done`` takes back the first response it counted as, unless another
        answer stands: a reply sent or copied, or another ``done`` not undone."""
        await db.execute(
            "UPDATE mention_sla SET answered_at = (SELECT min(e.at) FROM events e"
            " WHERE e.mention_id = ? AND e.id != ?"
            " AND (e.action IN ('replied', 'reply_copied')"
            " OR (e.action = 'status' AND e.detail = 'done'))"
            " AND NOT EXISTS (SELECT 1 FROM undone u WHERE u.event_id = e.id))"
            " WHERE mention_id = ?",
            (mention_id, event_id, mention_id),
        )

    async def _prior(
        self, mention_id: int, before_id: int, actions: Sequence[str]
    ) -> tuple[str, Any] | None:
        """The latest event before ``before_id`` that set one of ``actions`` on the mention:
        (action, detail), an undo of one of them as ("undo", what it restored)."""
        for action, detail in await self._all(
            "SELECT action, detail FROM events WHERE mention_id = ? AND id < ? ORDER BY id DESC",
            (mention_id, before_id),
        ):
            if action in actions:
                return action, detail
            if action == "undo":
                value = _json(detail)
                if isinstance(value, dict) and value.get("action") in actions:
                    return "undo", value.get("restored")
        return None

    async def _take_back(
        self, db: aiosqlite.Connection, event_id: int, mention_id: int, action: str, detail: str
    ) -> Any:
        """Put back what the event changed; returns the value put back."""
        from tui.store.store import _join_tags, _split_tags

        if action in ("tag", "untag"):
            (joined,) = await self._one("SELECT tags FROM mentions WHERE id = ?", (mention_id,))
            tags = set(_split_tags(joined))
            if action == "tag":
                tags.discard(detail)
                await db.execute(
                    "DELETE FROM mention_tags WHERE tag = ? AND mention_id = ?",
                    (detail, mention_id),
                )
            else:
                tags.add(detail)
                await db.execute(
                    "INSERT OR IGNORE INTO mention_tags(tag, mention_id) VALUES (?, ?)",
                    (detail, mention_id),
                )
            await db.execute(
                "UPDATE mentions SET tags = ? WHERE id = ?", (_join_tags(tags), mention_id)
            )
            return detail if action == "untag" else None
        if action == "status":
            prior = await self._prior(mention_id, event_id, ("status",))
            status = prior[1] if prior and prior[1] in ("new", "done") else "new"
            await db.execute("UPDATE mentions SET status = ? WHERE id = ?", (status, mention_id))
            if detail == "done" and status != "done":
                await self._reopen_clock(db, event_id, mention_id)
            return status
        if action == "label":
            prior = await self._prior(mention_id, event_id, ("label",))
            label = prior[1] if prior else None
            if label in ("cleared", ""):
                label = None
            await db.execute(
                "UPDATE mentions SET operator_label = ? WHERE id = ?", (label, mention_id)
            )
            return label
        if action in _FOLLOW_UP:
            return await self._restore_follow_up(db, event_id, mention_id, action)
        value = _json(detail)
        holder = value.get("from") if isinstance(value, dict) else None
        now = to_ms(utcnow())
        await db.execute(
            "INSERT INTO mention_claims(mention_id, assigned_to, assigned_at, assigned_by)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(mention_id) DO UPDATE SET"
            " assigned_to = excluded.assigned_to, assigned_at = excluded.assigned_at,"
            " assigned_by = excluded.assigned_by",
            (mention_id, holder, now, self.operator),
        )
        return holder

    async def _restore_follow_up(
        self, db: aiosqlite.Connection, event_id: int, mention_id: int, action: str
    ) -> Any:
        if action == "follow_up_done":
            row = await self._one(
                "SELECT due_at, note FROM follow_ups WHERE mention_id = ?", (mention_id,)
            )
            if row is None:
                return None
            await db.execute("UPDATE follow_ups SET done = 0 WHERE mention_id = ?", (mention_id,))
            await db.execute(
                "UPDATE mentions SET follow_up_due = ? WHERE id = ?", (row[0], mention_id)
            )
            return {"due_at": row[0], "note": row[1]}
        prior = await self._prior(mention_id, event_id, _FOLLOW_UP)
        earlier: Any = None
        if prior is not None:
            kind, value = prior
            if kind == "follow_up":
                earlier = _json(value)
            elif kind == "undo" and isinstance(value, dict):
                earlier = value
        if isinstance(earlier, dict) and earlier.get("due_at") is not None:
            due = earlier["due_at"]
            due_ms = due if isinstance(due, int) else _iso_ms(due)
            note = str(earlier.get("note") or "")
            await db.execute(
                "UPDATE follow_ups SET due_at = ?, note = ?, done = 0 WHERE mention_id = ?",
                (due_ms, note, mention_id),
            )
            await db.execute(
                "UPDATE mentions SET follow_up_due = ? WHERE id = ?", (due_ms, mention_id)
            )
            return {"due_at": due_ms, "note": note}
        await db.execute("DELETE FROM follow_ups WHERE mention_id = ?", (mention_id,))
        await db.execute("UPDATE mentions SET follow_up_due = NULL WHERE id = ?", (mention_id,))
        return None


def _iso_ms(text: str) -> int:
    from tui.core.records import parse_time

    return to_ms(parse_time(text))
