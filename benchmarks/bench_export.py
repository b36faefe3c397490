"""``triage export``'s throughput, against a plain read of the same rows in the same run.

Run by hand (not by pytest)::

    python benchmarks/bench_export.py [--mentions 10000] [--repeats 3]

Builds a database in a temporary directory: ``--mentions`` posts from ``corpus.posts``, stored
through the import (``tui.exchange.import_file``, so scored by the app's scorer), then the
operators' work on a share of them through the Store API: a tag on every third, a note on
every fifth, a follow-up on every seventh, a status and an operator label on every fourth
(each an event), a draft on every eleventh, a snapshot on every thirteenth. Then it times, each
the best of ``--repeats``:

* the baseline: one ``SELECT`` of the mentions' own columns over the store's connection, each
  row written as JSON (what an export cannot do with less);
* ``export`` to JSON Lines and to CSV (``tui.exchange.export`` into memory), counting the
  store's queries (``Store._one`` and ``Store._all`` calls).

The ratio export / baseline is what reading every mention's tags, notes, events, snapshots,
drafts, versions, follow-up, clock, claim, model, link and reach costs on top.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus

from tui.config import Config
from tui.core.model import Filter, utcnow
from tui.exchange import export, import_file
from tui.ingest import Ingestor, make_scorer
from tui.store import Store


async def build(path: Path, count: int) -> None:
    source = path.with_suffix(".jsonl")
    start = utcnow() - timedelta(days=30)
    with source.open("w", encoding="utf-8") as out:
        for n, post in enumerate(corpus.posts(count, seed=7)):
            record = {
                "source": post.source,
                "external_id": str(n),
                "author": post.author,
                "text": post.text,
                "created_at": (start + timedelta(seconds=n * 60)).isoformat(),
                "url": f"https://example.org/{n}",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    store = await Store.open(path, "bench")
    try:
        ingestor = Ingestor(store, make_scorer(Config()), "off")
        await import_file(ingestor, source)
        ids = await store.mention_ids(Filter())
        for n, mention_id in enumerate(ids):
            if n % 3 == 0:
                await store.add_tag(mention_id, "billing" if n % 2 else "delivery")
            if n % 5 == 0:
                await store.add_note(mention_id, f"called back, case {n}")
            if n % 7 == 0:
                await store.set_follow_up(mention_id, utcnow() + timedelta(days=1), "check")
            if n % 4 == 0:
                await store.set_status(mention_id, "done")
                await store.set_operator_label(mention_id, "negative")
            if n % 11 == 0:
                await store.save_draft(mention_id, "Hi, sorry about that.")
            if n % 13 == 0:
                await store.add_snapshots([mention_id])
    finally:
        await store.close()
    source.unlink()


async def baseline(store: Store) -> int:
    rows = await store._all(
        "SELECT id, source, external_id, url, author, text, created_at, collected_at, language,"
        " compound, label, reasons, operator_label, status, tags, deleted_at FROM mentions"
        " ORDER BY created_at, id"
    )
    out = io.StringIO()
    for row in rows:
        out.write(json.dumps(list(row), ensure_ascii=False) + "\n")
    return len(rows)


def counting(store: Store) -> list[int]:
    """Count the store's queries from now on (``Store._one`` and ``Store._all``)."""
    calls = [0]
    for name in ("_one", "_all"):
        original = getattr(store, name)

        def counted(*args: Any, _original: Any = original) -> Any:
            calls[0] += 1
            return _original(*args)

        setattr(store, name, counted)
    return calls


async def best(repeats: int, run: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(repeats):
        started = time.perf_counter()
        count = await run()
        times.append(time.perf_counter() - started)
    return min(times), count


async def main_async(count: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        await build(path, count)
        print(f"built {count:,} mentions in {time.perf_counter() - started:.1f} s")
        store = await Store.open(path, "bench", read_only=True)
        try:
            base, rows = await best(repeats, lambda: baseline(store))
            print(f"{'plain SELECT + json':<22} {rows / base:>10,.0f} mentions/s  {base:.3f} s")
            for fmt in ("jsonl", "csv"):
                calls = counting(store)

                async def run(fmt: str = fmt) -> int:
                    return await export(store, io.StringIO(), fmt=fmt)

                seconds, written = await best(repeats, run)
                per = calls[0] / repeats / max(written, 1)
                print(
                    f"{'export ' + fmt:<22} {written / seconds:>10,.0f} mentions/s  "
                    f"{seconds:.3f} s  {per:.2f} queries/mention  ratio {seconds / base:.1f}x"
                )
                del store._one, store._all  # (the counting wrappers)
        finally:
            await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.mentions, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
