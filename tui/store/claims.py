"""Who holds each mention, and what changed on one since a moment (part of ``Store``).

A claim is a row of ``mention_claims`` written in one ``BEGIN IMMEDIATE`` transaction with a
compare-and-set (``UPDATE … WHERE assigned_to IS NULL OR assigned_to = ?``): when two
operators take the same mention at the same moment, exactly one update changes the row, and
the other learns who won. Each change is an event (``claim``, ``assign``, ``unassign``) whose
detail names the holder before and after, so it can be undone.

``changes_since`` is what the reply editor asks before a reply is saved, copied or marked
done: what other operators did to the mention since the editor opened, and whether the post
was edited or deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.core.model import Filter, from_ms, to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

WATCHED_ACTIONS = (
    "draft",
    "status",
    "claim",
    "assign",
    "unassign",
    "reply_copied",
)
"""Events by another operator that the reply editor warns about."""


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The outcome of a claim or assignment."""

    won: bool
    """The change was made (or the mention was already held as asked)."""
    holder: str | None
    """Who holds the mention now."""
    previous: str | None
    """Who held it before (when ``won``), or who holds it instead (when not)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happened to a mention, for the reply editor's warning."""

    at: datetime
    by: str
    what: str
    """What happened, in words: ``saved a reply draft``, ``marked it done``, ``edited``."""


