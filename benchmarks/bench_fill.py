"""Build a realistic mentions database of any size quickly, for the app benchmark.

Rows are made from a pool of DemoStream posts whose distinct texts are scored once with the
app's own scorer (``tui.ingest.analyze``); each stored row picks a post from the pool and gets
its own id, external id, times, status, tags and follow-up. Rows go into the real schema
(``Store.open`` runs the migrations) with ``executemany`` in large transactions, and
``mentions_fts`` is filled with one ``INSERT ... SELECT`` at the end. No ``ANALYZE`` is run:
a database grown by the app has no planner statistics either.

Built files are cached under ``CACHE_DIR`` keyed by row count and build version.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tui.config import Config
from tui.core.model import to_ms, utcnow
from tui.demo import BRAND, BRAND_TERMS, DemoStream
from tui.ingest import analyze, make_scorer
from tui.store import Store
from tui.store.schema import MIGRATIONS

BUILD_VERSION = 2
"""Bump when the generated data changes, so stale cached files are not reused."""
CACHE_DIR = Path(os.environ.get("BENCH_CACHE_DIR", "/tmp/mention-triage-bench"))
POOL = 40_000
"""DemoStream posts generated for the pool (a few thousand distinct texts among them)."""
SPAN_DAYS = 180
"""The stored mentions arrived over this many days, ending when the file was built."""
CHUNK = 50_000
"""Rows per executemany / transaction while building."""
RARE_TAG = "escalated"
"""A tag on about 0.05% of rows (a sparse filter)."""


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
    return CACHE_DIR / f"mentions-{rows}-v{BUILD_VERSION}-s{len(MIGRATIONS)}.db"


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _pool(seed: int) -> list[tuple[str, str, str, str | None, float | None, str, str]]:
    """(source, author, text, language, compound, label, reasons json) for each pool post."""
    stream = DemoStream(seed)
    posts = [stream.next_mention() for _ in range(POOL)]
    distinct = {}
    for post in posts:
        distinct.setdefault(post.text, post)
    scorer = make_scorer(bench_config())
    scored = {m.text: (m.language, s) for m, s in analyze(scorer, list(distinct.values()))}
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
    low = text.lower()
    if "scam" in low or "clown" in low or "garbage" in low or "ratio" in low:
        tags = ["troll"]
    elif "off delivery codes" in low or "$5000" in low:
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


def _build(path: Path, rows: int, seed: int = 20240501) -> dict[str, object]:
    _remove(path)

    async def migrate() -> None:
        store = await Store.open(path, "bench")
        await store.close()

    asyncio.run(migrate())
    pool = _pool(seed)
    r = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1000000")
    con.execute("PRAGMA temp_store = MEMORY")

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
    for chunk_start in range(0, rows, CHUNK):
        mentions, tags_rows, follow_rows = [], [], []
        for i in range(chunk_start, min(rows, chunk_start + CHUNK)):
            mention_id = i + 1
            source, author, text, language, compound, label, reasons = r.choice(pool)
            while mention_id == rows and label == "negative":
                # The newest row is not negative at every size, so toggling the negatives
                # filter moves the cursor to another row (and reloads the detail) at every size.
                source, author, text, language, compound, label, reasons = r.choice(pool)
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
        "INSERT INTO mentions_fts(rowid, text, author) SELECT id, text, author FROM mentions"
    )
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    stats["rare_tag"] = RARE_TAG
    stats["distinct_texts"] = len({p[2] for p in pool})
    return stats


def build(rows: int, *, rebuild: bool = False) -> Built:
    """The cached database with ``rows`` mentions, built first if missing (or ``rebuild``)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = cache_path(rows)
    info_path = path.with_suffix(".json")
    if not rebuild and path.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        return Built(path, rows, float(info["build_seconds"]), True, info)
    started = time.perf_counter()
    building = path.with_suffix(".building")
    info: dict[str, object] = dict(_build(building, rows))
    _remove(path)
    building.rename(path)
    info["build_seconds"] = round(time.perf_counter() - started, 1)
    info["size_mb"] = round(path.stat().st_size / 1e6, 1)
    info_path.write_text(json.dumps(info, indent=1))
    return Built(path, rows, float(info["build_seconds"]), False, info)
