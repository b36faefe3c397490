"""Storing mentions (``Store.add_mentions``), against the same store indexing the raw text.

Run by hand (not by pytest)::

    python benchmarks/bench_ingest.py [--mentions 20000] [--batch 200] [--repeats 3]

The search index holds each text as it shows (``tui.store.search.indexed``, the SQL function
``shown_text``), so that a word split by an invisible character or an escape sequence is found
by what it reads. That is a Python call per text and per author in the insert. The baseline,
in the same run and on the same posts, is the same store with ``shown_text`` replaced by one
that returns its argument: the ratio is what the cleaning costs on top of everything else a
batch does (scoring is done before, as the collector does). One post in ten carries a
zero-width space and an escape sequence, so the cleaning's slow path is taken too.

Each figure is the best of ``--repeats`` runs, each into a fresh database in a temporary
directory, the two kinds interleaved in alternating order. The baseline still calls a Python
function per value (one that does nothing), so the ratio is the cost of the cleaning itself;
against the code from before the change, with no function in the insert at all, compare two
checkouts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus

from tui.core.model import IncomingMention, Score
from tui.store import Store


def mentions(count: int, run: int) -> list[IncomingMention]:
    out = []
    for n, post in enumerate(corpus.posts(count, seed=11)):
        text = post.text + (" ref\u200bund \x1b[1mnow\x1b[0m" if n % 10 == 0 else "")
        out.append(IncomingMention(post.source, f"{run}-{n}", text, post.author))
    return out


async def one_run(posts: list[IncomingMention], batch: int, *, raw: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "bench.db", "bench")
        try:
            if raw:
                await store._db.create_function("shown_text", 1, lambda t: t, deterministic=True)
            scores = [Score(0.0, "neutral", ())] * batch
            started = time.perf_counter()
            for at in range(0, len(posts), batch):
                chunk = posts[at : at + batch]
                await store.add_mentions(chunk, scores[: len(chunk)])
            return time.perf_counter() - started
        finally:
            await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    best = {"raw": float("inf"), "shown": float("inf")}
    for run in range(args.repeats):
        posts = mentions(args.mentions, run)
        for kind in ("raw", "shown") if run % 2 == 0 else ("shown", "raw"):
            seconds = await one_run(posts, args.batch, raw=kind == "raw")
            best[kind] = min(best[kind], seconds)
    rate = {kind: args.mentions / seconds for kind, seconds in best.items()}
    print(f"{args.mentions:,} mentions in batches of {args.batch}, best of {args.repeats}")
    print(f"  index of the raw text (baseline): {rate['raw']:,.0f} mentions/s")
    print(f"  index of the text as it shows:    {rate['shown']:,.0f} mentions/s")
    print(f"  ratio (shown / raw throughput):   {rate['shown'] / rate['raw']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
