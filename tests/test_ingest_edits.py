"""Edited posts through ingest (imports, the JSON Lines bridge, any source): the same source and
external id with a new text is stored as a new version, rescored, the earlier text kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.model import Filter, IncomingMention
from tui.core.sentiment import Scorer
from tui.ingest import BATCH, Ingestor
from tui.store import Store


def write_lines(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_an_edited_import_line_is_stored_as_a_new_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "m.db")
    first = write_lines(
        tmp_path / "v1.jsonl",
        [
            {"external_id": "1", "text": "Thanks, the refund arrived, lovely service!"},
            {"external_id": "2", "text": "Where is my parcel?"},
        ],
    )
    assert main(["import", str(first), "--db", db]) == 0
    assert "imported 2 new mentions" in capsys.readouterr().err
    second = write_lines(
        tmp_path / "v2.jsonl",
        [
            {"external_id": "1", "text": "Edit: the refund bounced, terrible, awful service"},
            {"external_id": "2", "text": "Where is my parcel?"},
            {"external_id": "3", "text": "A new one"},
        ],
    )
    assert main(["import", str(second), "--db", db]) == 0
    err = capsys.readouterr().err
    assert (
        "imported 1 new mentions (2 already present: 1 updated with new text, 1 unchanged;"
        " 0 lines skipped, 0 imported without the operators' work on them)" in err
    )
    with sqlite3.connect(db) as conn:
        text, label = conn.execute(
            "SELECT text, label FROM mentions WHERE external_id = '1'"
        ).fetchone()
        versions = conn.execute("SELECT text FROM versions").fetchall()
        edits = conn.execute("SELECT count(*) FROM events WHERE action = 'edited'").fetchone()
    assert text.startswith("Edit: the refund bounced") and label == "negative"  # rescored
    assert versions == [("Thanks, the refund arrived, lovely service!",)]
    assert edits == (1,)
    assert main(["import", str(second), "--db", db]) == 0  # once more: nothing changes
    assert "(3 already present: 0 updated with new text, 3 unchanged;" in capsys.readouterr().err


async def test_search_and_the_mention_follow_the_edit(store: Store) -> None:
    ingestor = Ingestor(store, Scorer())
    (mid,) = await ingestor.ingest([IncomingMention("bridge", "a", "courier lovely today")])
    result = await ingestor.ingest_counted([IncomingMention("bridge", "a", "courier rude today")])
    assert (result.added, result.updated, result.unchanged) == ([], [mid], 0)
    assert await store.page_before(Filter(search="rude"), None, 5)
    assert not await store.page_before(Filter(search="lovely"), None, 5)
    mention = await store.mention(mid)
    assert mention is not None and [v.text for v in mention.versions] == ["courier lovely today"]
    assert mention.score.label == "negative"


async def test_a_post_and_its_edit_in_one_batch_keep_their_order(store: Store) -> None:
    ingestor = Ingestor(store, Scorer())
    result = await ingestor.ingest_counted(
        [
            IncomingMention("bridge", "a", "first words"),
            IncomingMention("bridge", "b", "another post"),
            IncomingMention("bridge", "a", "second words"),
            IncomingMention("bridge", "a", "second words"),
        ]
    )
    assert (len(result.added), len(result.updated), result.unchanged) == (2, 1, 1)
    mention = await store.mention(result.added[0])
    assert mention is not None and mention.text == "second words"
    assert [v.text for v in mention.versions] == ["first words"]


async def test_edits_are_found_with_one_query_per_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = BATCH + 100
    posts = [IncomingMention("bridge", str(n), f"post number {n}") for n in range(count)]
    ingestor = Ingestor(store, Scorer())
    assert len(await ingestor.ingest(posts)) == count
    calls: list[int] = []
    edited = store.edited

    async def counted(mentions):  # type: ignore[no-untyped-def]
        calls.append(len(mentions))
        return await edited(mentions)

    monkeypatch.setattr(store, "edited", counted)
    again = [
        IncomingMention("bridge", str(n), f"post number {n}" + (" (edited)" if n % 2 else ""))
        for n in range(count)
    ]
    result = await ingestor.ingest_counted(again)
    assert calls == [BATCH, 100]  # one lookup per batch, not one per mention
    assert len(result.updated) == count // 2 and result.added == []
    assert result.unchanged == count - count // 2
    (versions,) = await store._one("SELECT count(*) FROM versions")
    assert versions == count // 2
