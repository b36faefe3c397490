"""The SQLite store: one connection, short transactions, queries returning core models.

Every operator action is written together with its ``events`` row in one ``BEGIN IMMEDIATE``
transaction, so an action is either fully stored with its history or not at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from tui.core.model import (
    STATUSES,
    Counts,
    Draft,
    Event,
    Filter,
    FollowUp,
    IncomingMention,
    Label,
    Mention,
    Reason,
    Row,
    Score,
    Snapshot,
    Status,
    Version,
    from_ms,
    to_ms,
    utcnow,
)
from tui.store.schema import MIGRATIONS

T = TypeVar("T")

ROW_TEXT_CHARS = 400
"""Characters of text read per list row: enough for the first line, cheap for a page."""

_ROW_COLUMNS = (
    f"m.id, m.created_at, m.source, m.author, substr(m.text, 1, {ROW_TEXT_CHARS}), m.label,"
    " m.operator_label, m.tags, m.status, m.follow_up_due, m.deleted_at IS NOT NULL"
)
_MENTION_COLUMNS = (
    "id, source, external_id, url, author, text, created_at, collected_at, language, compound,"
    " label, reasons, operator_label, status, tags, deleted_at, raw"
)


class StoreError(Exception):
    """The database cannot be opened or written; the message names the path and the fix."""


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    cursor: str | None
    state: str
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    rate_remaining: str | None
    next_poll: datetime | None


def _split_tags(value: str) -> tuple[str, ...]:
    return tuple(value.split("\x1f")) if value else ()


def _join_tags(tags: Iterable[str]) -> str:
    return "\x1f".join(sorted(set(tags)))


PREFIX_MIN = 3
"""The last word is matched as a prefix (search as you type) from this many characters on;
shorter prefixes match too much of a large table to be fast."""


def fts_query(text: str) -> str | None:
    """User search text as a safe FTS5 query: every word required, each quoted so nothing the
    operator types is FTS syntax; the last word also matches as a prefix."""
    words = text.split()
    terms = ['"' + word.replace('"', '""') + '"' for word in words]
    if words and len(words[-1]) >= PREFIX_MIN:
        terms[-1] += "*"
    return " ".join(terms) or None


def _row(values: Sequence[Any]) -> Row:
    return Row(
        id=values[0],
        created_at=from_ms(values[1]),
        source=values[2],
        author=values[3],
        text=values[4],
        label=values[5],
        operator_label=values[6],
        tags=_split_tags(values[7]),
        status=values[8],
        follow_up_due=from_ms(values[9]) if values[9] is not None else None,
        deleted=bool(values[10]),
    )


def _reasons_json(score: Score) -> str:
    return json.dumps([[r.term, round(r.weight, 4)] for r in score.reasons], ensure_ascii=False)


class Store:
    """Async access to one database file. Open with ``await Store.open(path, operator)``."""

    def __init__(self, db: aiosqlite.Connection, path: Path, operator: str) -> None:
        self._db = db
        self.path = path
        self.operator = operator
        self._writing = asyncio.Lock()
        """One transaction at a time on the shared connection (tasks write concurrently)."""

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str, operator: str) -> Store:
        path = Path(path)
        if not path.parent.is_dir():
            raise StoreError(
                f"database directory {path.parent} does not exist; create it or pass --db "
                "with a path in an existing directory"
            )
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open database {path}: {error}; check --db") from error
        store = cls(db, path, operator)
        try:
            await store._configure()
        except (sqlite3.Error, StoreError) as error:
            await db.close()
            cause = error.__cause__ if isinstance(error, StoreError) else error
            raise StoreError(
                f"cannot use database {path}: {cause}; check that the file and its directory "
                "are writable (SQLite needs to create -wal and -shm files beside it) or pass "
                "another --db"
            ) from error
        return store

    async def _configure(self) -> None:
        db = self._db
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA foreign_keys = ON")
        mode = await (await db.execute("PRAGMA journal_mode = WAL")).fetchone()
        if mode is None or mode[0].lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch to WAL (journal_mode={mode})")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA cache_size = -16000")
        await self._migrate()
        # Prove the database is writable now, not at the operator's first action: a file that
        # became read-only still opens and reads fine. (Rewrites the header with the same value.)
        (version,) = await self._one("PRAGMA user_version")
        await db.executescript(f"BEGIN IMMEDIATE; PRAGMA user_version = {version}; COMMIT;")

    async def _migrate(self) -> None:
        (version,) = await self._one("PRAGMA user_version")
        if version > len(MIGRATIONS):
            raise sqlite3.OperationalError(
                f"schema version {version} is newer than this program knows ({len(MIGRATIONS)})"
            )
        for number in range(version, len(MIGRATIONS)):
            script = f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]};\nPRAGMA user_version = {number + 1};"
            try:
                await self._db.executescript(script + "\nCOMMIT;")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- helpers ---------------------------------------------------------------------------

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            async with self._db.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.Error as error:
            raise StoreError(f"cannot read {self.path}: {error}") from error

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as error:
            raise StoreError(f"cannot read {self.path}: {error}") from error

    async def _transaction(self, body: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction (read-then-write safe)."""
        async with self._writing:
            if self._db.in_transaction:
                # A write cancelled while its BEGIN was in flight left this one open.
                await self._db.execute("ROLLBACK")
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError(f"cannot write to {self.path}: {error}") from error
            try:
                result = await body(self._db)
            except sqlite3.Error as error:
                await self._db.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {error}") from error
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            try:
                await self._db.execute("COMMIT")
            except sqlite3.Error as error:
                await self._db.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {error}") from error
            return result

    async def _event(
        self, db: aiosqlite.Connection, mention_id: int | None, action: str, detail: Any = ""
    ) -> None:
        if not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        await db.execute(
            "INSERT INTO events(mention_id, at, by, action, detail) VALUES (?, ?, ?, ?, ?)",
            (mention_id, to_ms(utcnow()), self.operator, action, detail),
        )

    # -- ingest ----------------------------------------------------------------------------

    async def add_mentions(
        self,
        mentions: Sequence[IncomingMention],
        scores: Sequence[Score],
        *,
        cursor: tuple[str, str | None] | None = None,
    ) -> list[int]:
        """Store new mentions (duplicates on source + external_id are skipped).

        ``cursor`` = (source name, cursor) is saved in the same transaction, so a source's
        position advances exactly when its mentions are stored. Returns the new ids.
        """
        if len(mentions) != len(scores):
            raise ValueError("one score per mention")
        collected = to_ms(utcnow())

        rows = [
            (
                mention.source,
                mention.external_id,
                mention.url,
                mention.author,
                mention.text,
                to_ms(mention.created_at),
                collected,
                mention.language,
                score.compound,
                score.label,
                _reasons_json(score),
                mention.raw,
            )
            for mention, score in zip(mentions, scores, strict=True)
        ]

        async def body(db: aiosqlite.Connection) -> list[int]:
            # One executemany, not a round trip per row: the write lock is held for
            # milliseconds. Ids above the previous maximum are exactly the new rows, because
            # this transaction holds the write lock.
            (before,) = await self._one("SELECT coalesce(max(id), 0) FROM mentions")
            await db.executemany(
                "INSERT INTO mentions(source, external_id, url, author, text, created_at,"
                " collected_at, language, compound, label, reasons, raw)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(source, external_id) DO NOTHING",
                rows,
            )
            ids = [r[0] for r in await self._all("SELECT id FROM mentions WHERE id > ?", (before,))]
            if ids:
                await db.execute(
                    "INSERT INTO mentions_fts(rowid, text, author)"
                    " SELECT id, text, author FROM mentions WHERE id > ?",
                    (before,),
                )
            if cursor is not None:
                await db.execute(
                    "INSERT INTO source_state(name, cursor) VALUES (?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET cursor = excluded.cursor",
                    cursor,
                )
            return ids

        return await self._transaction(body)

    async def exists(self, source: str, external_id: str) -> bool:
        row = await self._one(
            "SELECT 1 FROM mentions WHERE source = ? AND external_id = ?", (source, external_id)
        )
        return row is not None

    async def replace_text(
        self, source: str, external_id: str, text: str, score: Score, raw: bytes
    ) -> bool:
        """An edited post: keep the previous text as a version, store and index the new one."""

        async def body(db: aiosqlite.Connection) -> bool:
            row = await self._one(
                "SELECT id, text, author FROM mentions WHERE source = ? AND external_id = ?",
                (source, external_id),
            )
            if row is None or row[1] == text:
                return False
            mention_id, old_text, author = row
            now = to_ms(utcnow())
            await db.execute(
                "INSERT INTO versions(mention_id, text, replaced_at) VALUES (?, ?, ?)",
                (mention_id, old_text, now),
            )
            await db.execute(
                "INSERT INTO mentions_fts(mentions_fts, rowid, text, author)"
                " VALUES ('delete', ?, ?, ?)",
                (mention_id, old_text, author),
            )
            await db.execute(
                "UPDATE mentions SET text = ?, compound = ?, label = ?, reasons = ?, raw = ?"
                " WHERE id = ?",
                (text, score.compound, score.label, _reasons_json(score), raw, mention_id),
            )
            await db.execute(
                "INSERT INTO mentions_fts(rowid, text, author) VALUES (?, ?, ?)",
                (mention_id, text, author),
            )
            await self._event(db, mention_id, "edited", "source reported an edit")
            return True

        return await self._transaction(body)

    async def mark_deleted(self, source: str, external_id: str) -> bool:
        """The source reported the post deleted: keep everything, record when."""

        async def body(db: aiosqlite.Connection) -> bool:
            row = await self._one(
                "SELECT id FROM mentions WHERE source = ? AND external_id = ?"
                " AND deleted_at IS NULL",
                (source, external_id),
            )
            if row is None:
                return False
            await db.execute(
                "UPDATE mentions SET deleted_at = ? WHERE id = ?", (to_ms(utcnow()), row[0])
            )
            await self._event(db, row[0], "deleted", "source reported the post deleted")
            return True

        return await self._transaction(body)

    # -- the list ----------------------------------------------------------------------------

    def _filtered(self, filt: Filter) -> tuple[str, list[Any]]:
        """FROM/WHERE for a filter; the driving table is the most selective index."""
        params: list[Any] = []
        where: list[str] = []
        # CROSS JOIN fixes the join order: the search or tag drives, so a rare term combined
        # with a broad filter never turns into a scan of the broad filter's index.
        if filt.search and (query := fts_query(filt.search)):
            source = "mentions_fts f CROSS JOIN mentions m ON m.id = f.rowid"
            where.append("mentions_fts MATCH ?")
            params.append(query)
            key = "f.rowid"
        elif filt.tag:
            source = "mention_tags t CROSS JOIN mentions m ON m.id = t.mention_id"
            where.append("t.tag = ?")
            params.append(filt.tag)
            key = "t.mention_id"
        else:
            source = "mentions m"
            key = "m.id"
        if filt.search and filt.tag:
            where.append("m.id IN (SELECT mention_id FROM mention_tags WHERE tag = ?)")
            params.append(filt.tag)
        if filt.negative_only:
            where.append("coalesce(m.operator_label, m.label) = 'negative'")
        if filt.status:
            if filt.status not in STATUSES:
                raise ValueError(f"unknown status {filt.status!r}")
            # A literal, not a parameter, so the planner can use the partial indexes.
            where.append(f"m.status = '{filt.status}'")
        if filt.source:
            where.append("m.source = ?")
            params.append(filt.source)
        if filt.created_since is not None:
            where.append("m.created_at >= ?")
            params.append(to_ms(filt.created_since))
        if filt.follow_ups_due:
            where.append("m.follow_up_due IS NOT NULL AND m.follow_up_due <= ?")
            params.append(to_ms(utcnow()))
        sql = f"FROM {source} WHERE " + " AND ".join([*where, f"{key} {{op}} ?"])
        return sql + f" ORDER BY {key} {{order}} LIMIT ?", params

    async def page_before(self, filt: Filter, before_id: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows older than ``before_id`` (None: from the newest), newest first."""
        sql, params = self._filtered(filt)
        sql = sql.format(op="<", order="DESC")
        bound = before_id if before_id is not None else 2**62
        rows = await self._all(f"SELECT {_ROW_COLUMNS} {sql}", [*params, bound, limit])
        return [_row(r) for r in rows]

    async def page_after(self, filt: Filter, after_id: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows just newer than ``after_id`` (None: the oldest), newest first."""
        sql, params = self._filtered(filt)
        sql = sql.format(op=">", order="ASC")
        bound = after_id if after_id is not None else -1
        rows = await self._all(f"SELECT {_ROW_COLUMNS} {sql}", [*params, bound, limit])
        return [_row(r) for r in reversed(rows)]

    async def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        """Fresh copies of the given rows (after another process changed them)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = await self._all(
            f"SELECT {_ROW_COLUMNS} FROM mentions m WHERE m.id IN ({marks})", ids
        )
        return {r[0]: _row(r) for r in found}

    async def count_newer(self, filt: Filter, after_id: int, cap: int = 10_000) -> int:
        """How many rows matching ``filt`` are newer than ``after_id`` (counted up to ``cap``)."""
        sql, params = self._filtered(filt)
        sql = sql.format(op=">", order="ASC")
        (count,) = await self._one(
            f"SELECT count(*) FROM (SELECT 1 {sql})", [*params, after_id, cap]
        )
        return int(count)

    async def data_version(self) -> int:
        """Changes when any other connection commits (cheap; poll it)."""
        (version,) = await self._one("PRAGMA data_version")
        return int(version)

    async def max_id(self) -> int:
        (value,) = await self._one("SELECT coalesce(max(id), 0) FROM mentions")
        return int(value)

    async def counts(self) -> Counts:
        now = to_ms(utcnow())
        row = await self._one(
            "SELECT (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM mentions WHERE status = 'new'),"
            " (SELECT count(*) FROM mentions INDEXED BY mentions_negative_open"
            "   WHERE coalesce(operator_label, label) = 'negative' AND status = 'new'),"
            " (SELECT count(*) FROM mentions WHERE follow_up_due IS NOT NULL"
            "   AND follow_up_due <= ?)",
            (now,),
        )
        return Counts(total=row[0], new=row[1], negative_open=row[2], follow_ups_due=row[3])

    async def known_tags(self) -> list[str]:
        rows = await self._all("SELECT DISTINCT tag FROM mention_tags ORDER BY tag")
        return [r[0] for r in rows]

    async def sources(self) -> list[str]:
        # A skip scan over the (source, id) index: one probe per distinct source.
        rows = await self._all(
            "WITH RECURSIVE s(name) AS ("
            " SELECT min(source) FROM mentions"
            " UNION ALL SELECT (SELECT min(source) FROM mentions WHERE source > s.name)"
            " FROM s WHERE s.name IS NOT NULL)"
            " SELECT name FROM s WHERE name IS NOT NULL"
        )
        return [r[0] for r in rows]

    # -- one mention -------------------------------------------------------------------------

    async def mention(self, mention_id: int, *, full: bool = True) -> Mention | None:
        row = await self._one(
            f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE id = ?", (mention_id,)
        )
        if row is None:
            return None
        follow = await self._one(
            "SELECT due_at, note, done FROM follow_ups WHERE mention_id = ?", (mention_id,)
        )
        mention = Mention(
            id=row[0],
            source=row[1],
            external_id=row[2],
            url=row[3],
            author=row[4],
            text=row[5],
            created_at=from_ms(row[6]),
            collected_at=from_ms(row[7]),
            language=row[8],
            score=Score(row[9], row[10], tuple(Reason(t, w) for t, w in json.loads(row[11]))),
            operator_label=row[12],
            status=row[13],
            tags=_split_tags(row[14]),
            follow_up=FollowUp(from_ms(follow[0]), follow[1], bool(follow[2])) if follow else None,
            deleted_at=from_ms(row[15]) if row[15] is not None else None,
            raw=bytes(row[16]),
        )
        if not full:
            return mention
        snapshots = tuple(
            Snapshot(
                id=r[0],
                mention_id=mention_id,
                taken_at=from_ms(r[1]),
                by=r[2],
                text=r[3],
                sha256=r[4],
                url=r[5],
                fetch_status=r[6],
                fetch_error=r[7],
                page_sha256=r[8],
                page_size=r[9],
                fetched=r[10] is not None,
            )
            for r in await self._all(
                "SELECT s.id, s.taken_at, s.by, s.text, s.sha256, s.url, p.status, p.error,"
                " p.sha256, p.size, p.fetched_at FROM snapshots s"
                " LEFT JOIN snapshot_pages p ON p.snapshot_id = s.id"
                " WHERE s.mention_id = ? ORDER BY s.id",
                (mention_id,),
            )
        )
        drafts = tuple(
            Draft(mention_id, r[0], from_ms(r[1]), r[2])
            for r in await self._all(
                "SELECT text, updated_at, by FROM drafts WHERE mention_id = ? ORDER BY updated_at",
                (mention_id,),
            )
        )
        events = tuple(
            Event(r[0], mention_id, from_ms(r[1]), r[2], r[3], r[4])
            for r in await self._all(
                "SELECT id, at, by, action, detail FROM events WHERE mention_id = ? ORDER BY id",
                (mention_id,),
            )
        )
        versions = tuple(
            Version(r[0], from_ms(r[1]))
            for r in await self._all(
                "SELECT text, replaced_at FROM versions WHERE mention_id = ? ORDER BY id",
                (mention_id,),
            )
        )
        return replace(
            mention, snapshots=snapshots, drafts=drafts, events=events, versions=versions
        )

    async def snapshot_files(self, snapshot_id: int) -> tuple[bytes, bytes | None]:
        """(raw payload, fetched page or None) of one snapshot, for evidence export."""
        row = await self._one(
            "SELECT s.raw, p.page FROM snapshots s"
            " LEFT JOIN snapshot_pages p ON p.snapshot_id = s.id WHERE s.id = ?",
            (snapshot_id,),
        )
        if row is None:
            raise KeyError(snapshot_id)
        return bytes(row[0]), bytes(row[1]) if row[1] is not None else None

    async def mention_ids(self, filt: Filter, since: datetime | None = None) -> list[int]:
        """Ids matching a filter, oldest first (export walks these in pages)."""
        if since is not None:
            filt = replace(filt, created_since=since)
        sql, params = self._filtered(filt)
        sql = sql.format(op=">", order="ASC")
        rows = await self._all(f"SELECT m.id {sql}", [*params, -1, 2**62])
        return [r[0] for r in rows]

    # -- operator actions (each with its event, in one transaction) --------------------------

    async def _require(self, db: aiosqlite.Connection, mention_id: int) -> str:
        row = await self._one("SELECT tags FROM mentions WHERE id = ?", (mention_id,))
        if row is None:
            raise KeyError(f"no mention {mention_id}")
        return str(row[0])

    async def add_tag(self, mention_id: int, tag: str) -> tuple[str, ...]:
        tag = tag.strip()
        if not tag:
            raise ValueError("empty tag")

        async def body(db: aiosqlite.Connection) -> tuple[str, ...]:
            tags = set(_split_tags(await self._require(db, mention_id)))
            if tag not in tags:
                tags.add(tag)
                await db.execute(
                    "INSERT INTO mention_tags(tag, mention_id) VALUES (?, ?)", (tag, mention_id)
                )
                await db.execute(
                    "UPDATE mentions SET tags = ? WHERE id = ?", (_join_tags(tags), mention_id)
                )
                await self._event(db, mention_id, "tag", tag)
            return tuple(sorted(tags))

        return await self._transaction(body)

    async def remove_tag(self, mention_id: int, tag: str) -> tuple[str, ...]:
        async def body(db: aiosqlite.Connection) -> tuple[str, ...]:
            tags = set(_split_tags(await self._require(db, mention_id)))
            if tag in tags:
                tags.discard(tag)
                await db.execute(
                    "DELETE FROM mention_tags WHERE tag = ? AND mention_id = ?", (tag, mention_id)
                )
                await db.execute(
                    "UPDATE mentions SET tags = ? WHERE id = ?", (_join_tags(tags), mention_id)
                )
                await self._event(db, mention_id, "untag", tag)
            return tuple(sorted(tags))

        return await self._transaction(body)

    async def set_status(self, mention_id: int, status: Status) -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            await db.execute("UPDATE mentions SET status = ? WHERE id = ?", (status, mention_id))
            await self._event(db, mention_id, "status", status)

        await self._transaction(body)

    async def set_operator_label(self, mention_id: int, label: Label | None) -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            await db.execute(
                "UPDATE mentions SET operator_label = ? WHERE id = ?", (label, mention_id)
            )
            await self._event(db, mention_id, "label", label or "cleared")

        await self._transaction(body)

    async def set_follow_up(self, mention_id: int, due_at: datetime, note: str = "") -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            await db.execute(
                "INSERT INTO follow_ups(mention_id, due_at, note, done) VALUES (?, ?, ?, 0)"
                " ON CONFLICT(mention_id) DO UPDATE SET due_at = excluded.due_at,"
                " note = excluded.note, done = 0",
                (mention_id, to_ms(due_at), note),
            )
            await db.execute(
                "UPDATE mentions SET follow_up_due = ? WHERE id = ?", (to_ms(due_at), mention_id)
            )
            await self._event(
                db, mention_id, "follow_up", {"due_at": due_at.isoformat(), "note": note}
            )

        await self._transaction(body)

    async def complete_follow_up(self, mention_id: int) -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            await db.execute("UPDATE follow_ups SET done = 1 WHERE mention_id = ?", (mention_id,))
            await db.execute("UPDATE mentions SET follow_up_due = NULL WHERE id = ?", (mention_id,))
            await self._event(db, mention_id, "follow_up_done")

        await self._transaction(body)

    async def save_draft(self, mention_id: int, text: str) -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            await db.execute(
                "INSERT INTO drafts(mention_id, by, text, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(mention_id, by) DO UPDATE SET text = excluded.text,"
                " updated_at = excluded.updated_at",
                (mention_id, self.operator, text, to_ms(utcnow())),
            )
            await self._event(db, mention_id, "draft", {"chars": len(text)})

        await self._transaction(body)

    async def add_snapshot(self, mention_id: int) -> Snapshot:
        """Freeze the mention as it is now: text, raw payload, SHA-256 of the text."""

        async def body(db: aiosqlite.Connection) -> Snapshot:
            row = await self._one("SELECT text, raw, url FROM mentions WHERE id = ?", (mention_id,))
            if row is None:
                raise KeyError(f"no mention {mention_id}")
            text, raw, url = row
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            taken = utcnow()
            async with db.execute(
                "INSERT INTO snapshots(mention_id, taken_at, by, text, sha256, url, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (mention_id, to_ms(taken), self.operator, text, digest, url, raw),
            ) as cur:
                (snapshot_id,) = await cur.fetchone()  # type: ignore[misc]
            await self._event(db, mention_id, "snapshot", {"sha256": digest, "id": snapshot_id})
            return Snapshot(
                id=snapshot_id,
                mention_id=mention_id,
                taken_at=taken,
                by=self.operator,
                text=text,
                sha256=digest,
                url=url,
                fetch_status=None,
                fetch_error=None,
                page_sha256=None,
                page_size=None,
                fetched=False,
            )

        return await self._transaction(body)

    async def add_snapshot_page(
        self, snapshot_id: int, *, status: int | None, error: str | None, page: bytes | None
    ) -> None:
        digest = hashlib.sha256(page).hexdigest() if page is not None else None

        async def body(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO snapshot_pages(snapshot_id, fetched_at, status, error, sha256,"
                " size, page) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    snapshot_id,
                    to_ms(utcnow()),
                    status,
                    error,
                    digest,
                    len(page) if page is not None else None,
                    page,
                ),
            )
            (mention_id,) = await self._one(
                "SELECT mention_id FROM snapshots WHERE id = ?", (snapshot_id,)
            )
            await self._event(
                db,
                mention_id,
                "snapshot_page",
                {"id": snapshot_id, "status": status, "error": error, "sha256": digest},
            )

        await self._transaction(body)

    async def events(self, mention_id: int | None = None) -> list[Event]:
        sql = "SELECT id, mention_id, at, by, action, detail FROM events"
        params: tuple[Any, ...] = ()
        if mention_id is not None:
            sql += " WHERE mention_id = ?"
            params = (mention_id,)
        rows = await self._all(sql + " ORDER BY id", params)
        return [Event(r[0], r[1], from_ms(r[2]), r[3], r[4], r[5]) for r in rows]

    # -- sources: cursors, health, the collector lease -----------------------------------------

    async def source_state(self, name: str) -> SourceState | None:
        row = await self._one(
            "SELECT name, cursor, state, last_success, last_error, last_error_at,"
            " rate_remaining, next_poll FROM source_state WHERE name = ?",
            (name,),
        )
        return _source_state(row) if row else None

    async def source_states(self) -> list[SourceState]:
        rows = await self._all(
            "SELECT name, cursor, state, last_success, last_error, last_error_at,"
            " rate_remaining, next_poll FROM source_state ORDER BY name"
        )
        return [_source_state(r) for r in rows]

    async def record_poll(
        self,
        name: str,
        *,
        state: str,
        error: str | None = None,
        rate_remaining: str | None = None,
        next_poll: datetime | None = None,
    ) -> None:
        """Record a poll's outcome (the cursor is saved by ``add_mentions``)."""
        now = to_ms(utcnow())
        ok = error is None

        async def body(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO source_state(name, state) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                (name, state),
            )
            await db.execute(
                "UPDATE source_state SET state = ?,"
                " last_success = CASE WHEN ? THEN ? ELSE last_success END,"
                " last_error = CASE WHEN ? THEN last_error ELSE ? END,"
                " last_error_at = CASE WHEN ? THEN last_error_at ELSE ? END,"
                " rate_remaining = coalesce(?, rate_remaining), next_poll = ? WHERE name = ?",
                (
                    state,
                    ok,
                    now,
                    ok,
                    error,
                    ok,
                    now,
                    rate_remaining,
                    to_ms(next_poll) if next_poll else None,
                    name,
                ),
            )

        await self._transaction(body)

    async def mentions_since(self, source: str, since: datetime) -> int:
        (count,) = await self._one(
            "SELECT count(*) FROM mentions WHERE source = ? AND collected_at >= ?",
            (source, to_ms(since)),
        )
        return int(count)

    async def acquire_lease(
        self, holder: str, stale_after_s: float, name: str = "collector"
    ) -> bool:
        """Take or renew the lease; True if ``holder`` holds it afterwards."""
        now = to_ms(utcnow())
        stale = now - int(stale_after_s * 1000)

        async def body(db: aiosqlite.Connection) -> bool:
            row = await self._one("SELECT holder, heartbeat FROM lease WHERE name = ?", (name,))
            if row is None or row[0] == holder or row[1] < stale:
                await db.execute(
                    "INSERT INTO lease(name, holder, heartbeat) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
                    " heartbeat = excluded.heartbeat",
                    (name, holder, now),
                )
                return True
            return False

        return await self._transaction(body)

    async def release_lease(self, holder: str, name: str = "collector") -> None:
        async def body(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", (name, holder))

        await self._transaction(body)

    async def lease_holder(self, name: str = "collector") -> tuple[str, datetime] | None:
        row = await self._one("SELECT holder, heartbeat FROM lease WHERE name = ?", (name,))
        return (row[0], from_ms(row[1])) if row else None


def _source_state(row: Sequence[Any]) -> SourceState:
    def moment(value: int | None) -> datetime | None:
        return from_ms(value) if value is not None else None

    return SourceState(
        name=row[0],
        cursor=row[1],
        state=row[2],
        last_success=moment(row[3]),
        last_error=row[4],
        last_error_at=moment(row[5]),
        rate_remaining=row[6],
        next_poll=moment(row[7]),
    )
