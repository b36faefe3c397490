"""The SQLite store: one connection, short transactions, queries returning core models.

Every operator action is written together with its ``events`` row in one ``BEGIN IMMEDIATE``
transaction, so an action is either fully stored with its history or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

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
    Note,
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
from tui.core.process import is_gone, this_process
from tui.core.sla import Sla
from tui.core.text import clip, normalize_tag
from tui.store import access
from tui.store.alerts import AlertQueries
from tui.store.base import head
from tui.store.claims import ClaimQueries
from tui.store.clock import ClockQueries
from tui.store.marks import MarkQueries
from tui.store.models import LEXICON, ModelQueries
from tui.store.notes import NoteQueries
from tui.store.presence import PresenceQueries
from tui.store.reports import ReportQueries
from tui.store.rollups import COLLECTOR, RollupQueries
from tui.store.schema import MIGRATIONS, ON_CALL_FOR_NEW
from tui.store.search import (
    EXPAND_MAX,
    EXPANSIONS_SQL,
    fts_query,
    index_rows,
    indexed,
    parse,
    starting_with,
)
from tui.store.undo import UndoQueries

T = TypeVar("T")

MENTIONS_BATCH = 500
"""Mentions ``Store.mentions`` reads per round of queries (bound parameters stay few)."""

LEASE_TTL = 60.0
"""Seconds without a heartbeat after which another process may take the collector lease."""

ROW_TEXT_CHARS = 400
"""Characters of text read per list row: enough for the first line, cheap for a page."""

_ROW_COLUMNS = (
    f"m.id, m.created_at, m.source, m.author, {head('m.text', ROW_TEXT_CHARS)}, m.label,"
    " m.operator_label, m.tags, m.status, m.follow_up_due, m.deleted_at IS NOT NULL,"
    " (SELECT c.assigned_to FROM mention_claims c WHERE c.mention_id = m.id),"
    " (SELECT due_at FROM mention_sla WHERE mention_id = m.id),"
    " (SELECT answered_at FROM mention_sla WHERE mention_id = m.id)"
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
    kind: str | None = None
    """The source's kind as last recorded (``mastodon``, ... or ``demo``), None if unknown."""


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease row as another process sees it (``Store.lease``)."""

    holder: str
    heartbeat: datetime
    """The holder's last renewal: when it was last known to be there."""
    host: str | None
    pid: int | None
    state: str
    """``live``; ``gone`` (the holder ran on this host and its process has ended: ``kill -9``,
    a crash); or ``stale`` (no heartbeat within the lease's time, wherever it ran). Only a
    ``live`` holder holds the lease: the other two leave it free for the taking."""

    @property
    def live(self) -> bool:
        return self.state == "live"


@dataclass(frozen=True, slots=True)
class PageClaim:
    """A page fetch this process has claimed: do it, then report with ``finish_page_fetch``
    or ``retry_page_fetch`` (or hand it back with ``release_page_fetch``)."""

    snapshot_id: int
    mention_id: int
    url: str
    attempt: int
    """This attempt's number, from 1."""


PAGE_STATES = ("pending", "fetching", "fetched", "failed")


def _split_tags(value: str) -> tuple[str, ...]:
    return tuple(value.split("\x1f")) if value else ()


def _join_tags(tags: Iterable[str]) -> str:
    return "\x1f".join(sorted(set(tags)))


def _row(values: Sequence[Any]) -> Row:
    return Row(
        id=values[0],
        created_at=from_ms(values[1]),
        source=values[2],
        author=values[3],
        text=clip(values[4], ROW_TEXT_CHARS),
        label=values[5],
        operator_label=values[6],
        tags=_split_tags(values[7]),
        status=values[8],
        follow_up_due=from_ms(values[9]) if values[9] is not None else None,
        deleted=bool(values[10]),
        assigned_to=values[11],
        due_at=from_ms(values[12]) if values[12] is not None else None,
        answered_at=from_ms(values[13]) if values[13] is not None else None,
    )


def _reasons_json(score: Score) -> str:
    """``[[term, weight], ...]`` as ``json.dumps(..., ensure_ascii=False)`` writes it, built
    directly: it runs for every stored mention."""
    pairs = ", ".join(
        f"[{encode_basestring(r.term)}, {round(r.weight, 4)!r}]" for r in score.reasons
    )
    return f"[{pairs}]"


