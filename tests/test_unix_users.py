"""Several Unix users, one database, for real: a group and three users are created with
``groupadd``/``useradd`` (and removed after), and each runs ``triage`` as themselves through
``setpriv``. ``writer`` and ``member`` are in the group; ``outsider`` is not.

Proves that an outsider's commands (failed or read-only) never leave a file that locks the
others out, that every file made in a shared directory stays group read-write whoever made it
and whatever their umask, that the outsider's error is one line naming the group to join, that
reading works read-only, that events carry the real Unix user, and (in tmux) that two apps run
by two users share one database. Needs root, as CI has; skipped otherwise.
"""

from __future__ import annotations

import grp
import importlib.metadata
import os
import pwd
import re
import shlex
import shutil
import site
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="creating Unix users and a group needs root (CI runs as root)"
)

REPO = Path(__file__).resolve().parents[1]
TMUX = shutil.which("tmux") or "tmux"
IMPORTS = "import tui.cli, tui.ui.app, aiosqlite, textual, httpx, vaderSentiment"
"""What a user's interpreter must be able to import to run every command and the app."""


@dataclass
class Team:
    group: str
    writer: str
    member: str
    outsider: str
    base: Path
    """A folder every user can reach; each user has a home in it."""
    python: str
    pythonpath: str
    made: list[str] = field(default_factory=list)

    def home(self, user: str) -> Path:
        return self.base / f"home-{user}"

    def env(self, user: str) -> dict[str, str]:
        home = self.home(user)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "PYTHONPATH": self.pythonpath,
            "PYTHONDONTWRITEBYTECODE": "1",
            # The environment says root: the Unix user must come from the process itself.
            "USER": "root",
            "LOGNAME": "root",
            "TERM": "xterm-256color",
        }

    def command(self, user: str, *args: str) -> list[str]:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to run commands as another user"
        return [setpriv, "--reuid", user, "--regid", user, "--init-groups", "--", *args]

    def run(
        self, user: str, *args: str, umask: int = 0o022, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``triage ARGS`` as ``user``."""
        return subprocess.run(
            self.command(user, self.python, "-m", "tui", *args),
            capture_output=True,
            text=True,
            env=self.env(user),
            umask=umask,
            input=stdin,
            timeout=120,
            cwd=self.base,
        )

    def spawn(self, user: str, code: str, *args: str, umask: int = 0o022) -> Holder:
        """Python ``code`` as ``user``, as a process that waits for a line on stdin."""
        proc = subprocess.Popen(
            self.command(user, self.python, "-c", code, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env(user),
            umask=umask,
            cwd=self.base,
        )
        return Holder(proc)

    def uid(self, user: str) -> int:
        return pwd.getpwnam(user).pw_uid


class Holder:
    """A process that keeps the database open until told to close it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "open\n", f"the holder did not open the database: {line!r}"

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0
        self.proc.stdout.close()


HOLD = textwrap.dedent(
    """
    import asyncio, sys
    from tui.store import Store

    async def main():
        store = await Store.open(sys.argv[1], "holder")
        await store.counts()
        print("open", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await store.close()

    asyncio.run(main())
    """
)
"""A writer that keeps the database open (as ``triage collect`` or an app does)."""


def _sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _dependencies(name: str) -> list[importlib.metadata.Distribution]:
    """``name``'s distribution and those it needs, as installed here."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [name]
    while todo:
        try:
            dist = importlib.metadata.distribution(todo.pop())
        except importlib.metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower()
        if key in found:
            continue
        found[key] = dist
        for requirement in dist.requires or ():
            if "extra ==" not in requirement:
                todo.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return list(found.values())


def _copy_runtime(target: Path) -> str:
    """Copy this checkout's ``tui`` and the installed packages it needs where every user can
    read them (the checkout or the virtual environment may sit in root's private home)."""
    lib = target / "lib"
    shutil.copytree(REPO / "tui", lib / "tui")
    for dist in _dependencies("mention-triage"):
        for file in dist.files or ():
            if ".." in file.parts or file.parts[0] == "tui":
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                (lib / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, lib / file)
    for folder in [target, *target.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return str(lib)


def _runtime(probe: Callable[[str, str], bool], scratch: Path) -> tuple[str, str]:
    """An interpreter and PYTHONPATH with which another user can run ``triage``."""
    pythons = [sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
    pythons = [p for p in pythons if Path(p).exists()]
    paths = os.pathsep.join([str(REPO), *site.getsitepackages()])
    if os.environ.get("TRIAGE_TEST_COPY_RUNTIME") != "1":
        for python in pythons:
            if probe(python, paths):
                return python, paths
    copied = _copy_runtime(scratch)
    for python in pythons:
        if probe(python, copied):
            return python, copied
    pytest.fail(
        f"no interpreter other users can run ({', '.join(pythons)}) could import the app "
        "from a copy readable by them either; install python3 from the system packages"
    )


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    assert shutil.which("useradd") and shutil.which("groupadd"), (
        "useradd and groupadd (Debian's passwd package) are needed to create test users"
    )
    tag = uuid.uuid4().hex[:6]
    group, names = f"trt{tag}", [f"tra{tag}", f"trm{tag}", f"tro{tag}"]
    base = Path(tempfile.mkdtemp(prefix="triage-users-"))
    base.chmod(0o755)
    made: list[str] = []
    try:
        _sh("groupadd", group)
        for name in names:
            extra = ["-G", group] if name != names[2] else []
            _sh("useradd", "-M", "-U", "-s", "/usr/sbin/nologin", *extra, name)
            made.append(name)
            home = base / f"home-{name}"
            home.mkdir(mode=0o700)
            os.chown(home, pwd.getpwnam(name).pw_uid, pwd.getpwnam(name).pw_gid)
        team = Team(group, *names, base=base, python="", pythonpath="", made=made)

        def probe(python: str, paths: str) -> bool:
            team.python, team.pythonpath = python, paths
            command = team.command(team.outsider, python, "-c", IMPORTS)
            result = subprocess.run(
                command, capture_output=True, env=team.env(team.outsider), cwd=base
            )
            return result.returncode == 0

        team.python, team.pythonpath = _runtime(probe, base / "runtime")
        yield team
    finally:
        for name in made:
            _remove_user(name)
        subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _remove_user(name: str) -> None:
    """``userdel``, waiting for the user's last processes (an app told to quit) to end; then
    ``userdel -f`` if one still runs. The user's own group goes with it."""
    deadline = time.monotonic() + 10
    while subprocess.run(["userdel", name], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            subprocess.run(["userdel", "-f", name], capture_output=True)
            break
        time.sleep(0.2)
    subprocess.run(["groupdel", name], capture_output=True)


@pytest.fixture
def records(team: Team) -> Callable[..., Path]:
    """Write a JSON Lines file every user can read; returns its path."""
    count = 0

    def write(*texts: str, first_id: int = 1) -> Path:
        nonlocal count
        count += 1
        path = team.base / f"in{count}-{uuid.uuid4().hex[:4]}.jsonl"
        lines = [
            f'{{"source": "s", "external_id": "{first_id + i}", "author": "a", "text": "{text}"}}'
            for i, text in enumerate(texts)
        ]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o644)
        return path

    return write


def _folder(team: Team, owner: str, name: str, mode: int) -> Path:
    """A fresh folder in ``owner``'s home (which the others may enter)."""
    home = team.home(owner)
    home.chmod(0o755)
    folder = home / f"{name}-{uuid.uuid4().hex[:4]}"
    folder.mkdir()
    os.chown(folder, team.uid(owner), pwd.getpwnam(owner).pw_gid)
    folder.chmod(mode)
    return folder


def _owned_by(folder: Path, uid: int) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.stat().st_uid == uid)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stderr.startswith("triage: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


# -- an outsider never locks the others out -------------------------------------------------------


def test_an_outsider_who_may_not_write_never_locks_the_owner_out(
    team: Team, records: Callable[..., Path]
) -> None:
    """The reported case: the outsider may create files in the folder (it is world-writable)
    but may not write the database. Nothing they run leaves a file behind."""
    folder = _folder(team, team.writer, "open", 0o777)
    db = str(folder / "m.db")
    first = records("the app keeps crashing", "love the new release")
    assert team.run(team.writer, "import", str(first), "--db", db).returncode == 0

    out = team.home(team.outsider)
    for args in (
        ["export", "--db", db],
        ["export", "--db", db, "--read-only", "-o", str(out / "x.jsonl")],
        ["import", str(first), "--db", db],
        ["evidence", "1", "-o", str(out), "--db", db],
        ["--db", db],  # the app: refused before any screen
    ):
        result = team.run(team.outsider, *args)
        assert result.returncode == 2, (args, result.stderr)
        _one_line(result)
        assert _owned_by(folder, team.uid(team.outsider)) == [], args

    # The owner carries on as if nothing happened.
    second = records("still crashing after the update", first_id=3)
    result = team.run(team.writer, "import", str(second), "--db", db)
    assert result.returncode == 0, result.stderr
    result = team.run(team.writer, "export", "--db", db)
    assert result.returncode == 0 and result.stdout.count("\n") == 3


def test_files_an_older_reader_left_behind_are_cleared_by_the_next_writer(
    team: Team, records: Callable[..., Path]
) -> None:
    """What happened before this fix: a plain SQLite read by the outsider leaves ``-wal`` and
    ``-shm`` owned by them, and every write fails. The owner's next command removes them
    (nobody has the database open, the ``-wal`` is empty) and works."""
    folder = _folder(team, team.writer, "stale", 0o777)
    db = folder / "m.db"
    assert (
        team.run(team.writer, "import", str(records("late again")), "--db", str(db)).returncode == 0
    )
    read = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('SELECT 1 FROM mentions')"
    subprocess.run(
        team.command(team.outsider, team.python, "-c", read, str(db)),
        check=True,
        env=team.env(team.outsider),
    )
    assert _owned_by(folder, team.uid(team.outsider)) == ["m.db-shm", "m.db-wal"]
    # As SQLite alone would have it: the owner cannot write.
    write = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('DELETE FROM lease')"
    stuck = subprocess.run(
        team.command(team.writer, team.python, "-c", write, str(db)),
        capture_output=True,
        text=True,
        env=team.env(team.writer),
    )
    assert "readonly database" in stuck.stderr

    doctor = team.run(team.writer, "doctor", "--db", str(db))
    assert "the database's owner" in doctor.stdout and "removes them" in doctor.stdout

    result = team.run(team.writer, "import", str(records("and again", first_id=2)), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert _owned_by(folder, team.uid(team.outsider)) == []


# -- a shared database ------------------------------------------------------------------------


def test_a_shared_database_stays_group_read_write_whoever_makes_its_files(
    team: Team, records: Callable[..., Path]
) -> None:
    parent = _folder(team, team.writer, "projects", 0o755)
    db = parent / "team" / "m.db"
    result = team.run(team.writer, "init", "--shared", team.group, "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert f"usermod -aG {team.group} USER" in result.stdout
    gid = grp.getgrnam(team.group).gr_gid
    folder = os.stat(db.parent)
    assert folder.st_gid == gid and folder.st_mode & stat.S_ISGID
    assert folder.st_mode & 0o070 == 0o070

    def group_rw(*owners: str) -> None:
        files = sorted(db.parent.iterdir())
        assert files, "no files"
        for file in files:
            info = file.stat()
            assert info.st_gid == gid, (file.name, grp.getgrgid(info.st_gid).gr_name)
            assert info.st_mode & 0o060 == 0o060, (file.name, oct(info.st_mode))
        if owners:
            names = {pwd.getpwuid(f.stat().st_uid).pw_name for f in files}
            assert names <= set(owners), names

    group_rw(team.writer)
    assert stat.S_IMODE(folder.st_mode) == 0o2770  # the team's only, until opened to readers:
    db.parent.chmod(0o2775)
    # The other member, with a private umask, writes: everything stays the group's.
    result = team.run(
        team.member, "import", str(records("refund took weeks")), "--db", str(db), umask=0o077
    )
    assert result.returncode == 0, result.stderr
    group_rw()

    # The member keeps it open, so -wal and -shm are theirs, made with that private umask.
    holder = team.spawn(team.member, HOLD, str(db), umask=0o077)
    try:
        wal, shm = db.with_name("m.db-wal"), db.with_name("m.db-shm")
        assert wal.stat().st_uid == shm.stat().st_uid == team.uid(team.member)
        group_rw()
        # The first member writes through the other's -wal and -shm.
        more = records("second complaint", "third one", first_id=2)
        result = team.run(team.writer, "import", str(more), "--db", str(db), umask=0o077)
        assert result.returncode == 0, result.stderr
        # The outsider reads (automatically read-only) and creates nothing.
        result = team.run(team.outsider, "export", "--db", str(db))
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") == 3
        assert f"reading only: {db} is not writable by {team.outsider}" in result.stderr
        assert f"join group {team.group}" in result.stderr
        assert _owned_by(db.parent, team.uid(team.outsider)) == []
        # So does the list of trained models; training is refused, with the group to join.
        result = team.run(team.outsider, "learn", "--list", "--db", str(db))
        assert result.returncode == 0, result.stderr
        assert "no model trained yet" in result.stdout
        result = team.run(team.outsider, "learn", "--db", str(db))
        assert result.returncode == 2 and f"join group {team.group}" in result.stderr
        assert _owned_by(db.parent, team.uid(team.outsider)) == []
        # A member with --read-only reads too, and writes nothing.
        result = team.run(team.writer, "export", "--db", str(db), "--read-only")
        assert result.returncode == 0 and result.stdout.count("\n") == 3
        result = team.run(team.writer, "learn", "--list", "--read-only", "--db", str(db))
        assert result.returncode == 0 and "no model trained yet" in result.stdout
        result = team.run(team.writer, "learn", "--read-only", "--db", str(db))
        assert result.returncode == 2 and "drop --read-only" in result.stderr
    finally:
        holder.close()
    group_rw()

    # A member reading with --read-only when nobody has it open creates -wal and -shm (as
    # SQLite must), group read-write, which do not block the other member.
    result = team.run(team.member, "export", "--db", str(db), "--read-only", umask=0o077)
    assert result.returncode == 0, result.stderr
    group_rw()
    result = team.run(team.writer, "import", str(records("fourth", first_id=5)), "--db", str(db))
    assert result.returncode == 0, result.stderr

    doctor = team.run(team.member, "doctor", "--db", str(db))
    database_rows = [line for line in doctor.stdout.splitlines() if " database " in line]
    assert database_rows and all(" ok " in row for row in database_rows), doctor.stdout


def test_an_outsider_gets_one_line_naming_the_group_to_join(
    team: Team, records: Callable[..., Path]
) -> None:
    parent = _folder(team, team.writer, "projects", 0o755)
    db = parent / "team" / "m.db"
    assert team.run(team.writer, "init", "--shared", team.group, "--db", str(db)).returncode == 0
    for args in (["import", str(records("late"))], ["export"], []):
        result = team.run(team.outsider, *args, "--db", str(db))
        assert result.returncode == 2, (args, result.stderr)
        line = _one_line(result)
        assert f"join group {team.group}" in line, line
        assert f"usermod -aG {team.group} {team.outsider}" in line, line
    assert _owned_by(db.parent, team.uid(team.outsider)) == []

    # Opened to readers (o+rx), with nobody connected: no -wal/-shm to read through, and the
    # outsider may not create them; one line again, and the two ways out.
    db.parent.chmod(0o2775)
    result = team.run(team.outsider, "export", "--db", str(db))
    assert result.returncode == 2
    line = _one_line(result)
    assert "nobody has it open" in line and "triage collect" in line
    assert f"join group {team.group}" in line
    assert sorted(p.name for p in db.parent.iterdir()) == ["m.db"]

    # Sharing a folder the user does not own: one line naming who may, exit 2.
    result = team.run(team.outsider, "init", "--shared", team.group, "--db", str(db))
    assert result.returncode == 2
    assert f"only its owner ({team.writer})" in _one_line(result)


def test_a_database_of_ones_own_made_read_only_says_chmod_not_ask_the_owner(
    team: Team, records: Callable[..., Path]
) -> None:
    parent = _folder(team, team.writer, "own", 0o755)
    db = parent / "m.db"
    assert team.run(team.writer, "import", str(records("late")), "--db", str(db)).returncode == 0
    db.chmod(0o444)
    result = team.run(team.writer, "import", str(records("late")), "--db", str(db))
    assert result.returncode == 2
    line = _one_line(result)
    assert f"is not writable by {team.writer}; it is yours: `chmod u+w {db}`" in line, line
    # Reading it needs the -wal and -shm nobody has open (a reader may not make them): the
    # same advice, as the file is the user's own.
    for reads in (["export"], ["learn", "--list"]):
        result = team.run(team.writer, *reads, "--db", str(db))
        assert result.returncode == 2, (reads, result.stderr)
        assert f"or it is yours: `chmod u+w {db}`" in _one_line(result)
    parent.chmod(0o555)
    fresh = parent / "new.db"
    result = team.run(team.writer, "import", str(records("late")), "--db", str(fresh))
    assert result.returncode == 2
    assert f"it is yours: `chmod u+w {parent}`" in _one_line(result)
    # The file writable again, its directory not: reading needs the -wal and -shm made there.
    db.chmod(0o644)
    result = team.run(team.writer, "export", "--db", str(db))
    assert result.returncode == 2
    line = _one_line(result)
    assert f"it is yours: `chmod u+w {parent}`" in line and f"chmod u+w {db}" not in line, line


# -- who did it ---------------------------------------------------------------------------------


def test_events_carry_the_real_unix_user(team: Team, records: Callable[..., Path]) -> None:
    parent = _folder(team, team.writer, "projects", 0o755)
    db = parent / "team" / "m.db"
    assert team.run(team.writer, "init", "--shared", team.group, "--db", str(db)).returncode == 0
    assert team.run(team.writer, "import", str(records("late")), "--db", str(db)).returncode == 0
    # The member calls themself "sam" in their config; the event still says who they are.
    config = team.home(team.member) / ".config" / "mention-triage"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('operator = "sam"\n')
    shutil.chown(config.parent, team.member)
    shutil.chown(config, team.member)
    result = team.run(team.member, "import", str(records("late, edited")), "--db", str(db))
    assert result.returncode == 0 and "1 updated" in result.stderr, result.stderr
    result = team.run(team.writer, "import", str(records("late, edited twice")), "--db", str(db))
    assert result.returncode == 0 and "1 updated" in result.stderr, result.stderr
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT by, unix_user, action FROM events ORDER BY id").fetchall()
    # USER and LOGNAME say root in their environment: the name comes from the process's uid.
    assert events == [("sam", team.member, "edited"), (team.writer, team.writer, "edited")]
    result = team.run(team.outsider, "export", "--db", str(db))
    assert result.returncode == 2  # the team's folder is closed to the outsider
    result = team.run(team.writer, "export", "--db", str(db))
    assert f'"by": "sam", "unix_user": "{team.member}"' in result.stdout


# -- the collector lease across users ------------------------------------------------------------

LEASE_HOLD = textwrap.dedent(
    """
    import asyncio, sys
    from tui.collector import holder_name
    from tui.store import Store

    async def main():
        store = await Store.open(sys.argv[1], "holder")
        assert await store.acquire_lease(holder_name("holder"), 60)
        print("open", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await store.release_lease(holder_name("holder"))
        await store.close()

    asyncio.run(main())
    """
)
"""A collector holding the lease (as ``triage collect`` does) until told to stop."""

LEASE_LOOK = textwrap.dedent(
    """
    import asyncio, sys
    from tui.store import Store

    async def main():
        store = await Store.open(sys.argv[1], "taker")
        lease = await store.lease(60)
        taken = await store.acquire_lease("taker@here pid 1", 60)
        print(lease.state if lease else "none", taken)
        await store.close()

    asyncio.run(main())
    """
)
"""How another user's process sees the lease (``Store.lease``), and whether it may take it."""


def test_a_collector_of_another_unix_user_holds_the_lease_until_it_is_killed(team: Team) -> None:
    """The member cannot signal the writer's process (EPERM): that means it is alive, and its
    lease stands. Killed with SIGKILL, it is gone for the member at once, not after the 60 s
    heartbeat limit, and the member takes the lease."""
    parent = _folder(team, team.writer, "lease", 0o755)
    db = parent / "team" / "m.db"
    assert team.run(team.writer, "init", "--shared", team.group, "--db", str(db)).returncode == 0
    holder = team.spawn(team.writer, LEASE_HOLD, str(db))

    def member_looks() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            team.command(team.member, team.python, "-c", LEASE_LOOK, str(db)),
            capture_output=True,
            text=True,
            env=team.env(team.member),
            cwd=team.base,
            timeout=60,
        )

    try:
        look = member_looks()
        assert look.returncode == 0, look.stderr
        assert look.stdout.split() == ["live", "False"]
    finally:
        holder.proc.kill()  # SIGKILL: the lease row stays, its heartbeat fresh
        holder.proc.wait(timeout=30)
        assert holder.proc.stdin is not None and holder.proc.stdout is not None
        holder.proc.stdin.close()
        holder.proc.stdout.close()
    look = member_looks()
    assert look.returncode == 0, look.stderr
    assert look.stdout.split() == ["gone", "True"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT holder FROM lease").fetchall() == [("taker@here pid 1",)]


READ_LOOK = textwrap.dedent(
    """
    import asyncio, sys
    from tui.store import Store

    async def main():
        # Two connections, opened one after the other, as the app opens its stores.
        first = await Store.open(sys.argv[1], "reader", read_only=None)
        second = await Store.open(sys.argv[1], "reader", read_only=None)
        print("open" if first.read_only and second.read_only else "writable?", flush=True)
        while (await asyncio.to_thread(sys.stdin.readline)).strip():
            counts = await first.counts()
            print(counts.total, await first.data_version(), flush=True)
        await second.close()
        await first.close()

    asyncio.run(main())
    """
)
"""A reader that prints the total and ``data_version`` for each line it reads."""


def test_a_read_only_app_keeps_the_wal_files_and_sees_every_later_write(
    team: Team, records: Callable[..., Path]
) -> None:
    """Opening a second connection read the database's header through a descriptor it then
    closed, and closing any descriptor of a file drops every POSIX lock the process holds on
    it: the first connection's SHARED lock went. The last writer to quit then deleted -wal and
    -shm under the reader, the next writer made new ones, and the reader, still on the old
    -shm, never saw another change, and its ``data_version`` never moved."""
    parent = _folder(team, team.writer, "follow", 0o755)
    db = parent / "team" / "m.db"
    assert team.run(team.writer, "init", "--shared", team.group, "--db", str(db)).returncode == 0
    db.parent.chmod(0o2775)  # the outsider may enter and read, not write
    assert team.run(team.writer, "import", str(records("one")), "--db", str(db)).returncode == 0
    db.chmod(0o664)  # -wal and -shm take the database's mode
    shm = db.with_name(db.name + "-shm")
    first = team.spawn(team.writer, HOLD, str(db))
    reader = team.spawn(team.outsider, READ_LOOK, str(db))
    assert reader.proc.stdin is not None and reader.proc.stdout is not None

    def look() -> tuple[int, int]:
        reader.proc.stdin.write("look\n")  # type: ignore[union-attr]
        reader.proc.stdin.flush()  # type: ignore[union-attr]
        total, version = reader.proc.stdout.readline().split()  # type: ignore[union-attr]
        return int(total), int(version)

    try:
        total, version = look()
        assert total == 1
        first.close()  # the last writer: it must see the reader and leave -wal and -shm
        assert shm.exists(), "the last writer deleted -wal and -shm under the reader"
        second = team.spawn(team.writer, HOLD, str(db))
        try:
            result = team.run(
                team.member, "import", str(records("two", "three", first_id=2)), "--db", str(db)
            )
            assert result.returncode == 0, result.stderr
            total, later = look()
            assert total == 3, "the reader did not see what was written after the writers came back"
            assert later != version
        finally:
            second.close()
        result = team.run(team.member, "import", str(records("four", first_id=4)), "--db", str(db))
        assert result.returncode == 0, result.stderr
        total, last = look()
        assert total == 4 and last != later
    finally:
        reader.close()
        if first.proc.poll() is None:
            first.close()
    assert _owned_by(db.parent, team.uid(team.outsider)) == []


# -- two apps, two users -----------------------------------------------------------------------


class Terminal:
    def __init__(self, socket: Path, command: Sequence[str], env: dict[str, str]) -> None:
        self.socket = socket
        line = "exec env -i " + shlex.join([f"{k}={v}" for k, v in env.items()])
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", "110", "-y", "30", f"{line} {shlex.join(command)}"
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            [TMUX, "-S", str(self.socket), *args], check=True, capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([TMUX, "-S", str(self.socket), "kill-server"], capture_output=True)


def test_two_apps_as_two_unix_users_on_one_database(
    team: Team, records: Callable[..., Path]
) -> None:
    assert shutil.which(TMUX), "tmux is required for terminal tests (.ci/run installs it)"
    parent = _folder(team, team.writer, "projects", 0o755)
    db = parent / "team" / "m.db"
    assert team.run(team.writer, "init", "--shared", team.group, "--db", str(db)).returncode == 0
    db.parent.chmod(0o2775)  # readers outside the group may enter
    result = team.run(
        team.writer, "import", str(records("the app keeps crashing")), "--db", str(db)
    )
    assert result.returncode == 0
    terminals: list[Terminal] = []

    def start(user: str) -> Terminal:
        command = team.command(user, team.python, "-m", "tui", "--db", str(db))
        terminal = Terminal(team.base / f"tmux-{user}.sock", command, team.env(user))
        terminals.append(terminal)
        return terminal

    try:
        writer = start(team.writer)
        writer.wait_for("the app keeps crashing")
        outsider = start(team.outsider)  # reads while the writer's app has the database open
        outsider.wait_for("read-only")  # the status line may land in a later frame than the rows
        screen = outsider.wait_for("the app keeps crashing")
        assert "read-only" in screen.splitlines()[0], screen
        assert "done" not in screen
        assert "read-only" not in writer.screen().splitlines()[0]

        outsider.keys("d")
        outsider.wait_for("Read-only: nothing can be changed")
        writer.keys("d")
        writer.wait_for("Marked done")
        # The outsider's app sees the writer's change (list and detail pane show the status).
        outsider.wait_for("done")
        with sqlite3.connect(db) as conn:
            events = conn.execute("SELECT by, unix_user, action FROM events").fetchall()
        assert events == [(team.writer, team.writer, "status")]
        assert _owned_by(db.parent, team.uid(team.outsider)) == []
        for terminal in (outsider, writer):
            terminal.keys("q")
        deadline = time.monotonic() + 20
        while any(_alive(t) for t in terminals) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(t) for t in terminals), "an app did not quit"
    finally:
        for terminal in terminals:
            terminal.close()
    assert _owned_by(db.parent, team.uid(team.outsider)) == []
    result = team.run(
        team.member, "import", str(records("after both quit", first_id=2)), "--db", str(db)
    )
    assert result.returncode == 0, result.stderr


def _alive(terminal: Terminal) -> bool:
    try:
        terminal._tmux("has-session", "-t", "t")
    except subprocess.CalledProcessError:
        return False
    return True
