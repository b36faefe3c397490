"""A post's link in its side table, and the open-negatives filter that matches the count."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.core.model import Filter, IncomingMention, Reason, Score
from tui.store import Store
from tui.store.schema import MIGRATIONS

NEG = Score(-0.6, "negative", (Reason("late", -1.5),))
POS = Score(0.7, "positive", (Reason("great", 3.1),))


def story(n: int, link: str | None = None) -> IncomingMention:
    return IncomingMention("hn", f"s{n}", f"story {n}", "pg", f"https://hn.example/{n}", link=link)


async def test_links_are_stored_beside_the_mention_and_read_back(
    store: Store, db_path: Path
) -> None:
    ids = await store.add_mentions(
        [story(1, "https://acme.example/launch"), story(2), story(3, "https://acme.example/b")],
        [POS] * 3,
    )
    links = [(m.link if m else "missing") for m in [await store.mention(i) for i in ids]]
    assert links == ["https://acme.example/launch", None, "https://acme.example/b"]
    light = await store.mention(ids[0], full=False)
    assert light is not None and light.link == "https://acme.example/launch"
    # A duplicate (same source and id) adds no row and keeps the first link.
    again = await store.add_mentions([story(1, "https://elsewhere.example/")], [POS])
    assert again == []
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT mention_id, link FROM mention_links ORDER BY mention_id")
        assert rows.fetchall() == [
            (ids[0], "https://acme.example/launch"),
            (ids[2], "https://acme.example/b"),
        ]
        columns = [row[1] for row in db.execute("PRAGMA table_info(mentions)")]
        assert columns[-1] == "raw" and "link" not in columns  # raw stays the last column


async def test_a_duplicate_inside_one_batch_keeps_one_link(store: Store) -> None:
    ids = await store.add_mentions(
        [story(7, "https://acme.example/1"), story(7, "https://acme.example/2")], [POS, POS]
    )
    assert len(ids) == 1
    mention = await store.mention(ids[0])
    assert mention is not None and mention.link == "https://acme.example/1"


async def test_the_link_migration_applies_to_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for number, script in enumerate(MIGRATIONS[:3]):
            db.executescript(script)
            db.execute(f"PRAGMA user_version = {number + 1}")
        db.execute(
            "INSERT INTO mentions(source, external_id, text, created_at, collected_at, label)"
            " VALUES ('hn', 'old', 'kept', 0, 0, 'neutral')"
        )
    store = await Store.open(path, "tester")
    try:
        old = await store.mention(1)
        assert old is not None and old.text == "kept" and old.link is None
        (new,) = await store.add_mentions([story(9, "https://acme.example/")], [POS])
        mention = await store.mention(new)
        assert mention is not None and mention.link == "https://acme.example/"
    finally:
        await store.close()


async def test_negatives_filter_shows_exactly_what_the_status_line_counts(store: Store) -> None:
    mentions = [IncomingMention("demo", f"m{n}", f"late parcel {n}", "u") for n in range(6)]
    ids = await store.add_mentions(mentions, [NEG, NEG, NEG, NEG, POS, POS])
    await store.set_status(ids[0], "done")  # a handled negative is not open
    await store.set_operator_label(ids[1], "neutral")  # the operator says it is not negative
    await store.set_operator_label(ids[4], "negative")  # the operator says it is
    await store.set_operator_label(ids[5], "negative")
    await store.set_status(ids[5], "done")
    shown = {row.id for row in await store.page_before(Filter(negative_only=True), None, 100)}
    assert shown == {ids[2], ids[3], ids[4]}
    assert (await store.counts()).negative_open == len(shown)
    assert await store.count_newer(Filter(negative_only=True), 0) == len(shown)


async def test_negatives_filter_pages_on_its_partial_index(store: Store, db_path: Path) -> None:
    sql, params = store._filtered(Filter(negative_only=True))
    query = "SELECT m.id " + sql.format(op="<", order="DESC")
    with sqlite3.connect(db_path) as db:
        plan = " ".join(
            row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {query}", [*params, 10**9, 50])
        )
    assert "mentions_negative_open" in plan
