"""``triage demo --db PATH`` feeds only a database of its own, and the demo stream records its
health in the store like a real source."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.model import IncomingMention, Score, utcnow
from tui.demo import ID_PREFIX, SOURCES, DemoStream, holds_only_demo, record_demo_batch
from tui.store import Store

NEUTRAL = Score(0.0, "neutral")


@pytest.fixture
def app_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the app's screen loop: record the database each demo run would open."""
    from tui.ui.app import TriageApp

    opened: list[Path] = []

    def run(self: TriageApp) -> None:
        opened.append(self.db_path)

    monkeypatch.setattr(TriageApp, "run", run)
    return opened


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM mentions").fetchone()[0])


def test_demo_refuses_a_database_holding_real_mentions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, app_runs: list[Path]
) -> None:
    db = tmp_path / "work.db"
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"external_id": "1", "text": "a real complaint"}) + "\n")
    assert main(["import", str(lines), "--db", str(db)]) == 0
    capsys.readouterr()
    code = main(["demo", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and app_runs == []
    assert err.count("\n") == 1 and str(db) in err
    assert "not from the demo" in err and "omit --db" in err and "new file" in err
    assert count(db) == 1  # nothing simulated was added


def test_demo_runs_on_its_own_database_again(tmp_path: Path, app_runs: list[Path]) -> None:
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db)]) == 0  # a new file is fine

    async def fill() -> None:
        async with await Store.open(db, "demo") as store:
            stream = DemoStream(seed=3)
            batch = stream.backlog(20)
            await store.add_mentions(batch, [NEUTRAL] * len(batch))

    asyncio.run(fill())
    assert main(["demo", "--db", str(db)]) == 0  # only demo mentions: fine
    assert app_runs == [db, db]


async def test_demo_mentions_are_told_from_real_ones(store: Store) -> None:
    assert await holds_only_demo(store)  # empty
    batch = DemoStream(seed=1).backlog(30)
    assert all(m.external_id.startswith(ID_PREFIX) and m.source in SOURCES for m in batch)
    await store.add_mentions(batch, [NEUTRAL] * len(batch))
    assert await holds_only_demo(store)
    real = IncomingMention("mastodon", "109876", "a real post")  # a demo network's name
    await store.add_mentions([real], [NEUTRAL])
    assert not await holds_only_demo(store)


async def test_demo_batches_are_recorded_as_source_health(store: Store) -> None:
    batch = DemoStream(seed=5).backlog(40)
    await store.add_mentions(batch, [NEUTRAL] * len(batch))
    await record_demo_batch(store, batch)
    states = {s.name: s for s in await store.source_states()}
    assert set(states) == {m.source for m in batch}
    hour_ago = utcnow() - timedelta(hours=1)
    total = 0
    for name, state in states.items():
        assert (state.state, state.kind) == ("ok", "demo")
        assert state.last_success is not None and state.last_error is None
        total += await store.mentions_since(name, hour_ago)
    assert total == 40
