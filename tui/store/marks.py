"""Operator marks brought in by an import: labels, tags and status (part of ``Store``).

An export carries what the team did to each mention (``sentiment.operator_label``, ``tags``,
``status``); importing it restores them, each as an event by the importing user, exactly as
if that user had pressed the keys, so a team can seed the learned model with labels it already
has. Only what differs is written: importing the same file twice adds no events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.records import Marks
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite


@dataclass(frozen=True, slots=True)
class Restored:
    """What ``restore_marks`` changed."""

    labels: int = 0
    tags: int = 0
    statuses: int = 0
    missing: int = 0
    """Marks whose mention is not stored (nothing to put them on)."""
    follow_ups: int = 0
    notes: int = 0
    assignments: int = 0

    def __add__(self, other: Restored) -> Restored:
        return Restored(
            self.labels + other.labels,
            self.tags + other.tags,
            self.statuses + other.statuses,
            self.missing + other.missing,
            self.follow_ups + other.follow_ups,
            self.notes + other.notes,
            self.assignments + other.assignments,
        )


class MarkQueries(StoreBase):
    """Store methods that restore imported operator marks."""

    async def restore_marks(self, items: Sequence[tuple[str, str, Marks]]) -> Restored:
        """Apply (source, external id, marks) to the stored mentions, in one transaction:
        an operator label that differs is set, missing tags are added (none removed), a
        status that differs is set; each change with its event by this store's operator."""
        from tui.store.handoff import restore_team_work
        from tui.store.store import _join_tags, _split_tags

        async def body(db: aiosqlite.Connection) -> Restored:
            labels = tags = statuses = missing = 0
            team = [0, 0, 0]  # follow-ups, notes, assignments (tui/store/handoff.py)
            for source, external_id, marks in items:
                row = await self._one(
                    "SELECT id, operator_label, status, tags FROM mentions"
                    " WHERE source = ? AND external_id = ?",
                    (source, external_id),
                )
                if row is None:
                    missing += 1
                    continue
                mention_id, label, status, joined = row
                if marks.operator_label is not None and marks.operator_label != label:
                    await db.execute(
                        "UPDATE mentions SET operator_label = ? WHERE id = ?",
                        (marks.operator_label, mention_id),
                    )
                    await self._event(db, mention_id, "label", marks.operator_label)
                    labels += 1
                present = set(_split_tags(joined))
                added = [tag for tag in dict.fromkeys(marks.tags) if tag not in present]
                if added:
                    await db.executemany(
                        "INSERT OR IGNORE INTO mention_tags(tag, mention_id) VALUES (?, ?)",
                        [(tag, mention_id) for tag in added],
                    )
                    await db.execute(
                        "UPDATE mentions SET tags = ? WHERE id = ?",
                        (_join_tags(present | set(added)), mention_id),
                    )
                    for tag in added:
                        await self._event(db, mention_id, "tag", tag)
                    tags += len(added)
                if marks.status is not None and marks.status != status:
                    await db.execute(
                        "UPDATE mentions SET status = ? WHERE id = ?", (marks.status, mention_id)
                    )
                    await self._event(db, mention_id, "status", marks.status)
                    statuses += 1
                done = await restore_team_work(
                    self,  # type: ignore[arg-type]
                    db,
                    mention_id,
                    marks,
                    before=(label, status, joined),
                )
                team = [a + b for a, b in zip(team, done, strict=True)]
            return Restored(labels, tags, statuses, missing, *team)

        return await self._transaction(body)
