"""Internal team notes on a mention (part of ``Store``).

A note is for the team, never part of a reply. Notes are append-only rows of ``notes`` (a
trigger refuses UPDATE and DELETE), each written with its ``note`` event in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.core.model import Note, to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

NOTE_CHARS = 4_000
"""The longest note kept."""


class NoteQueries(StoreBase):
    """Store methods for team notes."""

    async def add_note(self, mention_id: int, text: str) -> Note:
        """Add a note by this store's operator; ValueError if it is empty."""
        text = text.strip()
        if not text:
            raise ValueError("the note is empty; type it or escape to cancel")
        text = text[:NOTE_CHARS]
        at = utcnow()
        return await self._transaction(lambda db: self._insert_note(db, mention_id, text, at))

    async def _insert_note(
        self,
        db: aiosqlite.Connection,
        mention_id: int,
        text: str,
        at: datetime,
        *,
        by: str | None = None,
        detail: Any = None,
    ) -> Note:
        """Insert a note (``by`` another author: an imported note) with its event."""
        if await self._one("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)) is None:
            raise KeyError(f"no mention {mention_id}")
        author = by or self.operator
        await db.execute(
            "INSERT INTO notes(mention_id, at, by, unix_user, text) VALUES (?, ?, ?, ?, ?)",
            (mention_id, to_ms(at), author, self.unix_user, text),
        )
        await self._event(db, mention_id, "note", detail if detail is not None else text)
        return Note(text, at, author)
