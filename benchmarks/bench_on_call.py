"""On-call figures: ingest with alert rules on against bare VADER, and the queries behind the
trends screen, the spike rule and the shift report at 1,000 and 1,000,000 stored mentions.

    .venv/bin/python benchmarks/bench_on_call.py [--rows 1000000] [--ingest 6000] [--repeats 5]

* ingest: mentions/s through ``Ingestor.ingest`` with ``Alerter`` evaluating three rules
  (negative, reach, spike) in its own task as the collector runs it, into a fresh database,
  until every mention is evaluated, against VADER's own ``polarity_scores`` on the same texts
  in the same run (the ratio is the figure); and the same ingest with no rules; ``--repeats``
  rounds of the three back to back, the median of each round's ratio reported;
* trends: each query (24 h and 7 days of counts, per source, the baseline's four weeks, gaps,
  the last hour's negative texts, the overdue count) and a whole spike evaluation, p50/p95 ms
  over ``--rounds``, on the cached databases of ``bench_fill`` (1M against 1k: the ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_app
import bench_fill

from tui.alert_config import AlertRule, OnCall
from tui.alerting import Alerter, Evaluation
from tui.config import Config
from tui.core import baseline as bl
from tui.core.model import utcnow
from tui.ingest import Ingestor, make_scorer
from tui.store import Store
from tui.store.rollups import bucket_of, hour_of

RULES = (
    AlertRule("negatives", "negative"),
    AlertRule("reach", "reach", min_followers=1000),
    AlertRule("spike", "spike"),
)


def rules_config() -> Config:
    base = bench_fill.bench_config()
    return Config(brand=base.brand, brand_terms=base.brand_terms, on_call=OnCall(rules=RULES))


async def ingest_with_rules(mentions, batch: int) -> float:  # type: ignore[no-untyped-def]
    """Mentions/s stored and evaluated, run as the collector runs them: the ingest loop
    nudges the alerter, which evaluates in its own task (scoring runs in a thread, so the
    two overlap); the clock stops when the alerter has evaluated the last mention."""
    config = rules_config()
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "ingest.db", "bench")
        ingestor = Ingestor(store, make_scorer(config))
        alerter = Alerter(config, store, lambda line: None)
        halt = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(alerter.run(halt))
        for start in range(0, len(mentions), batch):
            await ingestor.ingest(mentions[start : start + batch])
            alerter.nudge()
        last = await store.max_id()
        while await store.alert_cursor() < last:
            await asyncio.sleep(0.005)
        rate = len(mentions) / (time.perf_counter() - started)
        halt.set()
        await task
        alerts = len(await store.alerts(limit=100_000))
        await store.close()
    print(f"  (ingest stored {alerts} alerts)")
    return rate


async def timed(call: Callable[[], Awaitable[object]], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


async def trend_queries(path: Path, rounds: int) -> dict[str, tuple[float, float]]:
    store = await Store.open(path, "bench")
    now = utcnow()
    end = bucket_of(now) + 1
    config = rules_config()
    spike = RULES[2]
    queries: dict[str, Callable[[], Awaitable[object]]] = {
        "series 24h": lambda: store.series(end - bl.DAY, end),
        "negatives 7d": lambda: store.series(end - bl.WEEK, end, negative=True),
        "per source 24h": lambda: store.series_by_source(end - bl.DAY, end),
        "baseline 4w+1h": lambda: store.series(end - 4 * bl.WEEK - 4, end, negative=True),
        "gaps 5w": lambda: store.gaps(hour_of(now) - 5 * 168, hour_of(now) + 1),
        "texts last hour": lambda: store.texts_between(now - timedelta(hours=1), now),
        "overdue": lambda: store.overdue(now),
        "spike rule": lambda: Evaluation(store, config, now).spike(spike),
    }
    out = {}
    try:
        for name, call in queries.items():
            await call()  # warm the cache, as a running app has it
            out[name] = await timed(call, rounds)
    finally:
        await store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=500, help="mentions per ingest call")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="ingest rounds (median ratio)")
    args = parser.parse_args()

    mentions = bench_app.ingest_mentions(args.ingest, 7)
    texts = [m.text for m in mentions]
    rounds: list[tuple[float, float, float]] = []
    for _ in range(args.repeats):
        # Each round measures the three back to back, so a slower or faster spell of this
        # machine moves the baseline with the figures it is compared to.
        vader = bench_app.vader_rate(texts)
        with_rules = asyncio.run(ingest_with_rules(mentions, args.batch))
        bare, _, _ = asyncio.run(bench_app.ingest_rate(mentions, args.batch))
        rounds.append((vader, bare, with_rules))
    print("| round | bare VADER /s | no rules /s | 3 alert rules /s | no rules | 3 rules |")
    print("|---|---|---|---|---|---|")
    for number, (vader, bare, with_rules) in enumerate(rounds, 1):
        print(
            f"| {number} | {vader:,.0f} | {bare:,.0f} | {with_rules:,.0f}"
            f" | {bare / vader:.2f}x | {with_rules / vader:.2f}x |"
        )
    bare_ratio = statistics.median(b / v for v, b, _ in rounds)
    rules_ratio = statistics.median(r / v for v, _, r in rounds)
    print(f"| median | | | | {bare_ratio:.2f}x | {rules_ratio:.2f}x |")
    print()

    with tempfile.TemporaryDirectory() as tmp:
        small = bench_fill.working_copy(bench_fill.build(1000), Path(tmp) / "small")
        large = bench_fill.working_copy(bench_fill.build(args.rows), Path(tmp) / "large")
        at_small = asyncio.run(trend_queries(small, args.rounds))
        at_large = asyncio.run(trend_queries(large, args.rounds))
    print(f"| query | 1k p50 / p95 ms | {args.rows:,} p50 / p95 ms | p95 ratio |")
    print("|---|---|---|---|")
    for name, (p50, p95) in at_large.items():
        s50, s95 = at_small[name]
        ratio = p95 / max(s95, 0.01)
        print(f"| {name} | {s50:.1f} / {s95:.1f} | {p50:.1f} / {p95:.1f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