class Store(
    ModelQueries,
    MarkQueries,
    PresenceQueries,
    ClaimQueries,
    NoteQueries,
    UndoQueries,
    ClockQueries,
    RollupQueries,
    AlertQueries,
    ReportQueries,
):
    """Async access to one database file. Open with ``await Store.open(path, operator)``."""

    def __init__(self, db: aiosqlite.Connection, path: Path, operator: str) -> None:
        self._db = db
        self.path = path
        self.operator = operator
        """The operator's display name, recorded as ``by`` on events."""
        self.unix_user = access.unix_user()
        """The Unix user this process runs as, recorded on every event beside ``by``."""
        self.read_only = False
        self.read_only_reason = ""
        """Why the store is read-only, in one line (empty when it is not)."""
        self._writing = asyncio.Lock()
        """One transaction at a time on the shared connection (tasks write concurrently)."""
        self.sla = Sla()
        """The response-clock targets that due times are computed with (``sla_due`` in SQL):
        every process that writes sets the configured ones (``Store.open(..., sla=...)``)."""

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path | str,
        operator: str,
        *,
        read_only: bool | None = False,
        sla: Sla | None = None,
    ) -> Store:
        """Open (creating and migrating as needed) the database at ``path``.

        ``read_only``: False to write (a ``StoreError`` naming the group to join if this user
        may not), True to only read, None to write if this user may and read otherwise.
        Access is checked before SQLite opens anything (``tui.store.access``), so a user who
        may not write never leaves a file beside the database that blocks the others.
        """
        path = Path(path)
        if not os.path.isdir(path.parent):
            raise StoreError(
                f"database directory {path.parent} does not exist; create it or pass --db "
                "with a path in an existing directory"
            )
        if access.is_directory(path):
            raise StoreError(f"{path} is a directory; give --db the database file")
        allowed = access.check(path)
        if allowed.blocked_by and access.clear_stale(path):
            allowed = access.check(path)
        if read_only is None:
            read_only = not allowed.writable and allowed.readable
        if read_only:
            return await cls._open_read_only(path, operator, allowed)
        if not allowed.writable:
            raise StoreError(allowed.problem)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open database {path}: {error}; check --db") from error
        access.settle(path)  # before SQLite creates -wal and -shm, which take the file's mode
        store = cls(db, path, operator)
        if sla is not None:
            store.sla = sla
        try:
            await store._configure()
            access.settle(path)
        except (sqlite3.Error, StoreError) as error:
            await db.close()
            cause = error.__cause__ if isinstance(error, StoreError) else error
            if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
                raise StoreError(
                    f"{path} is not a database (SQLite: {cause}); check --db, which names the "
                    "team's database file"
                ) from error
            raise StoreError(
                f"cannot use database {path}: {cause}; check that the file and its directory "
                "are writable (SQLite needs to create -wal and -shm files beside it) or pass "
                "another --db"
            ) from error
        return store

    @classmethod
    async def _open_read_only(cls, path: Path, operator: str, allowed: access.Access) -> Store:
        """A connection that never writes and never creates a file (see
        ``access.opening_read_only``): the schema must be current already."""
        if not allowed.readable:
            raise StoreError(allowed.read_problem)
        uri = f"file:{quote(str(path.absolute()))}?mode=ro"
        try:
            with access.opening_read_only(path, may_create=allowed.writable):
                db = await aiosqlite.connect(uri, uri=True, isolation_level=None)
                await _index_functions(db)
                store = cls(db, path, operator)
                try:
                    # The first read takes SQLite's shared lock, which keeps -wal and -shm.
                    (version,) = await store._one("PRAGMA user_version")
                except BaseException:
                    await db.close()
                    raise
        except access.AccessError as error:
            raise StoreError(str(error)) from None
        except sqlite3.Error as error:
            raise StoreError(f"cannot read database {path}: {error}; check --db") from error
        if allowed.writable:
            access.settle(path)
        store.read_only = True
        store.read_only_reason = allowed.problem or "opened with --read-only"
        try:
            if version != len(MIGRATIONS):
                newer = version > len(MIGRATIONS)
                raise StoreError(
                    f"{access.shown(path)} has schema version {version} and this program "
                    f"{'knows only' if newer else 'needs'} {len(MIGRATIONS)}; "
                    + (
                        "upgrade triage"
                        if newer
                        else "open it once without --read-only as a user who may write it"
                    )
                )
            await db.execute("PRAGMA busy_timeout = 10000")
            await db.execute("PRAGMA cache_size = -16000")
        except BaseException:
            await db.close()
            raise
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
        await db.create_function("sla_due", 2, self._sla_due, deterministic=True)
        await _index_functions(db)
        await self._migrate()
        # Prove the database is writable now, not at the operator's first action: a file that
        # became read-only still opens and reads fine. (Rewrites the header with the same value.)
        (version,) = await self._one("PRAGMA user_version")
        await db.executescript(f"BEGIN IMMEDIATE; PRAGMA user_version = {version}; COMMIT;")

    def _sla_due(self, created_ms: int, label: str) -> int:
        """``sla_due(created_at, label)`` in SQL: when the first response is due (ms)."""
        return to_ms(self.sla.due_at(from_ms(created_ms), label))

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

    async def wait_for_lock(self, seconds: float) -> None:
        """How long a write waits for another's lock before it fails (default 10 s). A
        connection whose writes can be skipped (presence heartbeats) waits less, so it never
        queues behind the operators' actions."""
        await self._db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

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
        if self.read_only:
            raise StoreError(f"read-only, nothing saved: {self.read_only_reason}")
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
                await self._rollback()
                raise StoreError(f"cannot write to {self.path}: {error}") from error
            except BaseException:
                await self._rollback()
                raise
            try:
                await self._db.execute("COMMIT")
            except sqlite3.Error as error:
                await self._rollback()
                raise StoreError(f"cannot write to {self.path}: {error}") from error
            return result

    async def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already ended it (a failed COMMIT
        or a cancelled statement can)."""
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.execute("ROLLBACK")

    async def _event(
        self, db: aiosqlite.Connection, mention_id: int | None, action: str, detail: Any = ""
    ) -> None:
        if not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        await db.execute(
            "INSERT INTO events(mention_id, at, by, unix_user, action, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (mention_id, to_ms(utcnow()), self.operator, self.unix_user, action, detail),
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
        links = [(m.link, m.source, m.external_id) for m in mentions if m.link]

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
            if ids and links:
                await db.executemany(
                    "INSERT INTO mention_links(mention_id, link)"
                    " SELECT id, ? FROM mentions WHERE source = ? AND external_id = ? AND id > ?"
                    " ON CONFLICT(mention_id) DO NOTHING",
                    [(*link, before) for link in links],
                )
            if ids:
                await self._record_scorers(db, mentions, scores, before)
                await self._record_reach(db, mentions, before)
                for statement in ON_CALL_FOR_NEW:  # the response clock and the counts
                    await db.execute(statement, (before,))
                await index_rows(db, "id > ?", [before])
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
        edit = IncomingMention(source, external_id, text, raw=raw)
        return bool(await self.replace_texts([edit], [score]))

    async def edited(self, mentions: Sequence[IncomingMention]) -> list[int]:
        """Positions in ``mentions`` of those already stored (same source and external id)
        with a different text: edits of stored posts. One query for the whole batch."""
        if not mentions:
            return []
        values = ",".join("(?, ?, ?, ?)" for _ in mentions)
        params = [
            value
            for index, m in enumerate(mentions)
            for value in (index, m.source, m.external_id, m.text)
        ]
        rows = await self._all(
            f"WITH batch(i, source, external_id, text) AS (VALUES {values})"
            " SELECT b.i FROM batch b JOIN mentions m"
            " ON m.source = b.source AND m.external_id = b.external_id"
            " WHERE m.text IS NOT b.text ORDER BY b.i",
            params,
        )
        return [r[0] for r in rows]

    async def stored_texts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The stored text of each of ``keys`` (source, external id) that is stored. One
        query for the whole batch."""
        if not keys:
            return {}
        values = ",".join("(?, ?)" for _ in keys)
        rows = await self._all(
            f"WITH batch(source, external_id) AS (VALUES {values})"
            " SELECT m.source, m.external_id, m.text FROM batch b JOIN mentions m"
            " ON m.source = b.source AND m.external_id = b.external_id",
            [value for key in keys for value in key],
        )
        return {(r[0], r[1]): r[2] for r in rows}

    async def replace_texts(
        self, mentions: Sequence[IncomingMention], scores: Sequence[Score]
    ) -> list[int]:
        """Edited posts, in one transaction: each stored mention (by source and external id)
        whose text differs keeps its previous text as a version and takes the new text, score,
        payload and language, re-indexed for search. Returns the ids changed."""
        if len(mentions) != len(scores):
            raise ValueError("one score per mention")
        if not mentions:
            return []
        values = ",".join("(?, ?, ?)" for _ in mentions)
        params = [
            value for index, m in enumerate(mentions) for value in (index, m.source, m.external_id)
        ]

        async def body(db: aiosqlite.Connection) -> list[int]:
            found = await self._all(
                f"WITH batch(i, source, external_id) AS (VALUES {values})"
                " SELECT b.i, m.id, m.text, m.author FROM batch b JOIN mentions m"
                " ON m.source = b.source AND m.external_id = b.external_id ORDER BY b.i",
                params,
            )
            changed = [
                (index, mention_id, old, author)
                for index, mention_id, old, author in found
                if old != mentions[index].text
            ]
            if not changed:
                return []
            now = to_ms(utcnow())
            await db.executemany(
                "INSERT INTO versions(mention_id, text, replaced_at) VALUES (?, ?, ?)",
                [(mention_id, old, now) for _, mention_id, old, _ in changed],
            )
            changed_ids = [mention_id for _, mention_id, _, _ in changed]
            in_changed = f"IN ({','.join('?' * len(changed_ids))})"
            await db.execute(  # as indexed: what the view shows of the rows still unchanged
                "INSERT INTO mentions_fts(mentions_fts, rowid, text, author)"
                f" SELECT 'delete', id, text, author FROM mentions_shown WHERE id {in_changed}",
                changed_ids,
            )
            await db.executemany(
                "UPDATE mentions SET text = ?, compound = ?, label = ?, reasons = ?, raw = ?,"
                " language = coalesce(?, language) WHERE id = ?",
                [
                    (
                        mentions[index].text,
                        scores[index].compound,
                        scores[index].label,
                        _reasons_json(scores[index]),
                        mentions[index].raw,
                        mentions[index].language,
                        mention_id,
                    )
                    for index, mention_id, _, _ in changed
                ],
            )
            await self._set_scorers(
                db, [(mention_id, scores[index].model) for index, mention_id, _, _ in changed]
            )
            await index_rows(db, f"id {in_changed}", changed_ids)
            edit_note = "source reported an edit"
            await db.executemany(
                "INSERT INTO events(mention_id, at, by, unix_user, action, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (mention_id, now, self.operator, self.unix_user, "edited", edit_note)
                    for _, mention_id, _, _ in changed
                ],
            )
            return [mention_id for _, mention_id, _, _ in changed]

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

    async def _match(self, filt: Filter) -> str | None:
        """The FTS5 query for the filter's search (None: no search), with a prefix too long
        for a prefix index replaced by the words it stands for (see ``tui.store.search``)."""
        search = parse(filt.search) if filt.search else None
        if search is None:
            return None
        expansions = None
        if search.expands:
            found = await self._all(EXPANSIONS_SQL, (search.last, EXPAND_MAX + 1))
            expansions = starting_with(search.last, [r[0] for r in found])
        return fts_query(search, expansions)

    def _filtered(self, filt: Filter, match: str | None = None) -> tuple[str, list[Any]]:
        """FROM/WHERE for a filter; the driving table is the most selective index.

        ``match``: the search as ``_match`` made it (None: made here, without expansions)."""
        params: list[Any] = []
        where: list[str] = []
        # CROSS JOIN fixes the join order: the search or tag drives, so a rare term combined
        # with a broad filter never turns into a scan of the broad filter's index.
        if filt.urgent:
            # Open mentions by due time (the response clock's partial index): keyset pages on
            # (due_at, id), the bound being the due time of the row given by id.
            source = (
                "mention_sla s INDEXED BY mention_sla_open CROSS JOIN mentions m"
                " ON m.id = s.mention_id"
            )
            where.append("s.answered_at IS NULL AND m.status = 'new'")
            key = "s.mention_id"
            if filt.search and (query := match or fts_query(filt.search)):
                where.append("m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
                params.append(query)
        elif filt.search and (query := match or fts_query(filt.search)):
            source = "mentions_fts f CROSS JOIN mentions m ON m.id = f.rowid"
            where.append("mentions_fts MATCH ?")
            params.append(query)
            key = "f.rowid"
        elif filt.tag:
            source = "mention_tags t CROSS JOIN mentions m ON m.id = t.mention_id"
            where.append("t.tag = ?")
            params.append(filt.tag)
            key = "t.mention_id"
        elif filt.assignment in ("mine", "assigned"):
            # Held mentions are few: walk the claims' partial index (see _assignment).
            held = "mention_claims_assignee" if filt.assignment == "mine" else "mention_claims_held"
            source = (
                f"mention_claims c INDEXED BY {held} CROSS JOIN mentions m ON m.id = c.mention_id"
            )
            key = "c.mention_id"
        elif filt.negative_only:
            # Open negatives are few: walk their partial index (the planner, without
            # statistics, would rather walk every new mention on mentions_status).
            source = "mentions m INDEXED BY mentions_negative_open"
            key = "m.id"
        else:
            source = "mentions m"
            key = "m.id"
        if filt.tag and (filt.search or filt.urgent):
            where.append("m.id IN (SELECT mention_id FROM mention_tags WHERE tag = ?)")
            params.append(filt.tag)
        if filt.negative_only:
            # Open negatives, exactly the partial index mentions_negative_open (and the count
            # in the status line).
            where.append("coalesce(m.operator_label, m.label) = 'negative' AND m.status = 'new'")
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
        if filt.assignment:
            where.append(self._assignment(filt, key, params))
        if filt.urgent:
            bound = "(coalesce((SELECT due_at FROM mention_sla WHERE mention_id = ?), ?), ?)"
            sql = f"FROM {source} WHERE " + " AND ".join(
                [*where, f"(s.due_at, m.id) {{op}} {bound}"]
            )
            return sql + " ORDER BY s.due_at {order}, m.id {order} LIMIT ?", params
        sql = f"FROM {source} WHERE " + " AND ".join([*where, f"{key} {{op}} ?"])
        return sql + f" ORDER BY {key} {{order}} LIMIT ?", params

    @staticmethod
    def _bound(
        filt: Filter, op: str, mention_id: int | None, default: int
    ) -> tuple[list[Any], str]:
        """The keyset bound's parameters, and ``op`` as the filter's order needs it.

        Lists run newest first (``<`` goes down the list); the urgent list runs by due time,
        soonest first, so going down is ``>`` there. A mention that left the urgent index
        bounds at the far end, as if its due time were ``default``'s."""
        if not filt.urgent:
            return [mention_id if mention_id is not None else default], op
        flipped = ">" if op == "<" else "<"
        far = -(2**62) if flipped == ">" else 2**62
        if mention_id is None:
            return [None, far, far], flipped
        return [mention_id, far, mention_id], flipped

    async def page_before(self, filt: Filter, before_id: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows older than ``before_id`` (None: from the newest), newest first."""
        sql, params = self._filtered(filt, await self._match(filt))
        bound, op = self._bound(filt, "<", before_id, 2**62)
        sql = sql.format(op=op, order="DESC" if op == "<" else "ASC")
        rows = await self._all(f"SELECT {_ROW_COLUMNS} {sql}", [*params, *bound, limit])
        return [_row(r) for r in rows]

    async def page_after(self, filt: Filter, after_id: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` rows just newer than ``after_id`` (None: the oldest), newest first."""
        sql, params = self._filtered(filt, await self._match(filt))
        bound, op = self._bound(filt, ">", after_id, -1)
        sql = sql.format(op=op, order="ASC" if op == ">" else "DESC")
        rows = await self._all(f"SELECT {_ROW_COLUMNS} {sql}", [*params, *bound, limit])
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

    async def alert_candidates(
        self,
        after: int,
        upto: int,
        *,
        negative: bool,
        min_reach: int | None,
        since: datetime | None,
        limit: int,
    ) -> list[tuple[Row, tuple[int | None, int | None] | None]]:
        """The mentions with ``after < id <= upto`` (oldest first) that a mention rule could
        fire on: the negatives (when ``negative``) and those whose author's followers or post's
        reach reach ``min_reach``, posted from ``since``; each with its (followers, engagement)
        when it has reach figures. The rest are never read, so a burst of neutral mentions
        costs the rules nothing."""
        either = []
        if negative:
            either.append("coalesce(m.operator_label, m.label) = 'negative'")
        if min_reach is not None:
            either.append(f"r.followers >= {int(min_reach)} OR r.engagement >= {int(min_reach)}")
        if not either:
            return []
        fresh = "" if since is None else f" AND m.created_at >= {to_ms(since)}"
        found = await self._all(
            f"SELECT {_ROW_COLUMNS}, r.followers, r.engagement, r.mention_id IS NOT NULL"
            " FROM mentions m LEFT JOIN mention_reach r ON r.mention_id = m.id"
            f" WHERE m.id > ? AND m.id <= ?{fresh} AND ({' OR '.join(either)})"
            " ORDER BY m.id LIMIT ?",
            (after, upto, limit),
        )
        return [(_row(r), (r[-3], r[-2]) if r[-1] else None) for r in found]

    async def count_newer(self, filt: Filter, after_id: int, cap: int = 10_000) -> int:
        """How many rows matching ``filt`` are newer than ``after_id`` (counted up to ``cap``)."""
        match = await self._match(filt)
        if match is not None and replace(filt, search=None) == Filter():
            # A search alone: count index entries, without reading each mention's row.
            (count,) = await self._one(
                "SELECT count(*) FROM (SELECT 1 FROM mentions_fts WHERE mentions_fts MATCH ?"
                " AND rowid > ? ORDER BY rowid LIMIT ?)",
                (match, after_id, cap),
            )
            return int(count)
        sql, params = self._filtered(filt, match)
        bound, op = self._bound(filt, ">", after_id, -1)
        sql = sql.format(op=op, order="ASC" if op == ">" else "DESC")
        (count,) = await self._one(f"SELECT count(*) FROM (SELECT 1 {sql})", [*params, *bound, cap])
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
        found = await self._mentions([mention_id], full=full)
        return found[0] if found else None

    async def mentions(self, ids: Sequence[int]) -> list[Mention]:
        """The full mentions of ``ids`` still stored, in that order, as ``mention`` gives each:
        read ``MENTIONS_BATCH`` at a time, with one query per table for the batch (an export
        of 10,000 mentions makes about 240 queries, not one or more per table per mention)."""
        kept: list[Mention] = []
        for start in range(0, len(ids), MENTIONS_BATCH):
            kept.extend(await self._mentions(ids[start : start + MENTIONS_BATCH], full=True))
        return kept

    async def _mentions(self, ids: Sequence[int], *, full: bool) -> list[Mention]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        params = list(ids)

        async def by_mention(sql: str) -> dict[int, list[Any]]:
            """Rows of ``sql`` (mention id first, ``{marks}`` for the ids) by mention, in the
            query's order."""
            grouped: dict[int, list[Any]] = {}
            for r in await self._all(sql.format(marks=marks), params):
                grouped.setdefault(r[0], []).append(r[1:])
            return grouped

        def first(grouped: dict[int, list[Any]], mention_id: int) -> Any:
            rows = grouped.get(mention_id)
            return rows[0] if rows else None

        rows = await self._all(
            f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE id IN ({marks})", params
        )
        if not rows:
            return []
        follows = await by_mention(
            "SELECT mention_id, due_at, note, done FROM follow_ups WHERE mention_id IN ({marks})"
        )
        models = await by_mention(
            "SELECT mention_id, model FROM mention_models WHERE mention_id IN ({marks})"
        )
        links = await by_mention(
            "SELECT mention_id, link FROM mention_links WHERE mention_id IN ({marks})"
        )
        reaches = await by_mention(
            "SELECT mention_id, detail FROM mention_reach WHERE mention_id IN ({marks})"
        )
        clocks = await by_mention(
            "SELECT mention_id, due_at, answered_at FROM mention_sla WHERE mention_id IN ({marks})"
        )
        if full:
            snapshots = await self._snapshots_of(ids)
            drafts = await by_mention(
                "SELECT mention_id, text, updated_at, by FROM drafts"
                " WHERE mention_id IN ({marks}) ORDER BY updated_at"
            )
            events = await by_mention(
                "SELECT mention_id, id, at, by, action, detail, unix_user FROM events"
                " WHERE mention_id IN ({marks}) ORDER BY id"
            )
            versions = await by_mention(
                "SELECT mention_id, text, replaced_at FROM versions"
                " WHERE mention_id IN ({marks}) ORDER BY id"
            )
            claims = await by_mention(
                "SELECT mention_id, assigned_to FROM mention_claims WHERE mention_id IN ({marks})"
            )
            notes = await by_mention(
                "SELECT mention_id, text, at, by FROM notes"
                " WHERE mention_id IN ({marks}) ORDER BY id"
            )
        found: dict[int, Mention] = {}
        for row in rows:
            mention_id = row[0]
            follow = first(follows, mention_id)
            model = first(models, mention_id)
            link = first(links, mention_id)
            reach = first(reaches, mention_id)
            clock = first(clocks, mention_id)
            mention = Mention(
                id=mention_id,
                source=row[1],
                external_id=row[2],
                url=row[3],
                author=row[4],
                text=row[5],
                created_at=from_ms(row[6]),
                collected_at=from_ms(row[7]),
                language=row[8],
                score=Score(
                    row[9],
                    row[10],
                    tuple(Reason(t, w) for t, w in json.loads(row[11])),
                    str(model[0]) if model else LEXICON,
                ),
                operator_label=row[12],
                status=row[13],
                tags=_split_tags(row[14]),
                follow_up=FollowUp(from_ms(follow[0]), follow[1], bool(follow[2]))
                if follow
                else None,
                deleted_at=from_ms(row[15]) if row[15] is not None else None,
                raw=bytes(row[16]),
                link=str(link[0]) if link else None,
                reach=dict(json.loads(reach[0])) if reach else {},
                due_at=from_ms(clock[0]) if clock else None,
                answered_at=from_ms(clock[1]) if clock and clock[1] is not None else None,
            )
            if full:
                claim = first(claims, mention_id)
                mention = replace(
                    mention,
                    snapshots=snapshots.get(mention_id, ()),
                    drafts=tuple(
                        Draft(mention_id, r[0], from_ms(r[1]), r[2])
                        for r in drafts.get(mention_id, ())
                    ),
                    events=tuple(
                        Event(r[0], mention_id, from_ms(r[1]), r[2], r[3], r[4], r[5])
                        for r in events.get(mention_id, ())
                    ),
                    versions=tuple(
                        Version(r[0], from_ms(r[1])) for r in versions.get(mention_id, ())
                    ),
                    assigned_to=claim[0] if claim else None,
                    notes=tuple(Note(r[0], from_ms(r[1]), r[2]) for r in notes.get(mention_id, ())),
                )
            found[mention_id] = mention
        return [found[i] for i in ids if i in found]

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
        bound, op = self._bound(filt, ">", None, -1)
        sql = sql.format(op=op, order="ASC" if op == ">" else "DESC")
        rows = await self._all(f"SELECT m.id {sql}", [*params, *bound, 2**62])
        ids = [r[0] for r in rows]
        return ids if op == ">" else ids[::-1]

    # -- operator actions (each with its event, in one transaction) --------------------------

    async def _require(self, db: aiosqlite.Connection, mention_id: int) -> str:
        row = await self._one("SELECT tags FROM mentions WHERE id = ?", (mention_id,))
        if row is None:
            raise KeyError(f"no mention {mention_id}")
        return str(row[0])

    async def add_tag(self, mention_id: int, tag: str) -> tuple[str, ...]:
        """Add ``tag`` in its normalized form (``normalize_tag``); ValueError if it has none."""
        tag = normalize_tag(tag)

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
        """Remove ``tag``, matched in its normalized form; a tag stored exactly as given (from
        before tags were normalized) is removed too."""
        try:
            wanted = normalize_tag(tag)
        except ValueError:
            wanted = tag

        async def body(db: aiosqlite.Connection) -> tuple[str, ...]:
            tags = set(_split_tags(await self._require(db, mention_id)))
            found = wanted if wanted in tags else tag
            if found in tags:
                tags.discard(found)
                await db.execute(
                    "DELETE FROM mention_tags WHERE tag = ? AND mention_id = ?", (found, mention_id)
                )
                await db.execute(
                    "UPDATE mentions SET tags = ? WHERE id = ?", (_join_tags(tags), mention_id)
                )
                await self._event(db, mention_id, "untag", found)
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

    async def save_draft(self, mention_id: int, text: str, *, event: bool = True) -> None:
        """Store the operator's reply draft for the mention (one per operator); empty text
        removes it. ``event=False`` is the editor's autosave: the text is kept, and the history
        records the draft when the operator saves or closes the editor."""

        async def body(db: aiosqlite.Connection) -> None:
            await self._require(db, mention_id)
            if text:
                await db.execute(
                    "INSERT INTO drafts(mention_id, by, text, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(mention_id, by) DO UPDATE SET text = excluded.text,"
                    " updated_at = excluded.updated_at",
                    (mention_id, self.operator, text, to_ms(utcnow())),
                )
            else:
                await db.execute(
                    "DELETE FROM drafts WHERE mention_id = ? AND by = ?",
                    (mention_id, self.operator),
                )
            if event:
                await self._event(db, mention_id, "draft", {"chars": len(text)})

        await self._transaction(body)

    async def add_snapshot(self, mention_id: int) -> Snapshot:
        """Freeze the mention as it is now: text, raw payload, SHA-256 of the text. A mention
        with a URL also gets its page fetch queued, in the same transaction, so the fetch
        is never lost (``claim_page_fetches``)."""
        (snapshot,) = await self.add_snapshots([mention_id])
        return snapshot

    async def add_snapshots(self, mention_ids: Sequence[int]) -> list[Snapshot]:
        """``add_snapshot`` of several mentions in one transaction (a batch's automatic
        snapshots); ``KeyError`` (and nothing stored) if one is missing."""

        async def body(db: aiosqlite.Connection) -> list[Snapshot]:
            taken = utcnow()
            snapshots = []
            for mention_id in mention_ids:
                row = await self._one(
                    "SELECT text, raw, url FROM mentions WHERE id = ?", (mention_id,)
                )
                if row is None:
                    raise KeyError(f"no mention {mention_id}")
                text, raw, url = row
                digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                async with db.execute(
                    "INSERT INTO snapshots(mention_id, taken_at, by, text, sha256, url, raw)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (mention_id, to_ms(taken), self.operator, text, digest, url, raw),
                ) as cur:
                    (snapshot_id,) = await cur.fetchone()  # type: ignore[misc]
                if url:
                    await db.execute(
                        "INSERT INTO snapshot_fetches(snapshot_id, state, next_try)"
                        " VALUES (?, 'pending', ?)",
                        (snapshot_id, to_ms(taken)),
                    )
                await self._event(db, mention_id, "snapshot", {"sha256": digest, "id": snapshot_id})
                snapshots.append(
                    Snapshot(
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
                        fetch_state="pending" if url else None,
                        next_fetch=taken if url else None,
                    )
                )
            return snapshots

        return await self._transaction(body)

    async def _snapshots_of(self, ids: Sequence[int]) -> dict[int, tuple[Snapshot, ...]]:
        """The snapshots of each of ``ids`` that has any, oldest first."""
        marks = ",".join("?" * len(ids))
        rows = await self._all(
            "SELECT s.id, s.taken_at, s.by, s.text, s.sha256, s.url, p.status, p.error,"
            " p.sha256, p.size, p.fetched_at, f.state, f.attempts, f.next_try, f.last_error,"
            " s.mention_id"
            " FROM snapshots s"
            " LEFT JOIN snapshot_pages p ON p.snapshot_id = s.id"
            " LEFT JOIN snapshot_fetches f ON f.snapshot_id = s.id"
            f" WHERE s.mention_id IN ({marks}) ORDER BY s.id",
            list(ids),
        )
        snapshots: dict[int, list[Snapshot]] = {}
        for r in rows:
            mention_id = r[15]
            done = r[10] is not None
            if done:
                state = r[11] if r[11] in ("fetched", "failed") else _page_state(r[6])
            else:
                state = (r[11] or "pending") if r[5] else None
            snapshots.setdefault(mention_id, []).append(
                Snapshot(
                    id=r[0],
                    mention_id=mention_id,
                    taken_at=from_ms(r[1]),
                    by=r[2],
                    text=r[3],
                    sha256=r[4],
                    url=r[5],
                    fetch_status=r[6],
                    fetch_error=r[7] if done else r[14],
                    page_sha256=r[8],
                    page_size=r[9],
                    fetched=done,
                    fetch_state=state,
                    fetch_attempts=r[12] or (1 if done else 0),
                    next_fetch=from_ms(r[13]) if state == "pending" and r[13] is not None else None,
                )
            )
        return {mention_id: tuple(found) for mention_id, found in snapshots.items()}

    async def add_snapshot_page(
        self, snapshot_id: int, *, status: int | None, error: str | None, page: bytes | None
    ) -> None:
        """Store the page behind a snapshot (or why there is none) and end its fetch: fetched
        for an HTTP 2xx or 3xx answer, failed otherwise."""

        async def body(db: aiosqlite.Connection) -> None:
            state = _page_state(status)
            await db.execute(
                "INSERT INTO snapshot_fetches(snapshot_id, state, attempts) VALUES (?, ?, 1)"
                " ON CONFLICT(snapshot_id) DO UPDATE SET state = excluded.state,"
                " attempts = max(attempts, 1), claimed_by = NULL, claimed_host = NULL,"
                " claimed_pid = NULL, claimed_at = NULL",
                (snapshot_id, state),
            )
            await self._store_page(db, snapshot_id, status, error, page)

        await self._transaction(body)

    async def _store_page(
        self,
        db: aiosqlite.Connection,
        snapshot_id: int,
        status: int | None,
        error: str | None,
        page: bytes | None,
    ) -> None:
        """The page row (written once: the table refuses UPDATE) and its event."""
        digest = hashlib.sha256(page).hexdigest() if page is not None else None
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
        (mention_id, attempts) = await self._one(
            "SELECT s.mention_id, f.attempts FROM snapshots s"
            " LEFT JOIN snapshot_fetches f ON f.snapshot_id = s.id WHERE s.id = ?",
            (snapshot_id,),
        )
        await self._event(
            db,
            mention_id,
            "snapshot_page",
            {
                "id": snapshot_id,
                "status": status,
                "error": error,
                "sha256": digest,
                "attempts": attempts,
            },
        )

    # -- page fetches: queued with the snapshot, claimed by one process, retried -------------

    async def claim_page_fetches(
        self, claimer: str, limit: int = 1, *, stale_after_s: float
    ) -> list[PageClaim]:
        """Claim up to ``limit`` page fetches that are due, for ``claimer`` to do.

        In the same ``BEGIN IMMEDIATE`` transaction, fetches claimed by a process that is gone
        (same host, pid not alive) or whose claim is older than ``stale_after_s`` become
        pending again, so a ``kill -9`` mid-fetch delays a page but never loses it; and since
        claiming is one transaction, two processes never claim the same fetch.
        """
        host, pid = this_process()
        now = to_ms(utcnow())

        async def body(db: aiosqlite.Connection) -> list[PageClaim]:
            await self._reclaim(db, now, stale_after_s)
            due = await self._all(
                "SELECT f.snapshot_id, s.mention_id, s.url, f.attempts FROM snapshot_fetches f"
                " JOIN snapshots s ON s.id = f.snapshot_id"
                " WHERE f.state = 'pending' AND f.next_try <= ?"
                " ORDER BY f.next_try, f.snapshot_id LIMIT ?",
                (now, limit),
            )
            await db.executemany(
                "UPDATE snapshot_fetches SET state = 'fetching', attempts = attempts + 1,"
                " claimed_by = ?, claimed_host = ?, claimed_pid = ?, claimed_at = ?"
                " WHERE snapshot_id = ?",
                [(claimer, host, pid, now, r[0]) for r in due],
            )
            return [PageClaim(r[0], r[1], r[2], r[3] + 1) for r in due]

        return await self._transaction(body)

    async def _reclaim(self, db: aiosqlite.Connection, now: int, stale_after_s: float) -> None:
        stale = now - int(stale_after_s * 1000)
        claimed = await self._all(
            "SELECT snapshot_id, claimed_host, claimed_pid, claimed_at FROM snapshot_fetches"
            " WHERE state = 'fetching'"
        )
        abandoned = [(now, r[0]) for r in claimed if (r[3] or 0) < stale or is_gone(r[1], r[2])]
        await db.executemany(
            "UPDATE snapshot_fetches SET state = 'pending', next_try = ?,"
            " last_error = 'interrupted: the process fetching it stopped',"
            " claimed_by = NULL, claimed_host = NULL, claimed_pid = NULL, claimed_at = NULL"
            " WHERE snapshot_id = ? AND state = 'fetching'",
            abandoned,
        )

    async def page_fetch_outlook(self, stale_after_s: float) -> tuple[datetime | None, bool]:
        """(when the next pending fetch is due, whether a claimed one was abandoned): what a
        fetch loop reads to know whether to claim, without taking the write lock."""
        (due,) = await self._one(
            "SELECT min(next_try) FROM snapshot_fetches WHERE state = 'pending'"
        )
        stale = to_ms(utcnow()) - int(stale_after_s * 1000)
        claimed = await self._all(
            "SELECT claimed_host, claimed_pid, claimed_at FROM snapshot_fetches"
            " WHERE state = 'fetching'"
        )
        abandoned = any((r[2] or 0) < stale or is_gone(r[0], r[1]) for r in claimed)
        return (from_ms(due) if due is not None else None), abandoned

    async def _settle_claim(
        self, db: aiosqlite.Connection, claim: PageClaim, claimer: str, sets: str, params: tuple
    ) -> bool:
        """Apply ``sets`` to the fetch if ``claimer`` still holds its claim; whether it did."""
        async with db.execute(
            f"UPDATE snapshot_fetches SET {sets}, claimed_by = NULL, claimed_host = NULL,"
            " claimed_pid = NULL, claimed_at = NULL"
            " WHERE snapshot_id = ? AND state = 'fetching' AND claimed_by = ?",
            (*params, claim.snapshot_id, claimer),
        ) as cursor:
            return cursor.rowcount == 1

    async def finish_page_fetch(
        self,
        claim: PageClaim,
        claimer: str,
        *,
        status: int | None,
        error: str | None,
        page: bytes | None,
        fetched: bool,
    ) -> bool:
        """The claimed fetch's final outcome: the page (or the reason there is none), stored
        once. False, and nothing stored, if the claim was lost (taken over as stale)."""

        async def body(db: aiosqlite.Connection) -> bool:
            state = "fetched" if fetched else "failed"
            if not await self._settle_claim(
                db, claim, claimer, "state = ?, last_error = ?", (state, error)
            ):
                return False
            await self._store_page(db, claim.snapshot_id, status, error, page)
            return True

        return await self._transaction(body)

    async def retry_page_fetch(
        self, claim: PageClaim, claimer: str, *, error: str, next_try: datetime
    ) -> bool:
        """The claimed attempt failed in a way worth retrying: pending again from
        ``next_try``, with the reason kept for the detail pane."""

        async def body(db: aiosqlite.Connection) -> bool:
            return await self._settle_claim(
                db,
                claim,
                claimer,
                "state = 'pending', next_try = ?, last_error = ?",
                (to_ms(next_try), error),
            )

        return await self._transaction(body)

    async def release_page_fetch(self, claim: PageClaim, claimer: str) -> bool:
        """Hand a claimed fetch back unattempted (the process is stopping): pending at once,
        and the interrupted attempt does not count."""

        async def body(db: aiosqlite.Connection) -> bool:
            return await self._settle_claim(
                db,
                claim,
                claimer,
                "state = 'pending', next_try = ?, attempts = max(attempts - 1, 0)",
                (to_ms(utcnow()),),
            )

        return await self._transaction(body)

    async def events(self, mention_id: int | None = None) -> list[Event]:
        sql = "SELECT id, mention_id, at, by, action, detail, unix_user FROM events"
        params: tuple[Any, ...] = ()
        if mention_id is not None:
            sql += " WHERE mention_id = ?"
            params = (mention_id,)
        rows = await self._all(sql + " ORDER BY id", params)
        return [Event(r[0], r[1], from_ms(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    # -- sources: cursors, health, the collector lease -----------------------------------------

    _SOURCE_COLUMNS = (
        "name, cursor, state, last_success, last_error, last_error_at, rate_remaining,"
        " next_poll, kind"
    )

    async def source_state(self, name: str) -> SourceState | None:
        row = await self._one(
            f"SELECT {self._SOURCE_COLUMNS} FROM source_state WHERE name = ?", (name,)
        )
        return _source_state(row) if row else None

    async def source_states(self) -> list[SourceState]:
        rows = await self._all(f"SELECT {self._SOURCE_COLUMNS} FROM source_state ORDER BY name")
        return [_source_state(r) for r in rows]

    async def record_poll(
        self,
        name: str,
        *,
        state: str,
        error: str | None = None,
        rate_remaining: str | None = None,
        next_poll: datetime | None = None,
        kind: str | None = None,
    ) -> None:
        """Record a poll's outcome (the cursor is saved by ``add_mentions``); ``kind`` (the
        source's kind, ``demo`` for the demo stream) is kept when given."""
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
                " rate_remaining = coalesce(?, rate_remaining), next_poll = ?,"
                " kind = coalesce(?, kind) WHERE name = ?",
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
                    kind,
                    name,
                ),
            )
            await self._cover(db, name, ok)

        await self._transaction(body)

    async def mentions_since(self, source: str, since: datetime) -> int:
        (count,) = await self._one(
            "SELECT count(*) FROM mentions WHERE source = ? AND collected_at >= ?",
            (source, to_ms(since)),
        )
        return int(count)

    async def has_mentions_outside(self, sources: Sequence[str], id_prefix: str) -> bool:
        """Whether any stored mention is not from one of ``sources`` with an external id
        starting ``id_prefix`` (stops at the first one found)."""
        marks = ",".join("?" * len(sources)) or "NULL"
        row = await self._one(
            f"SELECT EXISTS (SELECT 1 FROM mentions WHERE source NOT IN ({marks})"
            " OR substr(external_id, 1, ?) <> ?)",
            (*sources, len(id_prefix), id_prefix),
        )
        return bool(row[0])

    async def acquire_lease(
        self, holder: str, stale_after_s: float, name: str = "collector"
    ) -> bool:
        """Take or renew the lease; True if ``holder`` holds it afterwards.

        The lease is free when nobody holds it, when its heartbeat is older than
        ``stale_after_s``, or at once when its holder ran on this host and that process is
        gone (the row records host and pid)."""
        now = to_ms(utcnow())
        host, pid = this_process()

        async def body(db: aiosqlite.Connection) -> bool:
            row = await self._one(
                "SELECT holder, heartbeat, host, pid FROM lease WHERE name = ?", (name,)
            )
            if row is None or row[0] == holder or _lease_free(row, now, stale_after_s):
                await db.execute(
                    "INSERT INTO lease(name, holder, heartbeat, host, pid) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
                    " heartbeat = excluded.heartbeat, host = excluded.host, pid = excluded.pid",
                    (name, holder, now, host, pid),
                )
                if name == "collector":
                    await self._cover(db, COLLECTOR, None)  # the hours it ran: see gaps()
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

    async def lease_active(self, stale_after_s: float, name: str = "collector") -> str | None:
        """The holder of the lease if it is live (heartbeat fresh, process not known to be
        gone), else None: a read, for deciding whether to try ``acquire_lease``."""
        lease = await self.lease(stale_after_s, name)
        return lease.holder if lease is not None and lease.live else None

    async def lease(self, stale_after_s: float, name: str = "collector") -> Lease | None:
        """The lease row and whether its holder is still there (None: nobody took it, or it
        was released): what a status line shows, so that a holder killed with ``kill -9``
        is shown as gone, not as collecting."""
        row = await self._one(
            "SELECT holder, heartbeat, host, pid FROM lease WHERE name = ?", (name,)
        )
        if row is None:
            return None
        return Lease(
            row[0],
            from_ms(row[1]),
            row[2],
            row[3],
            _lease_state(row, to_ms(utcnow()), stale_after_s),
        )


async def _index_functions(db: aiosqlite.Connection) -> None:
    """What the search index's content view (``mentions_shown``) calls, on every connection.
    The schema is this program's own, so it may call it whatever SQLite's build defaults to."""
    await db.execute("PRAGMA trusted_schema = ON")
    await db.create_function("shown_text", 1, indexed, deterministic=True)


def _lease_free(row: Sequence[Any], now: int, stale_after_s: float) -> bool:
    """A lease row (holder, heartbeat, host, pid) whose holder is stale or gone."""
    return _lease_state(row, now, stale_after_s) != "live"


def _lease_state(row: Sequence[Any], now: int, stale_after_s: float) -> str:
    """``Lease.state`` of a lease row (holder, heartbeat, host, pid).

    A pid that was recorded and no longer exists on this host is ``gone`` at once. A pid
    reused by a new process (of any Unix user) reads as alive, so a reused pid can only
    delay the takeover until the heartbeat goes stale; it never makes a live holder look
    gone, since a live holder's pid is its own."""
    if is_gone(row[2], row[3]):
        return "gone"
    if row[1] < now - int(stale_after_s * 1000):
        return "stale"
    return "live"


def _page_state(status: int | None) -> str:
    """A finished fetch's state from its HTTP status: a 2xx or 3xx answer is a page."""
    return "fetched" if status is not None and 200 <= status < 400 else "failed"


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
        kind=row[8],
    )
