"""Build a realistic mentions database of any size quickly, for the app benchmark.

Posts come from ``corpus.posts`` (hundreds of thousands of distinct texts with the word
statistics of real posts, generated from a seed); each chunk of posts is made and scored with
the app's own scorer (``tui.ingest.analyze``) in a pool of worker processes, and each stored
row gets its own id, external id, times, status, tags and follow-up. Rows go into the real
schema (``Store.open`` runs the migrations) with ``executemany`` in large transactions, and
``mentions_fts`` is filled with one ``INSERT ... SELECT`` at the end. No ``ANALYZE`` is run:
a database grown by the app has no planner statistics either.

Built files are cached under ``CACHE_DIR`` keyed by row count, build version and generator
version. A cached file made under an older schema is migrated in place by ``Store.open``, as
a deployment's database would be. ``working_copy`` gives a benchmark a copy it may write to.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

from tui.config import Config
from tui.core.model import IncomingMention, from_ms, to_ms, utcnow
from tui.core.sla import Sla
from tui.demo import BRAND, BRAND_TERMS
from tui.ingest import analyze, make_scorer
from tui.store import Store
from tui.store.schema import MIGRATIONS, ON_CALL_FOR_NEW
from tui.store.search import FILL_TERMS_SQL, indexed

BUILD_VERSION = 4
"""Bump when the stored rows change, so stale cached files are not reused."""
CACHE_DIR = Path(os.environ.get("BENCH_CACHE_DIR", "/tmp/mention-triage-bench"))
SEED = 20240501
SPAN_DAYS = 180
"""The stored mentions arrived over this many days, ending when the file was built."""
CHUNK = 20_000
"""Posts made and scored per worker task, and rows per executemany / transaction."""
WORKERS = max(1, min(2, os.cpu_count() or 1))
RARE_TAG = "escalated"
"""A tag on about 0.05% of rows (a sparse filter)."""

Scored = tuple[str, str, str, str | None, float | None, str, str]
"""(source, author, text, language, compound, label, reasons json) of one post."""


@dataclass(frozen=True)
class Built:
    path: Path
    rows: int
    seconds: float
    cached: bool
    info: dict[str, object]


def bench_config() -> Config:
    return Config(brand=BRAND, brand_terms=BRAND_TERMS)


def cache_path(rows: int) -> Path:
    name = f"mentions-{rows}-v{BUILD_VERSION}-g{corpus.GENERATOR_VERSION}.db"
    return CACHE_DIR / name


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


_scorer = None


def scored_chunk(task: tuple[int, int, int]) -> list[Scored]:
    """Posts ``count`` of chunk ``chunk`` (seed ``seed``), each scored once per distinct text."""
    global _scorer
    seed, chunk, count = task
    if _scorer is None:
        _scorer = make_scorer(bench_config())
    posts = list(corpus.posts(count, seed, chunk))
    distinct: dict[str, IncomingMention] = {}
    now = utcnow()
    for post in posts:
        if post.text not in distinct:
            distinct[post.text] = IncomingMention(
                post.source, "x", post.text, post.author, None, now, None, b""
            )
    scored = {m.text: (m.language, s) for m, s in analyze(_scorer, list(distinct.values()))}
    out = []
    for post in posts:
        language, score = scored[post.text]
        reasons = json.dumps(
            [[r.term, round(r.weight, 4)] for r in score.reasons], ensure_ascii=False
        )
        out.append(
            (post.source, post.author, post.text, language, score.compound, score.label, reasons)
        )
    return out


def _tags_for(text: str, label: str, r: random.Random) -> list[str]:
    """About 7% of rows carry tags, chosen the way an operator would."""
    if r.random() >= 0.07:
        return []
    roll = r.random()
    if roll < 0.08:
        tags = ["troll"]
    elif roll < 0.12 or "codes" in text:
        tags = ["spam"]
    elif "?" in text and label != "negative":
        tags = ["question"]
    elif label == "positive":
        tags = ["praise"]
    else:
        tags = ["complaint"]
        if r.random() < 0.25:
            tags.append("urgent")
    if r.random() < 0.007:
        tags.append(RARE_TAG)
    return sorted(set(tags))


def _build(path: Path, rows: int, seed: int = SEED) -> dict[str, object]:
    _remove(path)

    async def migrate() -> None:
        store = await Store.open(path, "bench")
        await store.close()

    asyncio.run(migrate())
    r = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1000000")
    con.execute("PRAGMA temp_store = MEMORY")
    sla = Sla()  # the response clock's due times, as Store._configure defines them
    con.create_function("shown_text", 1, indexed, deterministic=True)  # as the store indexes
    con.create_function(
        "sla_due", 2, lambda at, label: to_ms(sla.due_at(from_ms(at), label)), deterministic=True
    )
    corpus.vocabulary(seed)  # built once here, inherited by the forked workers
    tasks = [
        (seed, chunk, min(CHUNK, rows - start)) for chunk, start in enumerate(range(0, rows, CHUNK))
    ]
    context = multiprocessing.get_context("fork")
    pool = context.Pool(WORKERS)
    chunks = pool.imap(scored_chunk, tasks)
    texts: set[int] = set()

    now = to_ms(utcnow())
    span = SPAN_DAYS * 86_400_000
    start = now - span
    step = span / max(rows, 1)
    recent = now - 3 * 86_400_000
    urls = {
        "mastodon": "https://mastodon.example/@{a}/{p}",
        "bluesky": "https://bsky.app/profile/{a}.bsky.social/post/{p}",
        "hackernews": "https://news.ycombinator.com/item?id={p}",
        "reddit": "https://www.reddit.com/r/couriers/comments/{p}/",
        "feed": "https://reviews.example/parcelly/{p}",
    }
    other_label = {
        "negative": "neutral",
        "neutral": "negative",
        "positive": "neutral",
        "unscored": "negative",
    }
    stats = {
        "new": 0,
        "negative": 0,
        "tagged": 0,
        "follow_ups": 0,
        "deleted": 0,
        "operator_label": 0,
    }
    mention_sql = (
        "INSERT INTO mentions(id, source, external_id, url, author, text, created_at,"
        " collected_at, language, compound, label, reasons, operator_label, status, tags,"
        " follow_up_due, deleted_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    for chunk_start, pool_rows in zip(range(0, rows, CHUNK), chunks, strict=True):
        mentions, tags_rows, follow_rows = [], [], []
        if chunk_start + len(pool_rows) == rows:
            # The newest row is not negative at every size, so toggling the negatives filter
            # moves the cursor to another row (and reloads the detail) at every size.
            last = next(
                i for i in range(len(pool_rows) - 1, -1, -1) if pool_rows[i][5] != "negative"
            )
            pool_rows[-1], pool_rows[last] = pool_rows[last], pool_rows[-1]
        for i, post in zip(
            range(chunk_start, chunk_start + len(pool_rows)), pool_rows, strict=True
        ):
            mention_id = i + 1
            source, author, text, language, compound, label, reasons = post
            texts.add(hash(text))
            collected = int(start + i * step)
            created = collected - int(r.random() * 600_000)
            post_id = f"{r.getrandbits(40):x}{mention_id}"
            url = urls[source].format(a=author, p=post_id)
            operator_label = None
            if r.random() < 0.015:
                operator_label = other_label[label]
                stats["operator_label"] += 1
            done_share = 0.92 if collected < recent else 0.3
            status = "done" if r.random() < done_share else "new"
            tags = _tags_for(text, label, r)
            follow_up_due = None
            if r.random() < 0.003:
                follow_up_due = created + 86_400_000
                follow_rows.append((mention_id, follow_up_due, "check the refund", 0))
            deleted_at = collected + 3_600_000 if r.random() < 0.002 else None
            raw = json.dumps(
                {
                    "id": post_id,
                    "source": source,
                    "author": author,
                    "text": text,
                    "url": url,
                    "created_at": created,
                    "language": language,
                },
                ensure_ascii=False,
            ).encode("utf-8", "surrogatepass")
            mentions.append(
                (
                    mention_id,
                    source,
                    post_id,
                    url,
                    author,
                    text,
                    created,
                    collected,
                    language,
                    compound,
                    label,
                    reasons,
                    operator_label,
                    status,
                    "\x1f".join(tags),
                    follow_up_due,
                    deleted_at,
                    raw,
                )
            )
            tags_rows.extend((tag, mention_id) for tag in tags)
            stats["new"] += status == "new"
            stats["negative"] += (operator_label or label) == "negative"
            stats["tagged"] += bool(tags)
            stats["follow_ups"] += follow_up_due is not None
            stats["deleted"] += deleted_at is not None
        con.execute("BEGIN")
        con.executemany(mention_sql, mentions)
        con.executemany("INSERT INTO mention_tags(tag, mention_id) VALUES (?, ?)", tags_rows)
        con.executemany(
            "INSERT INTO follow_ups(mention_id, due_at, note, done) VALUES (?, ?, ?, ?)",
            follow_rows,
        )
        con.execute("COMMIT")
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO mentions_fts(rowid, text, author)"
        " SELECT id, shown_text(text), shown_text(author) FROM mentions"
    )
    for statement in ON_CALL_FOR_NEW:  # the response clock and the counts, as ingest does
        con.execute(statement, (0,))
    con.execute("COMMIT")
    con.executescript(f"BEGIN; {FILL_TERMS_SQL} COMMIT;")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    pool.close()
    pool.join()
    stats["rare_tag"] = RARE_TAG
    stats["distinct_texts"] = len(texts)
    stats["generator_version"] = corpus.GENERATOR_VERSION
    return stats


def _schema_version(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


def build(rows: int, *, rebuild: bool = False) -> Built:
    """The cached database with ``rows`` mentions, built first if missing (or ``rebuild``).

    A cached file from an older schema is migrated in place (``Store.open``), and the time the
    migration took is recorded in its info.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = cache_path(rows)
    info_path = path.with_suffix(".json")
    if not rebuild and path.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        if _schema_version(path) < len(MIGRATIONS):
            started = time.perf_counter()

            async def migrate() -> None:
                store = await Store.open(path, "bench")
                await store.close()

            asyncio.run(migrate())
            migrations = dict(info.get("migrations", {}))  # type: ignore[call-overload]
            migrations[str(len(MIGRATIONS))] = round(time.perf_counter() - started, 1)
            info["migrations"] = migrations
            info["schema_version"] = len(MIGRATIONS)
            info["size_mb"] = round(path.stat().st_size / 1e6, 1)
            info_path.write_text(json.dumps(info, indent=1))
        return Built(path, rows, float(info["build_seconds"]), True, info)
    started = time.perf_counter()
    building = path.with_suffix(".building")
    info: dict[str, object] = dict(_build(building, rows))
    _remove(path)
    building.rename(path)
    info["build_seconds"] = round(time.perf_counter() - started, 1)
    info["size_mb"] = round(path.stat().st_size / 1e6, 1)
    info["schema_version"] = len(MIGRATIONS)
    info_path.write_text(json.dumps(info, indent=1))
    return Built(path, rows, float(info["build_seconds"]), False, info)


def working_copy(built: Built, directory: Path) -> Path:
    """A copy of the cached file that a benchmark may write to (the cache stays as built)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / built.path.name
    _remove(target)
    shutil.copyfile(built.path, target)
    return target


if __name__ == "__main__":
    for count in [int(arg) for arg in sys.argv[1:]] or [1000]:
        result = build(count)
        print(result.path, "cached" if result.cached else "built", result.seconds, "s", result.info)
