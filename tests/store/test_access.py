"""The store's access policy (``tui.store.access``, ``tui.store.sharing``) as the current user:
read-only connections, the lock that keeps ``-wal``/``-shm`` while one opens, group modes in a
shared directory, the Unix user on events. What needs several Unix users is in
``tests/test_unix_users.py``."""

from __future__ import annotations

import contextlib
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.cli import main
from tui.core.model import Event, IncomingMention, Mention, Reason, Score, utcnow
from tui.core.records import CSV_FIELDS, to_csv_row, to_record
from tui.store import Store, StoreError, access
from tui.store.schema import MIGRATIONS
from tui.store.sharing import diagnose
from tui.ui.widgets.detail import render_mention

NEG = Score(-0.6, "negative", (Reason("late", -1.5),))
ME = pwd.getpwuid(os.geteuid()).pw_name


async def _one_mention(path: Path, operator: str = "tester") -> int:
    store = await Store.open(path, operator)
    try:
        mention = IncomingMention("demo", "1", "late again")
        (mention_id,) = await store.add_mentions([mention], [NEG])
    finally:
        await store.close()
    return mention_id


def _holder(path: Path) -> subprocess.Popen[str]:
    """Another process with the database open; it closes (last, so SQLite deletes -wal and
    -shm if it can lock) when a line arrives on its stdin."""
    code = textwrap.dedent(
        """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("SELECT count(*) FROM mentions").fetchone()
        print("open", flush=True)
        sys.stdin.readline()
        db.close()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "open\n"
    return proc


def _close(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\n")
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
    proc.stdout.close()


async def test_the_guard_keeps_wal_files_that_the_last_writer_would_delete(db_path: Path) -> None:
    await _one_mention(db_path)
    wal, shm = access.companions(db_path)
    # Without the guard, the last connection to close deletes both files.
    holder = _holder(db_path)
    assert wal.exists() and shm.exists()
    _close(holder)
    assert not wal.exists() and not shm.exists()
    # With it held (as while a read-only connection opens), they stay.
    holder = _holder(db_path)
    with access.opening_read_only(db_path, may_create=False):
        _close(holder)
        assert wal.exists() and shm.exists()


async def test_a_reader_that_may_not_create_wal_files_is_refused_and_creates_none(
    db_path: Path,
) -> None:
    await _one_mention(db_path)
    assert not any(c.exists() for c in access.companions(db_path))
    with (
        pytest.raises(access.AccessError) as refused,
        access.opening_read_only(db_path, may_create=False),
    ):
        pass
    message = str(refused.value)
    assert "\n" not in message and "nobody has it open" in message
    assert "would lock the others out" in message
    assert sorted(p.name for p in db_path.parent.glob(db_path.name + "*")) == [db_path.name]


async def test_read_only_store_reads_live_and_refuses_every_write(db_path: Path) -> None:
    mention_id = await _one_mention(db_path)
    writer = await Store.open(db_path, "writer")
    reader = await Store.open(db_path, "reader", read_only=True)
    try:
        assert reader.read_only and reader.read_only_reason == "opened with --read-only"
        assert (await reader.counts()).total == 1
        version = await reader.data_version()
        with pytest.raises(StoreError, match="read-only, nothing saved"):
            await reader.add_tag(mention_id, "billing")
        with pytest.raises(StoreError, match="read-only"):
            await reader.set_status(mention_id, "done")
        await writer.add_tag(mention_id, "billing")  # another connection's write shows up
        assert await reader.data_version() != version
        mention = await reader.mention(mention_id)
        assert mention is not None and mention.tags == ("billing",)
        assert [e.action for e in await reader.events()] == ["tag"]
    finally:
        await reader.close()
        await writer.close()


async def test_read_only_needs_the_current_schema(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
    with pytest.raises(StoreError) as refused:
        await Store.open(db_path, "reader", read_only=True)
    assert f"needs {len(MIGRATIONS)}" in str(refused.value)
    assert "without --read-only" in str(refused.value)
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


async def test_read_only_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(StoreError, match="does not exist; drop --read-only"):
        await Store.open(path, "reader", read_only=True)
    assert not path.exists()


async def test_events_record_the_unix_user_beside_the_display_name(db_path: Path) -> None:
    mention_id = await _one_mention(db_path)
    store = await Store.open(db_path, "sam")
    try:
        assert store.unix_user == ME
        await store.add_tag(mention_id, "billing")
        (event,) = await store.events(mention_id)
        assert (event.by, event.unix_user, event.action) == ("sam", ME, "tag")
        assert event.who == f"sam (unix: {ME})"
        mention = await store.mention(mention_id)
        assert mention is not None and mention.events == (event,)
    finally:
        await store.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT by, unix_user FROM events").fetchall() == [("sam", ME)]


async def test_events_from_before_the_migration_keep_an_unknown_unix_user(db_path: Path) -> None:
    # The schema just before the migration that adds the column (others may follow it).
    (ours,) = [i for i, script in enumerate(MIGRATIONS) if "ADD COLUMN unix_user" in script]
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA journal_mode = WAL")
        for number, script in enumerate(MIGRATIONS[:ours], start=1):
            db.executescript(script)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO events(at, by, action) VALUES (0, 'old', 'tag')")
    store = await Store.open(db_path, ME)
    try:
        (old,) = await store.events()
        assert old.unix_user is None and old.who == "old"
    finally:
        await store.close()


def test_history_shows_the_unix_user_where_it_differs() -> None:
    now = utcnow()
    events = (
        Event(1, 1, now, "sam", "tag", '"billing"', "sbrown"),
        Event(2, 1, now, "sbrown", "status", '"done"', "sbrown"),
    )
    mention = Mention(
        id=1,
        source="demo",
        external_id="1",
        url=None,
        author="a",
        text="late again",
        created_at=now,
        collected_at=now,
        language="en",
        score=NEG,
        operator_label=None,
        tags=(),
        status="new",
        follow_up=None,
        deleted_at=None,
        raw=b"",
        events=events,
    )
    shown = "\n".join(str(part) for part in render_mention(mention).renderables)
    assert "sam (unix: sbrown) tag" in shown
    assert "sbrown status" in shown and "sbrown (unix" not in shown
    (first, _) = to_record(mention)["history"]
    assert {k: v for k, v in first.items() if k != "at"} == {
        "by": "sam",
        "unix_user": "sbrown",
        "action": "tag",
        "detail": '"billing"',
    }
    assert "history" in CSV_FIELDS
    assert '"unix_user": "sbrown"' in to_csv_row(to_record(mention))["history"]


async def test_in_a_shared_directory_every_file_is_group_read_write(tmp_path: Path) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o2770)
    path = shared / "m.db"
    old = os.umask(0o077)  # a private umask: the files must still be group read-write
    try:
        store = await Store.open(path, "tester")
        try:
            for file in (path, *access.companions(path)):
                info = os.stat(file)
                assert info.st_mode & 0o060 == 0o060, (file, oct(info.st_mode))
                assert info.st_gid == os.stat(shared).st_gid
        finally:
            await store.close()
    finally:
        os.umask(old)
    findings = diagnose(path)
    assert any("read-write for the group" in f.detail for f in findings)
    # pytest's temporary folders are private to their owner, which the doctor notices.
    problems = [f for f in findings if f.status != "ok"]
    assert all("cannot reach" in f.detail and "chmod o+x" in f.detail for f in problems)


def _sqlite_file(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t(x)")


def test_doctor_names_the_fix_for_each_file(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o770)  # group-writable, not setgid
    _sqlite_file(loose / "m.db")
    (error,) = [f for f in diagnose(loose / "m.db") if f.status == "error"]
    assert "not setgid" in error.detail and f"chmod g+s {loose}" in error.detail

    team = tmp_path / "team"
    team.mkdir()
    os.chmod(team, 0o2770)
    _sqlite_file(team / "m.db")
    os.chmod(team / "m.db", 0o640)
    errors = [f for f in diagnose(team / "m.db") if f.status == "error"]
    (error,) = [f for f in errors if "cannot reach" not in f.detail]
    assert f"chmod g+rw {team / 'm.db'}" in error.detail and "group cannot read" in error.detail


def test_doctor_says_a_file_that_is_no_database_is_the_wrong_file(tmp_path: Path) -> None:
    (tmp_path / "noise.db").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.db").write_bytes(b"")
    for name, what in (("noise.db", "is not an SQLite database"), ("empty.db", "is empty")):
        errors = [f.detail for f in diagnose(tmp_path / name) if f.status == "error"]
        assert any(e.startswith(f"{tmp_path / name} {what}; check --db") for e in errors), errors
    _sqlite_file(tmp_path / "real.db")
    assert not [f for f in diagnose(tmp_path / "real.db") if "check --db" in f.detail]
    (tmp_path / "folder.db").mkdir()
    errors = [f.detail for f in diagnose(tmp_path / "folder.db") if f.status == "error"]
    assert f"{tmp_path / 'folder.db'} is a directory; give --db the database file" in errors


def test_read_only_flag_is_refused_by_commands_that_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"source": "s", "external_id": "1", "text": "late"}\n')
    db = str(tmp_path / "m.db")
    assert main(["import", str(source), "--db", db, "--read-only"]) == 2
    err = capsys.readouterr().err
    assert err == "triage: import writes to the database; drop --read-only\n"
    assert not Path(db).exists()
    assert main(["import", str(source), "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "--db", db, "--read-only"]) == 0
    out = capsys.readouterr().out
    assert '"text": "late"' in out


def test_init_with_an_unknown_group_is_one_line_naming_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["init", "--shared", "no-such-group-x9", "--db", str(tmp_path / "t" / "m.db")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "no group 'no-such-group-x9'" in err and "groupadd no-such-group-x9" in err
    assert not (tmp_path / "t").exists()


def test_init_shared_sets_up_directory_and_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import grp

    group = grp.getgrgid(os.getegid()).gr_name
    path = tmp_path / "team" / "m.db"
    assert main(["init", "--shared", group, "--db", str(path)]) == 0
    out = capsys.readouterr().out
    info = os.stat(path.parent)
    assert stat.S_IMODE(info.st_mode) == 0o2770 and info.st_gid == os.getegid()
    assert os.stat(path).st_mode & 0o060 == 0o060
    assert f"usermod -aG {group} USER" in out and f"schema version {len(MIGRATIONS)}" in out