class ClaimQueries(StoreBase):
    """Store methods for claims, assignment and the reply collision guard."""

    def _assignment(self, filt: Filter, key: str, params: list[Any]) -> str:
        """The WHERE condition of ``filt.assignment`` (``key``: the driving id column; the
        claims table drives as ``c`` for ``mine`` and ``assigned``)."""
        if filt.assignment == "mine":
            params.append(self.operator)
            if key == "c.mention_id":
                return "c.assigned_to = ?"
            return "m.id IN (SELECT mention_id FROM mention_claims WHERE assigned_to = ?)"
        if filt.assignment == "assigned":
            if key == "c.mention_id":
                return "c.assigned_to IS NOT NULL"
            return "m.id IN (SELECT mention_id FROM mention_claims WHERE assigned_to IS NOT NULL)"
        if filt.assignment == "unassigned":
            return (
                "NOT EXISTS (SELECT 1 FROM mention_claims h"
                " WHERE h.mention_id = m.id AND h.assigned_to IS NOT NULL)"
            )
        raise ValueError(f"unknown assignment {filt.assignment!r}")

    async def assignee(self, mention_id: int) -> str | None:
        row = await self._one(
            "SELECT assigned_to FROM mention_claims WHERE mention_id = ?", (mention_id,)
        )
        return row[0] if row else None

    async def claim(self, mention_id: int, *, taking_from: str | None = None) -> ClaimResult:
        """Take the mention for this store's operator when nobody holds it (or they already
        do, or ``taking_from`` still does: the operator was asked and agreed to take it over).
        Otherwise nothing changes and the result names the holder."""
        return await self._set_holder(mention_id, self.operator, expected=taking_from)

    async def assign(
        self, mention_id: int, operator: str | None, *, expected: str | None = None
    ) -> ClaimResult:
        """Give the mention to ``operator`` (None: release it) if it is still held by
        ``expected`` (what the operator saw; None: nobody), or already by ``operator``."""
        operator = operator.strip() if operator else None
        if operator == "":
            raise ValueError("no operator named; type a name or escape to cancel")
        return await self._set_holder(mention_id, operator or None, expected=expected)

    async def _set_holder(
        self, mention_id: int, holder: str | None, *, expected: str | None
    ) -> ClaimResult:
        async def body(db: aiosqlite.Connection) -> ClaimResult:
            if await self._one("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)) is None:
                raise KeyError(f"no mention {mention_id}")
            before = await self.assignee(mention_id)
            if before == holder:
                return ClaimResult(True, holder, before)
            now = to_ms(utcnow())
            await db.execute(
                "INSERT OR IGNORE INTO mention_claims(mention_id, assigned_to, assigned_at,"
                " assigned_by) VALUES (?, NULL, ?, ?)",
                (mention_id, now, self.operator),
            )
            taking = holder == self.operator
            cursor = await db.execute(
                "UPDATE mention_claims SET assigned_to = ?, assigned_at = ?, assigned_by = ?"
                " WHERE mention_id = ? AND (assigned_to IS NULL AND ? OR assigned_to = ?"
                " OR assigned_to IS ?)",
                (holder, now, self.operator, mention_id, taking, holder, expected),
            )
            if cursor.rowcount != 1:
                return ClaimResult(False, before, before)
            if holder is None:
                action = "unassign"
            elif taking:
                action = "claim"
            else:
                action = "assign"
            await self._event(db, mention_id, action, {"to": holder, "from": before})
            return ClaimResult(True, holder, before)

        return await self._transaction(body)

    async def reply_copied(self, mention_id: int) -> None:
        """The operator copied a reply to send it: an event, so others' editors warn."""

        async def body(db: aiosqlite.Connection) -> None:
            if await self._one("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)) is None:
                raise KeyError(f"no mention {mention_id}")
            await self._event(db, mention_id, "reply_copied")

        await self._transaction(body)

    async def operators(self) -> list[str]:
        """Every operator the database knows: whoever wrote an event or holds a mention."""
        # A skip scan over events_by: one probe per distinct operator.
        rows = await self._all(
            "WITH RECURSIVE o(name) AS ("
            " SELECT min(by) FROM events"
            " UNION ALL SELECT (SELECT min(by) FROM events WHERE by > o.name)"
            " FROM o WHERE o.name IS NOT NULL)"
            " SELECT name FROM o WHERE name IS NOT NULL"
            " UNION SELECT DISTINCT assigned_to FROM mention_claims"
            " WHERE assigned_to IS NOT NULL"
        )
        return sorted({r[0] for r in rows})

    async def changes_since(self, mention_id: int, since: datetime) -> list[Change]:
        """What others did to the mention after ``since`` (drafts saved, marked done, replied,
        taken or assigned), and edits or deletion of the post by anyone, oldest first."""
        bound = to_ms(since)
        marks = ",".join("?" * len(WATCHED_ACTIONS))
        changes: list[Change] = []
        drafted: set[str] = set()
        for at, by, action, detail in await self._all(
            "SELECT at, by, action, detail FROM events WHERE mention_id = ? AND at > ?"
            f" AND by <> ? AND action IN ({marks}) ORDER BY id",
            (mention_id, bound, self.operator, *WATCHED_ACTIONS),
        ):
            if action == "draft":
                drafted.add(by)
            changes.append(Change(from_ms(at), by, _describe(action, detail, self.operator)))
        for at, by in await self._all(
            "SELECT updated_at, by FROM drafts WHERE mention_id = ? AND updated_at > ? AND by <> ?",
            (mention_id, bound, self.operator),
        ):
            if by not in drafted:
                changes.append(Change(from_ms(at), by, "is writing a reply (draft saved)"))
        for (at,) in await self._all(
            "SELECT replaced_at FROM versions WHERE mention_id = ? AND replaced_at > ?",
            (mention_id, bound),
        ):
            changes.append(Change(from_ms(at), "the author", "edited the post"))
        row = await self._one(
            "SELECT deleted_at FROM mentions WHERE id = ? AND deleted_at > ?", (mention_id, bound)
        )
        if row is not None:
            changes.append(Change(from_ms(row[0]), "the author", "deleted the post"))
        return sorted(changes, key=lambda c: c.at)


def _describe(action: str, detail: str, me: str) -> str:
    def holder() -> str | None:
        try:
            value = json.loads(detail)
        except ValueError:
            return None
        return value.get("to") if isinstance(value, dict) else None

    if action == "draft":
        return "saved a reply draft"
    if action == "status":
        return "marked it done" if detail == "done" else "reopened it"
    if action == "claim":
        return "took it"
    if action == "assign":
        to = holder()
        return "assigned it to you" if to == me else f"assigned it to {to}"
    if action == "unassign":
        return "released it"
    if action == "reply_copied":
        return "copied a reply (replied)"
    return action
