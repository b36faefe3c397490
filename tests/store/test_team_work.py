"""Claims, assignment, notes, undo and the reply collision guard, on real SQLite."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tui.core.model import Filter, IncomingMention, Score, from_ms, utcnow
from tui.store import Store

NEG = Score(-0.6, "negative", ())


async def fill(store: Store, count: int) -> list[int]:
    mentions = [IncomingMention("demo", f"id{n}", f"text {n}", f"user{n}") for n in range(count)]
    return await store.add_mentions(mentions, [NEG] * count)


async def test_claim_race_between_two_connections_has_one_winner(db_path: Path) -> None:
    """Two processes' connections claim the same mentions at the same moment, each in its
    own BEGIN IMMEDIATE: for every mention exactly one wins, the other is told who."""
    alice = await Store.open(db_path, "alice")
    bob = await Store.open(db_path, "bob")
    try:
        ids = await fill(alice, 20)
        for mention_id in ids:
            a, b = await asyncio.gather(alice.claim(mention_id), bob.claim(mention_id))
            assert a.won != b.won, (mention_id, a, b)
            winner = "alice" if a.won else "bob"
            loser = b if a.won else a
            assert loser.holder == winner
            assert await alice.assignee(mention_id) == winner
        claims = [e for e in await alice.events() if e.action == "claim"]
        assert len(claims) == len(ids)  # one event per win, none for a loss
    finally:
        await alice.close()
        await bob.close()


async def test_taking_over_needs_the_holder_named(store: Store, db_path: Path) -> None:
    (mention_id,) = await fill(store, 1)
    bob = await Store.open(db_path, "bob")
    try:
        assert (await bob.claim(mention_id)).won
        refused = await store.claim(mention_id)
        assert not refused.won and refused.holder == "bob"
        taken = await store.claim(mention_id, taking_from="bob")
        assert taken.won and taken.previous == "bob"
        # bob's view is stale: he expects nobody to hold it, so his take-back fails
        assert not (await bob.assign(mention_id, "bob", expected=None)).won
        assert (await store.mention(mention_id)).assigned_to == "tester"  # type: ignore[union-attr]
    finally:
        await bob.close()


async def test_assignment_filters_and_row(store: Store, db_path: Path) -> None:
    ids = await fill(store, 6)
    await store.claim(ids[0])
    await store.assign(ids[1], "bob")
    await store.assign(ids[2], "bob")
    await store.assign(ids[2], None, expected="bob")  # released again
    mine = await store.page_before(Filter(assignment="mine"), None, 50)
    assert [r.id for r in mine] == [ids[0]] and mine[0].assigned_to == "tester"
    held = await store.page_before(Filter(assignment="assigned"), None, 50)
    assert [r.id for r in held] == [ids[1], ids[0]]
    free = await store.page_before(Filter(assignment="unassigned"), None, 50)
    assert [r.id for r in free] == [ids[5], ids[4], ids[3], ids[2]]
    assert [r.id for r in await store.page_after(Filter(assignment="mine"), -1, 5)] == [ids[0]]
    assert await store.operators() == ["bob", "tester"]
    with sqlite3.connect(db_path) as db:
        for assignment in ("mine", "assigned"):
            sql, params = store._filtered(Filter(assignment=assignment))  # type: ignore[arg-type]
            plan = db.execute(
                "EXPLAIN QUERY PLAN SELECT m.id " + sql.format(op="<", order="DESC"),
                [*params, 2**62, 50],
            ).fetchall()
            text = " ".join(str(r[-1]) for r in plan)
            assert "mention_claims_" in text and "TEMP B-TREE" not in text, text


async def test_notes_are_kept_and_append_only(store: Store, db_path: Path) -> None:
    (mention_id,) = await fill(store, 1)
    with pytest.raises(ValueError):
        await store.add_note(mention_id, "   ")
    await store.add_note(mention_id, "Customer is a journalist; escalate")
    mention = await store.mention(mention_id)
    assert mention is not None
    assert [(n.text, n.by) for n in mention.notes] == [
        ("Customer is a journalist; escalate", "tester")
    ]
    assert mention.events[-1].action == "note"
    with sqlite3.connect(db_path) as db, pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE notes SET text = 'x'")


async def test_undo_walks_back_each_kind_of_action(store: Store) -> None:
    (mention_id,) = await fill(store, 1)
    due = utcnow() + timedelta(hours=2)
    await store.add_tag(mention_id, "billing")
    await store.set_status(mention_id, "done")
    await store.set_operator_label(mention_id, "positive")
    await store.set_follow_up(mention_id, due, "call back")
    await store.claim(mention_id)
    undone = [await store.undo() for _ in range(5)]
    assert [u.action for u in undone if u] == ["claim", "follow_up", "label", "status", "tag"]
    mention = await store.mention(mention_id)
    assert mention is not None
    assert mention.assigned_to is None
    assert mention.follow_up is None
    assert mention.operator_label is None
    assert mention.status == "new"
    assert mention.tags == ()
    assert await store.undo() is None  # nothing left
    undo_events = [e for e in mention.events if e.action == "undo"]
    assert len(undo_events) == 5
    assert json.loads(undo_events[0].detail)["action"] == "claim"
    # every original event is still there: undo only appends
    assert [e.action for e in mention.events[:6]] == [
        "tag",
        "status",
        "label",
        "follow_up",
        "claim",
        "undo",
    ]


async def test_undo_restores_the_value_before(store: Store) -> None:
    (mention_id,) = await fill(store, 1)
    await store.set_operator_label(mention_id, "negative")
    await store.set_operator_label(mention_id, "positive")
    await store.remove_tag(mention_id, "nothing")  # no event: not undoable
    await store.undo()
    assert (await store.mention(mention_id)).operator_label == "negative"  # type: ignore[union-attr]
    await store.complete_follow_up(mention_id)
    await store.undo()  # follow-up done, with no follow-up: nothing to put back
    await store.undo()
    assert (await store.mention(mention_id)).operator_label is None  # type: ignore[union-attr]


async def test_undoing_done_reopens_the_response_clock_unless_a_reply_stands(
    store: Store,
) -> None:
    first, second = await fill(store, 2)

    async def answered(mention_id: int) -> datetime | None:
        mention = await store.mention(mention_id)
        assert mention is not None
        return mention.answered_at

    for mention_id in (first, second):
        await store.set_status(mention_id, "done")
        assert await answered(mention_id) is not None
    await store.undo()  # second's done
    assert await answered(second) is None
    assert (await store.overdue(utcnow() + timedelta(hours=2))) == 1  # second is late again
    await store.mark_replied(first)
    await store.undo()  # first's done: its reply still answers it
    assert (await store.mention(first)).status == "new"  # type: ignore[union-attr]
    (replied,) = await store._one(
        "SELECT at FROM events WHERE mention_id = ? AND action = 'replied'", (first,)
    )
    assert await answered(first) == from_ms(replied)
    await store.set_status(second, "done")  # done again after an undo: answered again
    assert await answered(second) is not None


async def test_undo_is_per_operator(store: Store, db_path: Path) -> None:
    (mention_id,) = await fill(store, 1)
    bob = await Store.open(db_path, "bob")
    try:
        await store.add_tag(mention_id, "mine")
        await bob.add_tag(mention_id, "bobs")
        undone = await store.undo()
        assert undone is not None and undone.detail == "mine"
        assert (await store.mention(mention_id)).tags == ("bobs",)  # type: ignore[union-attr]
    finally:
        await bob.close()


async def test_changes_since_names_what_others_did(store: Store, db_path: Path) -> None:
    ids = await fill(store, 1)
    (mention_id,) = ids
    opened = utcnow()
    await asyncio.sleep(0.01)
    await store.save_draft(mention_id, "my own draft")  # mine: never a warning
    assert await store.changes_since(mention_id, opened) == []
    bob = await Store.open(db_path, "bob")
    try:
        await bob.save_draft(mention_id, "typing", event=False)  # an autosave, no event
        await bob.set_status(mention_id, "done")
        await bob.claim(mention_id)
        await store.replace_text("demo", "id0", "text 0, edited", NEG, b"")
        await store.mark_deleted("demo", "id0")
    finally:
        await bob.close()
    changes = await store.changes_since(mention_id, opened)
    whats = [(c.by, c.what) for c in changes]
    assert ("bob", "marked it done") in whats
    assert ("bob", "took it") in whats
    assert ("bob", "is writing a reply (draft saved)") in whats
    assert ("the author", "edited the post") in whats
    assert ("the author", "deleted the post") in whats
    assert await store.changes_since(mention_id, utcnow()) == []
