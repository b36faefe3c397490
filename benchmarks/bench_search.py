"""Search queries at the store, before and after the prefix changes, on the same data.

Run by hand (not by pytest)::

    python benchmarks/bench_search.py [--rows 1000000] [--small 1000]

For each search (common and rare words, a phrase, and every prefix typed on the way to a word)
it times the store calls the list makes while a search is active: ``page_before`` from the
newest row and from deep in the table, ``page_after`` and ``count_newer`` over the newest 3,000
rows. Three ways of running the same search over the same rows:

* ``store``: ``Store`` as it is (prefix indexes, long prefixes as an OR of their words);
* ``fts5 prefix``: the same index, the last word left to FTS5 as ``"word"*``;
* ``before``: the index as it was before schema 6 (no prefix indexes) with the query the store
  built then (every word quoted, the last one ``"word"*`` from three characters on). This needs
  a copy of the database with the old index, built once and cached beside the database.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_app
import bench_fill

from tui.store.search import parse

PAGE = 100


def old_query(text: str) -> str | None:
    """The query the store built before schema 6, for the "before" column."""
    words = text.split()
    terms = ['"' + word.replace('"', '""') + '"' for word in words]
    if words and len(words[-1]) >= 3:
        terms[-1] += "*"
    return " ".join(terms) or None


def fts5_prefix_query(text: str) -> str | None:
    """The store's query with the last prefix left to FTS5 (no expansion)."""
    from tui.store.search import fts_query

    search = parse(text)
    return fts_query(search) if search else None


def without_prefix_indexes(db: Path) -> Path:
    """A copy of ``db`` whose search index is as before schema 6 (cached)."""
    target = db.with_name(db.stem + "-noprefix.db")
    if target.exists():
        return target
    building = target.with_suffix(".building")
    shutil.copyfile(db, building)
    con = sqlite3.connect(building, isolation_level=None)
    con.executescript(
        """
        BEGIN;
        DROP TABLE mentions_fts;
        CREATE VIRTUAL TABLE mentions_fts USING fts5(
            text, author, content='mentions', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild');
        COMMIT;
        """
    )
    con.close()
    building.rename(target)
    return target


def _sql_timer(db: Path, build: Callable[[str], str | None], repeats: int):  # type: ignore[no-untyped-def]
    con = sqlite3.connect(db)
    con.execute("PRAGMA cache_size = -16000")
    top = con.execute("SELECT max(id) FROM mentions").fetchone()[0]
    join = "FROM mentions_fts f CROSS JOIN mentions m ON m.id = f.rowid WHERE mentions_fts MATCH ?"
    sql = {
        "newest": f"SELECT m.id, substr(m.text, 1, 400) {join} AND f.rowid < ?"
        " ORDER BY f.rowid DESC LIMIT ?",
        "deep": f"SELECT m.id, substr(m.text, 1, 400) {join} AND f.rowid < ?"
        " ORDER BY f.rowid DESC LIMIT ?",
        "after": f"SELECT m.id, substr(m.text, 1, 400) {join} AND f.rowid > ?"
        " ORDER BY f.rowid ASC LIMIT ?",
        "count_newer": f"SELECT count(*) FROM (SELECT 1 {join} AND f.rowid > ?"
        " ORDER BY f.rowid ASC LIMIT ?)",
    }
    bounds = {
        "newest": (2**62, PAGE),
        "deep": (top // 10, PAGE),
        "after": (top // 2, PAGE),
        "count_newer": (top - 3000, 10_000),
    }

    def timed(text: str) -> dict[str, float]:
        query = build(text)
        out = {}
        for call, statement in sql.items():
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                if query is not None:
                    con.execute(statement, (query, *bounds[call])).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            out[call] = statistics.median(times)
        return out

    return timed


async def _store_times(db: Path, texts: list[str], repeats: int) -> dict[str, dict[str, float]]:
    from tui.core.model import Filter
    from tui.store import Store

    store = await Store.open(db, "bench")
    top = await store.max_id()
    out = {}
    for text in texts:
        filt = Filter(search=text)
        calls = {
            "newest": lambda f=filt: store.page_before(f, None, PAGE),
            "deep": lambda f=filt: store.page_before(f, top // 10, PAGE),
            "after": lambda f=filt: store.page_after(f, top // 2, PAGE),
            "count_newer": lambda f=filt: store.count_newer(f, top - 3000),
        }
        out[text] = {}
        for call, run in calls.items():
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                await run()
                times.append((time.perf_counter() - started) * 1000)
            out[text][call] = statistics.median(times)
    await store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="median of this many calls")
    parser.add_argument("--skip-before", action="store_true", help="no copy with the old index")
    args = parser.parse_args()
    built_all = {size: bench_fill.build(size) for size in (args.small, args.rows)}
    bench_app.choose_rare_terms(built_all[args.small].path, built_all[args.rows].path)
    texts = [*bench_app.COMMON_TERMS, *bench_app.rare_terms(), *bench_app.typed_prefixes()]
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for size, built in built_all.items():
        results[str(size)] = {"store": asyncio.run(_store_times(built.path, texts, args.repeats))}
        timer = _sql_timer(built.path, fts5_prefix_query, args.repeats)
        results[str(size)]["fts5 prefix"] = {text: timer(text) for text in texts}
        if not args.skip_before:
            timer = _sql_timer(without_prefix_indexes(built.path), old_query, args.repeats)
            results[str(size)]["before"] = {text: timer(text) for text in texts}
        print(f"{size:,} rows done", flush=True)
    ways = list(results[str(args.rows)])
    calls = ("newest", "deep", "after", "count_newer")
    print(f"\nms, median of {args.repeats}; large = {args.rows:,} rows, baseline = {args.small:,}")
    header = "| search | " + " | ".join(f"{w} newest / deep / after / count" for w in ways)
    print(header + " |")
    print("|---" * (len(ways) + 1) + "|")
    for text in texts:
        cells = []
        for way in ways:
            large = results[str(args.rows)][way][text]
            cells.append(" / ".join(f"{large[c]:.1f}" for c in calls))
        print(f"| `{text}` | " + " | ".join(cells) + " |")
    print("\nworst of each way over all searches and calls (large vs baseline):")
    for way in ways:
        for size in (args.rows, args.small):
            worst = max(v for t in texts for v in results[str(size)][way][t].values())
            print(f"  {way:12} {size:>9,} rows: {worst:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
