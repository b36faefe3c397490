"""The database schema as forward migrations, applied in order by ``PRAGMA user_version``.

Append a new script to ``MIGRATIONS`` to change the schema; never edit one that has shipped.

Layout notes:
- ``mentions`` is listed newest-first by ``id`` (arrival order), so keyset pages are
  ``WHERE id < ? ORDER BY id DESC`` on the primary key, and FTS5's rowid order is the same order.
- Each fixed filter of the list has a partial index; tags are denormalized into ``mentions.tags``
  for display and kept in ``mention_tags`` (indexed by tag) for filtering.
- ``events`` and ``snapshots`` are append-only: triggers refuse UPDATE and DELETE. So is
  ``snapshot_pages`` (a page, once fetched); the fetch's progress (pending, claimed, retried)
  is the one mutable part and lives in ``snapshot_fetches``.
- The raw payload is the last column of ``mentions`` so page reads skip its overflow pages.
  Anything new about a mention that list pages do not need goes in a side table keyed by
  ``mention_id`` (``mention_links``), never in a column after ``raw``.
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
    # 4: the page a post links to (a Hacker News story's link), in a side table: a column
    # added to ``mentions`` would land after ``raw``, which stays last on purpose
    """
    CREATE TABLE mention_links (
        mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),
        link       TEXT NOT NULL
    );
    """,
    # 5: page fetches as durable work (queued with the snapshot, claimed by one process,
    # retried, recovered after a crash); the lease and claims name their host and pid, so a
    # dead holder is known at once; each source records its kind (the demo stream is "demo")
    """
    CREATE TABLE snapshot_fetches (
        snapshot_id  INTEGER PRIMARY KEY REFERENCES snapshots(id),
        state        TEXT NOT NULL DEFAULT 'pending',  -- pending, fetching, fetched, failed
        attempts     INTEGER NOT NULL DEFAULT 0,       -- attempts started
        next_try     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        claimed_by   TEXT,
        claimed_host TEXT,
        claimed_pid  INTEGER,
        claimed_at   INTEGER
    );
    CREATE INDEX snapshot_fetches_due ON snapshot_fetches(next_try) WHERE state = 'pending';
    CREATE INDEX snapshot_fetches_claimed ON snapshot_fetches(claimed_at)
        WHERE state = 'fetching';
    -- Snapshots whose fetch never finished (the app quit or died) are fetched again.
    INSERT INTO snapshot_fetches(snapshot_id, state)
        SELECT s.id, 'pending' FROM snapshots s
        WHERE coalesce(s.url, '') <> ''
          AND NOT EXISTS (SELECT 1 FROM snapshot_pages p WHERE p.snapshot_id = s.id);
    INSERT INTO snapshot_fetches(snapshot_id, state, attempts)
        SELECT p.snapshot_id,
               CASE WHEN p.status BETWEEN 200 AND 399 THEN 'fetched' ELSE 'failed' END, 1
        FROM snapshot_pages p;

    ALTER TABLE lease ADD COLUMN host TEXT;
    ALTER TABLE lease ADD COLUMN pid INTEGER;
    ALTER TABLE source_state ADD COLUMN kind TEXT;
    """,
    # 6: search as you type stays fast at any size (see tui/store/search.py): prefix indexes
    # for two- and three-character prefixes, and every distinct word of the index, so that a
    # longer prefix is searched as an OR of the words it stands for
    """
    DROP TABLE mentions_fts;
    CREATE VIRTUAL TABLE mentions_fts USING fts5(
        text, author, content='mentions', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    );
    INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild');
    CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE VIRTUAL TABLE temp.mentions_fts_terms USING fts5vocab(main, mentions_fts, 'row');
    INSERT INTO search_terms(term) SELECT term FROM temp.mentions_fts_terms;
    DROP TABLE temp.mentions_fts_terms;
    """,
    # 7: every event records the Unix user whose process wrote it (``by`` stays the operator's
    # display name from the config); events written before this are NULL, unknown
    """
    ALTER TABLE events ADD COLUMN unix_user TEXT;
    """,
    # learned sentiment models (see tui/store/models.py): one append-only row per training,
    # the model as data with its cross-validated figures; which learned model scored each
    # mention, in a side table (no row: the lexicon); and the operator labels, indexed for
    # gathering them to train on
    """
    CREATE TABLE sentiment_models (
        version    INTEGER PRIMARY KEY,
        trained_at INTEGER NOT NULL,
        trained_by TEXT NOT NULL,
        labels     INTEGER NOT NULL,
        last_event INTEGER NOT NULL,
        in_charge  INTEGER NOT NULL,
        figures    TEXT NOT NULL DEFAULT '{}',
        model      BLOB
    );
    CREATE TRIGGER sentiment_models_append_only_update BEFORE UPDATE ON sentiment_models
        BEGIN SELECT RAISE(ABORT, 'sentiment models are append-only'); END;
    CREATE TRIGGER sentiment_models_append_only_delete BEFORE DELETE ON sentiment_models
        BEGIN SELECT RAISE(ABORT, 'sentiment models are append-only'); END;
    CREATE TABLE mention_models (
        mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),
        model      TEXT NOT NULL
    );
    CREATE INDEX mentions_operator_label ON mentions(id) WHERE operator_label IS NOT NULL;
    """,
    # team work (see tui/store/claims.py, notes.py, undo.py): who holds each mention (a row
    # once it was ever claimed, ``assigned_to`` NULL when released), written by compare-and-set;
    # internal notes, append-only; which events an undo took back; events by operator, for
    # "my last action" and the known operators
    """
    CREATE TABLE mention_claims (
        mention_id  INTEGER PRIMARY KEY REFERENCES mentions(id),
        assigned_to TEXT,
        assigned_at INTEGER NOT NULL,
        assigned_by TEXT NOT NULL
    );
    CREATE INDEX mention_claims_assignee ON mention_claims(assigned_to, mention_id)
        WHERE assigned_to IS NOT NULL;
    CREATE INDEX mention_claims_held ON mention_claims(mention_id)
        WHERE assigned_to IS NOT NULL;
    CREATE TABLE notes (
        id         INTEGER PRIMARY KEY,
        mention_id INTEGER NOT NULL REFERENCES mentions(id),
        at         INTEGER NOT NULL,
        by         TEXT NOT NULL,
        unix_user  TEXT,
        text       TEXT NOT NULL
    );
    CREATE INDEX notes_mention ON notes(mention_id);
    CREATE TRIGGER notes_append_only_update BEFORE UPDATE ON notes
        BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END;
    CREATE TRIGGER notes_append_only_delete BEFORE DELETE ON notes
        BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END;
    CREATE TABLE undone (
        event_id INTEGER PRIMARY KEY REFERENCES events(id),
        undo_id  INTEGER NOT NULL REFERENCES events(id)
    );
    CREATE INDEX events_by ON events(by, id);
    """,
    # presence (see tui/store/presence.py): one heartbeat row per running app, deleted when it
    # quits and ignored once stale; events by operator and time, for "handled this shift"
    """
    CREATE TABLE presence (
        app            TEXT PRIMARY KEY,
        operator       TEXT NOT NULL,
        unix_user      TEXT NOT NULL,
        host           TEXT NOT NULL,
        pid            INTEGER NOT NULL,
        started_at     INTEGER NOT NULL,
        beat_at        INTEGER NOT NULL,
        mention_id     INTEGER,
        activity       TEXT NOT NULL DEFAULT 'browsing',
        activity_since INTEGER NOT NULL
    );
    CREATE INDEX events_by_at ON events(by, at);
    """,
    # 11: on call (tui/store/clock.py, rollups.py, alerts.py). The response clock per mention;
    # counts per 15 minutes of post time by source and label (and by tag), kept in the
    # transaction of every write that changes them (new mentions per batch, like FTS, by
    # ``ON_CALL_FOR_NEW``; label, status and tag changes by triggers), so trends and baselines
    # never scan mentions; hours the collector ran or a source failed; alerts and their
    # deliveries; what each source says of a post's reach. ``sla_due`` is a function every
    # connection defines (``Store._configure``): the due time depends on the configured
    # targets and hours.
    """
    CREATE TABLE mention_sla (
        mention_id  INTEGER PRIMARY KEY REFERENCES mentions(id),
        due_at      INTEGER NOT NULL,
        answered_at INTEGER
    );
    CREATE INDEX mention_sla_open ON mention_sla(due_at, mention_id) WHERE answered_at IS NULL;
    INSERT INTO mention_sla(mention_id, due_at, answered_at)
        SELECT id, created_at + CASE coalesce(operator_label, label)
                   WHEN 'negative' THEN 1800000 ELSE 3600000 END,
               CASE WHEN status = 'done' THEN coalesce(
                   (SELECT min(e.at) FROM events e WHERE e.mention_id = m.id
                    AND e.action IN ('status', 'reply_copied', 'replied')), collected_at) END
        FROM mentions m;

    CREATE TABLE counts (
        bucket INTEGER NOT NULL,
        source TEXT NOT NULL,
        label  TEXT NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (bucket, source, label)
    ) WITHOUT ROWID;
    INSERT INTO counts
        SELECT created_at / 900000, source, coalesce(operator_label, label), count(*)
        FROM mentions GROUP BY 1, 2, 3;
    CREATE TABLE tag_counts (
        tag    TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        label  TEXT NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (tag, bucket, label)
    ) WITHOUT ROWID;
    INSERT INTO tag_counts
        SELECT t.tag, m.created_at / 900000, coalesce(m.operator_label, m.label), count(*)
        FROM mention_tags t JOIN mentions m ON m.id = t.mention_id GROUP BY 1, 2, 3;

    CREATE TRIGGER mentions_on_call_label AFTER UPDATE OF label, operator_label ON mentions
        WHEN coalesce(OLD.operator_label, OLD.label) IS NOT coalesce(NEW.operator_label, NEW.label)
    BEGIN
        UPDATE counts SET n = n - 1 WHERE bucket = OLD.created_at / 900000
            AND source = OLD.source AND label = coalesce(OLD.operator_label, OLD.label);
        INSERT INTO counts VALUES (
            NEW.created_at / 900000, NEW.source, coalesce(NEW.operator_label, NEW.label), 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
        UPDATE tag_counts SET n = n - 1 WHERE bucket = OLD.created_at / 900000
            AND label = coalesce(OLD.operator_label, OLD.label)
            AND tag IN (SELECT tag FROM mention_tags WHERE mention_id = NEW.id);
        INSERT INTO tag_counts
            SELECT tag, NEW.created_at / 900000, coalesce(NEW.operator_label, NEW.label), 1
            FROM mention_tags WHERE mention_id = NEW.id AND true
            ON CONFLICT DO UPDATE SET n = n + 1;
        UPDATE mention_sla SET due_at = sla_due(NEW.created_at,
            coalesce(NEW.operator_label, NEW.label)) WHERE mention_id = NEW.id;
    END;
    CREATE TRIGGER mentions_on_call_done AFTER UPDATE OF status ON mentions
        WHEN NEW.status = 'done' AND OLD.status IS NOT 'done'
    BEGIN
        UPDATE mention_sla SET answered_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
            WHERE mention_id = NEW.id AND answered_at IS NULL;
    END;
    CREATE TRIGGER events_on_call_replied AFTER INSERT ON events
        WHEN NEW.action IN ('reply_copied', 'replied') AND NEW.mention_id IS NOT NULL
    BEGIN
        UPDATE mention_sla SET answered_at = NEW.at
            WHERE mention_id = NEW.mention_id AND answered_at IS NULL;
    END;
    CREATE TRIGGER mention_tags_on_call_insert AFTER INSERT ON mention_tags BEGIN
        INSERT INTO tag_counts
            SELECT NEW.tag, created_at / 900000, coalesce(operator_label, label), 1
            FROM mentions WHERE id = NEW.mention_id AND true
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER mention_tags_on_call_delete AFTER DELETE ON mention_tags BEGIN
        UPDATE tag_counts SET n = n - 1 WHERE tag = OLD.tag AND (bucket, label) =
            (SELECT created_at / 900000, coalesce(operator_label, label)
             FROM mentions WHERE id = OLD.mention_id);
    END;
    CREATE INDEX mentions_created ON mentions(created_at);

    CREATE TABLE coverage (
        source TEXT NOT NULL,
        hour   INTEGER NOT NULL,
        ok     INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source, hour)
    ) WITHOUT ROWID;

    CREATE TABLE mention_reach (
        mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),
        followers  INTEGER,
        engagement INTEGER,
        detail     TEXT NOT NULL DEFAULT '{}'
    );

    CREATE TABLE alerts (
        id          INTEGER PRIMARY KEY,
        key         TEXT NOT NULL UNIQUE,
        rule        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        at          INTEGER NOT NULL,
        mention_id  INTEGER REFERENCES mentions(id),
        title       TEXT NOT NULL,
        explanation TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT '{}',
        acked_at    INTEGER,
        acked_by    TEXT
    );
    CREATE INDEX alerts_open ON alerts(id) WHERE acked_at IS NULL;
    CREATE INDEX alerts_at ON alerts(at);
    CREATE TABLE deliveries (
        alert_id   INTEGER NOT NULL REFERENCES alerts(id),
        channel    TEXT NOT NULL,
        state      TEXT NOT NULL DEFAULT 'pending',
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_at    INTEGER NOT NULL,
        claimed_at INTEGER,
        claimed_by TEXT,
        sent_at    INTEGER,
        message    TEXT,
        error      TEXT,
        PRIMARY KEY (alert_id, channel)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
    CREATE TABLE alert_state (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO alert_state VALUES ('mention_cursor', (SELECT coalesce(max(id), 0) FROM mentions));
    """,
    # 12: the index holds the text as it shows (``shown_text``, tui/store/search.py), so that a
    # word split by an invisible character or an escape sequence is found by what it reads; its
    # content table is a view of that form, so that rebuild and integrity-check agree with it
    """
    CREATE VIEW mentions_shown AS
    SELECT id, shown_text(text) AS text, shown_text(author) AS author FROM mentions;
    DROP TABLE mentions_fts;
    CREATE VIRTUAL TABLE mentions_fts USING fts5(
        text, author, content='mentions_shown', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    );
    INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild');
    DELETE FROM search_terms;
    CREATE VIRTUAL TABLE temp.mentions_fts_terms USING fts5vocab(main, mentions_fts, 'row');
    INSERT INTO search_terms(term) SELECT term FROM temp.mentions_fts_terms;
    DROP TABLE temp.mentions_fts_terms;
    """,
)

ON_CALL_FOR_NEW = (
    """INSERT INTO mention_sla(mention_id, due_at, answered_at)
    SELECT id, sla_due(created_at, coalesce(operator_label, label)),
           CASE WHEN status = 'done' THEN collected_at END
    FROM mentions WHERE id > ?""",
    """INSERT INTO counts(bucket, source, label, n)
    SELECT created_at / 900000, source, coalesce(operator_label, label), count(*)
    FROM mentions WHERE id > ? GROUP BY 1, 2, 3
    ON CONFLICT DO UPDATE SET n = n + excluded.n""",
)
"""What migration 11's tables need for the mentions with ids above the parameter, run in the
transaction that added them (a statement per batch, not a trigger per row)."""
