"""The database schema as forward migrations, applied in order by ``PRAGMA user_version``.

Append a new script to ``MIGRATIONS`` to change the schema; never edit one that has shipped.

Layout notes:
- ``mentions`` is listed newest-first by ``id`` (arrival order), so keyset pages are
  ``WHERE id < ? ORDER BY id DESC`` on the primary key, and FTS5's rowid order is the same order.
- Each fixed filter of the list has a partial index; tags are denormalized into ``mentions.tags``
  for display and kept in ``mention_tags`` (indexed by tag) for filtering.
- ``events`` and ``snapshots`` are append-only: triggers refuse UPDATE and DELETE.
- The raw payload is the last column of ``mentions`` so page reads skip its overflow pages.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: initial schema
    """
    CREATE TABLE mentions (
        id             INTEGER PRIMARY KEY,
        source         TEXT NOT NULL,
        external_id    TEXT NOT NULL,
        url            TEXT,
        author         TEXT NOT NULL DEFAULT '',
        text           TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        collected_at   INTEGER NOT NULL,
        language       TEXT,
        compound       REAL,
        label          TEXT NOT NULL,
        reasons        TEXT NOT NULL DEFAULT '[]',
        operator_label TEXT,
        status         TEXT NOT NULL DEFAULT 'new',
        tags           TEXT NOT NULL DEFAULT '',
        follow_up_due  INTEGER,
        deleted_at     INTEGER,
        raw            BLOB NOT NULL DEFAULT x'',
        UNIQUE (source, external_id)
    );
    CREATE INDEX mentions_negative ON mentions(id)
        WHERE coalesce(operator_label, label) = 'negative';
    CREATE INDEX mentions_negative_open ON mentions(id)
        WHERE coalesce(operator_label, label) = 'negative' AND status = 'new';
    CREATE INDEX mentions_status ON mentions(status, id);
    CREATE INDEX mentions_source ON mentions(source, id);
    CREATE INDEX mentions_follow_up ON mentions(follow_up_due) WHERE follow_up_due IS NOT NULL;

    CREATE TABLE mention_tags (
        tag        TEXT NOT NULL,
        mention_id INTEGER NOT NULL REFERENCES mentions(id),
        PRIMARY KEY (tag, mention_id)
    ) WITHOUT ROWID;
    CREATE INDEX mention_tags_mention ON mention_tags(mention_id);

    CREATE VIRTUAL TABLE mentions_fts USING fts5(
        text, author, content='mentions', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );

    CREATE TABLE follow_ups (
        mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),
        due_at     INTEGER NOT NULL,
        note       TEXT NOT NULL DEFAULT '',
        done       INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE drafts (
        mention_id INTEGER NOT NULL REFERENCES mentions(id),
        by         TEXT NOT NULL,
        text       TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (mention_id, by)
    );

    CREATE TABLE snapshots (
        id         INTEGER PRIMARY KEY,
        mention_id INTEGER NOT NULL REFERENCES mentions(id),
        taken_at   INTEGER NOT NULL,
        by         TEXT NOT NULL,
        text       TEXT NOT NULL,
        sha256     TEXT NOT NULL,
        url        TEXT,
        raw        BLOB NOT NULL
    );
    -- The page behind a snapshot's URL, fetched after the snapshot itself was stored so a slow
    -- site never delays (or, if the app dies, loses) the snapshot. Written once.
    CREATE TABLE snapshot_pages (
        snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id),
        fetched_at  INTEGER NOT NULL,
        status      INTEGER,
        error       TEXT,
        sha256      TEXT,
        size        INTEGER,
        page        BLOB
    );
    CREATE TRIGGER snapshot_pages_immutable_update BEFORE UPDATE ON snapshot_pages
        BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
    CREATE TRIGGER snapshot_pages_immutable_delete BEFORE DELETE ON snapshot_pages
        BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
    CREATE INDEX snapshots_mention ON snapshots(mention_id);
    CREATE TRIGGER snapshots_immutable_update BEFORE UPDATE ON snapshots
        BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
    CREATE TRIGGER snapshots_immutable_delete BEFORE DELETE ON snapshots
        BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;

    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        mention_id INTEGER REFERENCES mentions(id),
        at         INTEGER NOT NULL,
        by         TEXT NOT NULL,
        action     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_mention ON events(mention_id);
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

    CREATE TABLE versions (
        id          INTEGER PRIMARY KEY,
        mention_id  INTEGER NOT NULL REFERENCES mentions(id),
        text        TEXT NOT NULL,
        replaced_at INTEGER NOT NULL
    );
    CREATE INDEX versions_mention ON versions(mention_id);

    CREATE TABLE source_state (
        name           TEXT PRIMARY KEY,
        cursor         TEXT,
        state          TEXT NOT NULL DEFAULT 'idle',
        last_success   INTEGER,
        last_error     TEXT,
        last_error_at  INTEGER,
        rate_remaining TEXT,
        next_poll      INTEGER
    );

    CREATE TABLE lease (
        name      TEXT PRIMARY KEY,
        holder    TEXT NOT NULL,
        heartbeat INTEGER NOT NULL
    );
    """,
    # 2: the "follow-ups due" filter pages by id; give it an index that does
    """
    CREATE INDEX mentions_follow_up_page ON mentions(id, follow_up_due)
        WHERE follow_up_due IS NOT NULL;
    """,
    # 3: source health counts each source's mentions of the last hour
    """
    CREATE INDEX mentions_source_collected ON mentions(source, collected_at);
    """,
)
