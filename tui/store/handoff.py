"""Team work brought in by an import: follow-ups, notes and assignment (used by
``Store.restore_marks``, in its transaction).

Each restored change is an event by the importing user whose detail names the original author
and time (``original``), so a team can merge or move its work between databases and still see
who did what. Only what differs is written: importing the same file twice adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.model import iso, to_ms, utcnow
from tui.core.records import Marks, Origin

if TYPE_CHECKING:
    import aiosqlite

    from tui.store.store import Store


def _original(origin: Origin | None) -> dict[str, str] | None:
    return {"by": origin.by, "at": origin.at} if origin else None


async def restore_team_work(
    store: Store,
    db: aiosqlite.Connection,
    mention_id: int,
    marks: Marks,
    *,
    before: tuple[str | None, str, str] | None = None,
) -> tuple[int, int, int]:
    """Restore the follow-up, notes and assignment of ``marks``; returns how many of each
    (follow-ups, notes, assignments) changed.

    ``before``: the mention's operator label, status and joined tags before ``restore_marks``
    set them; the label, tags and status it restored are then named with their original
    authors in one ``imported`` event (their own events keep the plain detail that undo and
    the learned model read)."""
    if before is not None:
        await _name_originals(store, db, mention_id, marks, before)
    follow_ups = notes = assignments = 0
    follow = marks.follow_up
    if follow is not None:
        row = await store._one(
            "SELECT due_at, note, done FROM follow_ups WHERE mention_id = ?", (mention_id,)
        )
        wanted = (to_ms(follow.due_at), follow.note, int(follow.done))
        if row is None or tuple(row) != wanted:
            await db.execute(
                "INSERT INTO follow_ups(mention_id, due_at, note, done) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(mention_id) DO UPDATE SET due_at = excluded.due_at,"
                " note = excluded.note, done = excluded.done",
                (mention_id, *wanted),
            )
            await db.execute(
                "UPDATE mentions SET follow_up_due = ? WHERE id = ?",
                (None if follow.done else wanted[0], mention_id),
            )
            detail: dict[str, Any] = {"due_at": follow.due_at.isoformat(), "note": follow.note}
            detail["original"] = _original(follow.origin)
            if follow.done:
                await store._event(db, mention_id, "follow_up_done", detail)
            else:
                await store._event(db, mention_id, "follow_up", detail)
            follow_ups += 1
    for note in marks.notes:
        exists = await store._one(
            "SELECT 1 FROM notes WHERE mention_id = ? AND text = ? AND by = ? AND at = ?",
            (mention_id, note.text, note.by, to_ms(note.at)),
        )
        if exists is None:
            await store._insert_note(
                db,
                mention_id,
                note.text,
                note.at,
                by=note.by,
                detail={"text": note.text, "original": {"by": note.by, "at": iso(note.at)}},
            )
            notes += 1
    if marks.assigned_to is not None:
        before = await store.assignee(mention_id)
        if before != marks.assigned_to:
            origin = marks.assigned
            await db.execute(
                "INSERT INTO mention_claims(mention_id, assigned_to, assigned_at, assigned_by)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(mention_id) DO UPDATE SET"
                " assigned_to = excluded.assigned_to, assigned_at = excluded.assigned_at,"
                " assigned_by = excluded.assigned_by",
                (mention_id, marks.assigned_to, to_ms(utcnow()), store.operator),
            )
            await store._event(
                db,
                mention_id,
                "assign",
                {"to": marks.assigned_to, "from": before, "original": _original(origin)},
            )
            assignments += 1
    return follow_ups, notes, assignments


async def _name_originals(
    store: Store,
    db: aiosqlite.Connection,
    mention_id: int,
    marks: Marks,
    before: tuple[str | None, str, str],
) -> None:
    from tui.store.store import _split_tags

    label, status, joined = before
    changed: list[tuple[str, str]] = []
    if marks.operator_label is not None and marks.operator_label != label:
        changed.append(("label", marks.operator_label))
    present = set(_split_tags(joined))
    changed += [("tag", tag) for tag in dict.fromkeys(marks.tags) if tag not in present]
    if marks.status is not None and marks.status != status:
        changed.append(("status", marks.status))
    named = []
    for action, detail in changed:
        origin = marks.origin(action, detail)
        if origin is not None:
            named.append({"action": action, "detail": detail, "by": origin.by, "at": origin.at})
    if named:
        await store._event(db, mention_id, "imported", {"original": named})
