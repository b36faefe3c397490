"""Export reads mentions a batch at a time: each record still carries its own tags, notes,
history, follow-up, drafts and snapshots (across batch boundaries), and the number of queries
does not grow with one per table per mention."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui.cli import main
from tui.core.model import Filter
from tui.exchange import export
from tui.store import Store
from tui.store.store import MENTIONS_BATCH

COUNT = MENTIONS_BATCH * 2 + 7


def test_a_batched_export_keeps_each_mentions_own_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    start = datetime(2026, 11, 1, tzinfo=UTC)
    source.write_text(
        "".join(
            json.dumps(
                {
                    "external_id": str(n),
                    "text": f"post {n}",
                    "created_at": (start + timedelta(minutes=n)).isoformat(),
                }
            )
            + "\n"
            for n in range(COUNT)
        ),
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    assert main(["import", str(source), "--db", str(db)]) == 0
    marked = (0, MENTIONS_BATCH - 1, MENTIONS_BATCH, COUNT - 1)

    async def work() -> tuple[list[int], int]:
        store = await Store.open(db, "kim")
        try:
            ids = await store.mention_ids(Filter())
            for n in marked:
                await store.add_tag(ids[n], f"tag {n}")
                await store.add_note(ids[n], f"note {n}")
                await store.set_follow_up(ids[n], start + timedelta(days=n), f"call {n}")
                await store.save_draft(ids[n], f"draft {n}")
                await store.add_snapshots([ids[n]])
            calls = [0]
            for name in ("_one", "_all"):
                original = getattr(store, name)

                def counted(*args: Any, _original: Any = original) -> Any:
                    calls[0] += 1
                    return _original(*args)

                setattr(store, name, counted)

            assert await export(store, io.StringIO()) == COUNT
            return ids, calls[0]
        finally:
            await store.close()

    ids, queries = asyncio.run(work())
    # One round of queries per batch (a dozen tables), not a dozen per mention.
    assert queries <= 1 + 12 * 3, queries
    capsys.readouterr()
    out = tmp_path / "out.jsonl"
    assert main(["export", "--db", str(db), "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ids
    for n, record in enumerate(records):
        assert record["text"] == f"post {n}"
        if n in marked:
            assert record["tags"] == [f"tag {n}"]
            assert [note["text"] for note in record["notes"]] == [f"note {n}"]
            assert record["follow_up"]["note"] == f"call {n}"
            assert [d["text"] for d in record["drafts"]] == [f"draft {n}"]
            assert len(record["snapshots"]) == 1
            assert [e["action"] for e in record["history"]].count("tag") == 1
            assert all(e["by"] == "kim" for e in record["history"])
        else:
            assert record["tags"] == [] and record["notes"] == [] and record["follow_up"] is None
            assert record["drafts"] == [] and record["snapshots"] == [] and record["history"] == []
