"""Who may write a database, decided before SQLite opens it, and the files SQLite makes beside it.

SQLite reads and writes a WAL database through two files next to it, ``-wal`` and ``-shm``,
creates them when they are missing (whoever opens it first, even to read) and deletes them
when the last connection closes, but only if that connection may take an exclusive lock. A
user who may write the directory but not the database, opening it (even only to read), leaves
both files behind, owned by them and not writable by the others: from then on every other
user gets "attempt to write a readonly database". So:

- ``check`` says, from the permissions alone, whether this user may write the database and
  every file beside it, and if not, why, in one line naming the group to join.
- ``opening_read_only`` holds the files in place while a read-only connection opens and
  refuses to open when it would have to create them: a reader never creates a file.
- ``clear_stale`` removes a ``-wal``/``-shm`` pair left behind by someone who could not
  write, when nobody has the database open and the ``-wal`` holds nothing.
- ``settle`` gives the files this user owns in a shared directory the directory's group and
  group read-write. SQLite creates ``-wal`` and ``-shm`` with the database file's own mode,
  whatever the umask, so a database that is group read-write keeps its companions so too.

A shared directory is one whose group may write it and that has the setgid bit, so every
file created in it belongs to the directory's group (``triage init --shared`` makes one).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import pwd
import stat
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tui.core.text import one_line

SUFFIXES = ("-wal", "-shm")
"""The files SQLite keeps beside a WAL database while it is open."""

# SQLite's lock bytes on the database file (os_unix.c): a connection in WAL mode holds a read
# lock on the SHARED range for as long as it is open; the connection that closes last deletes
# -wal and -shm only after taking a write lock on that range.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510
_LOCK_WAIT_S = 5.0
"""How long to wait for a connection that is closing (and holds the write lock) to finish."""

_OFD = getattr(fcntl, "F_OFD_SETLK", None) if struct.calcsize("P") == 8 else None
"""Open-file-description locks (Linux): owned by the descriptor, so they neither merge with
nor are released by SQLite's own POSIX locks in this process."""

_lock_fds: dict[tuple[int, int, bool], int] = {}
"""One descriptor per database file (and access mode), kept open for the life of the process:
closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
included."""


class AccessError(Exception):
    """The database cannot be opened the way asked without blocking others; one line."""


@dataclass(frozen=True, slots=True)
class Access:
    """What this user may do with one database file, from the permissions."""

    path: Path
    user: str
    """The Unix user (effective uid) asked about."""
    writable: bool
    problem: str
    """Why this user cannot write, in one line naming the fix; empty when ``writable``."""
    read_problem: str
    """Why this user cannot read it (or that it does not exist); empty when ``readable``."""
    group: str | None
    """The group whose members may write (the one to join), if any."""
    blocked_by: tuple[Path, ...] = ()
    """Existing ``-wal``/``-shm`` files this user cannot write (the database itself may be)."""

    @property
    def readable(self) -> bool:
        return not self.read_problem


def unix_user() -> str:
    """The name of the Unix user this process runs as (its effective uid), from the system's
    user database, never from the environment or the config."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def companions(path: Path) -> tuple[Path, ...]:
    """``path``'s ``-wal`` and ``-shm`` files (which may not exist)."""
    return tuple(path.with_name(path.name + suffix) for suffix in SUFFIXES)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def is_shared(mode: int) -> bool:
    """A directory mode that makes a shared directory: setgid, group may write and enter."""
    return bool(mode & stat.S_ISGID) and mode & 0o030 == 0o030


def shown(path: Path) -> str:
    """A path as one line of a message."""
    return one_line(str(path))


def can(path: Path, mode: int) -> bool:
    """``os.access`` for this process's effective user and groups."""
    effective = os.access in os.supports_effective_ids
    return os.access(path, mode, effective_ids=effective)


def is_directory(path: Path) -> bool:
    """Whether ``path`` is a directory; False when it is not, is missing, or this user may not
    look (what opening it then says names the fix: the group to join ...)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def team_group(path: Path) -> str | None:
    """The group whose members may write ``path``: the database file's group if the group may
    write it, else its directory's if the group may write that."""
    db = _stat(path) if can(path.parent, os.X_OK) else None
    if db is not None:
        return group_name(db.st_gid) if db.st_mode & 0o020 else None
    directory = _stat(path.parent)
    if directory is not None and directory.st_mode & 0o020:
        return group_name(directory.st_gid)
    return None


def join_hint(group: str | None, user: str, path: Path) -> str:
    """How ``user`` gets write access: join ``group``, or have the database shared first."""
    if group:
        return (
            f"join group {group} (an admin runs `usermod -aG {group} {user}`; log in again after)"
        )
    return f"ask its owner to share it: `triage init --shared GROUP --db {shown(path)}`"


def _yours_or(target: Path, bits: str, hint: str) -> str:
    """``chmod u+BITS target`` when ``target`` belongs to this user (its mode is theirs to
    change: asking an owner or joining a group would be the wrong advice), else ``hint``."""
    info = _stat(target)
    if info is not None and info.st_uid == os.geteuid():
        return f"it is yours: `chmod u+{bits} {shown(target)}`"
    return hint


def _needs_write(path: Path) -> Path:
    """What keeps this user from making the -wal and -shm: the database file, or else (it is
    writable) its directory."""
    return path.parent if can(path, os.W_OK) else path


def check(path: Path) -> Access:
    """Whether this user may write ``path`` and every file SQLite needs beside it (its
    directory when one of them is missing), and may read it; nothing is opened."""
    user = unix_user()
    directory = path.parent
    group = team_group(path)
    hint = join_hint(group, user, path)

    def verdict(problem: str, unreadable: str, blocked: tuple[Path, ...] = ()) -> Access:
        return Access(path, user, not problem, problem, unreadable, group, blocked)

    if not can(directory, os.X_OK):
        problem = f"{user} may not enter {shown(directory)}; {_yours_or(directory, 'rwx', hint)}"
        return verdict(problem, problem)
    if _stat(path) is None:
        absent = f"{shown(path)} does not exist; drop --read-only to create it"
        if not can(directory, os.W_OK):
            problem = f"cannot create {shown(path)}: {shown(directory)} is not writable by {user}"
            return verdict(f"{problem}; {_yours_or(directory, 'w', hint)}", absent)
        return verdict("", absent)
    readable = ""
    if not can(path, os.R_OK):
        readable = f"{shown(path)} is not readable by {user}; {_yours_or(path, 'r', hint)}"
    if not can(path, os.W_OK):
        fix = _yours_or(path, "w", hint)
        return verdict(f"{shown(path)} is not writable by {user}; {fix}", readable)
    blocked = tuple(c for c in companions(path) if _stat(c) is not None and not can(c, os.W_OK))
    if blocked:
        first = blocked[0]
        owner = owner_name(os.stat(first).st_uid)
        return verdict(
            f"{shown(first)} belongs to {owner} and is not writable by {user}, so SQLite cannot "
            f"write {shown(path)}; {owner} or root runs `chmod g+rw {shown(first)}` (see "
            "`triage doctor`)",
            readable,
            blocked,
        )
    missing = any(_stat(c) is None for c in companions(path))
    if missing and not can(directory, os.W_OK):
        return verdict(
            f"{shown(directory)} is not writable by {user}, and SQLite creates "
            f"{shown(path)}-wal and -shm there; {_yours_or(directory, 'w', hint)}",
            readable,
        )
    return verdict("", readable)


def header(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the database file (``OSError`` if it cannot be read).

    Read through a descriptor this process keeps open (``_lock_fd``), never through one it
    closes: closing any descriptor of a file drops every POSIX lock the process holds on it,
    SQLite's too. An app's second connection, opened after the first, would drop the first's
    SHARED lock, and the last writer to quit would take the database for unused and delete
    ``-wal`` and ``-shm`` under a read-only app, which then never saw another change."""
    return os.pread(_lock_fd(path, write=False), size, 0)


def in_wal_mode(path: Path) -> bool:
    """Whether the database file's header says WAL (its read and write versions are 2)."""
    try:
        found = header(path, 20)
    except OSError:
        return False
    return len(found) == 20 and found[18] == 2 and found[19] == 2


def _lock_fd(path: Path, *, write: bool) -> int:
    info = os.stat(path)
    key = (info.st_dev, info.st_ino, write)
    fd = _lock_fds.get(key)
    if fd is None:
        fd = os.open(path, (os.O_RDWR if write else os.O_RDONLY) | os.O_CLOEXEC)
        _lock_fds[key] = fd
    return fd


def _set_lock(fd: int, kind: int) -> bool | None:
    """Set (or with ``F_UNLCK`` clear) this descriptor's lock on SQLite's SHARED range: True
    if done, False when another holder's lock conflicts, None where the file system does not
    support such locks."""
    if _OFD is None:
        return None
    request = struct.pack("hhqqi4x", kind, os.SEEK_SET, _SHARED_FIRST, _SHARED_SIZE, 0)
    try:
        fcntl.fcntl(fd, _OFD, request)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        return None
    return True


_read_guards: dict[int, int] = {}
"""How many ``opening_read_only`` hold each descriptor's read lock (it is one lock)."""


@contextlib.contextmanager
def opening_read_only(path: Path, *, may_create: bool) -> Iterator[None]:
    """Hold ``path``'s ``-wal`` and ``-shm`` in place while a read-only connection opens.

    Inside, no other process can delete them (SQLite deletes them only under a write lock on
    the SHARED range, which the read lock held here refuses); once the connection has read
    once, SQLite's own lock keeps them. Raises ``AccessError`` when the database is in WAL
    mode and one of them is missing, unless ``may_create`` (this user may write the database,
    so files it creates get the database's mode and do not block anyone).
    """
    fd: int | None = None
    if _OFD is not None and in_wal_mode(path):
        fd = _lock_fd(path, write=False)
        if not _read_guards.get(fd):
            deadline = time.monotonic() + _LOCK_WAIT_S
            while (locked := _set_lock(fd, fcntl.F_RDLCK)) is False:
                if time.monotonic() > deadline:
                    raise AccessError(
                        f"{shown(path)} stayed locked by a closing connection; try again"
                    )
                time.sleep(0.02)
            if locked is None:
                fd = None  # no such locks here: the check below still stands
        if fd is not None:
            _read_guards[fd] = _read_guards.get(fd, 0) + 1
    try:
        missing = [c for c in companions(path) if _stat(c) is None]
        if missing and in_wal_mode(path) and not may_create:
            user = unix_user()
            raise AccessError(
                f"{shown(path)} is read-only for {user} and nobody has it open, so "
                f"{shown(missing[0])} is missing and a reader may not create it (it would "
                f"lock the others out); read it while `triage collect` or an app runs, or "
                f"{_yours_or(_needs_write(path), 'w', join_hint(team_group(path), user, path))}"
            )
        yield
    finally:
        if fd is not None:
            _read_guards[fd] -= 1
            if not _read_guards[fd]:
                _set_lock(fd, fcntl.F_UNLCK)


def clear_stale(path: Path) -> list[Path]:
    """Remove the ``-wal``/``-shm`` this user cannot write, when nobody has the database open
    and the ``-wal`` is empty (so nothing is lost: SQLite rebuilds ``-shm`` from ``-wal``).

    This undoes what a user who could not write left behind (an older version, or another
    SQLite program). Needs write access to the database (for the lock that proves nobody has
    it open) and to its directory; returns the files removed, none if it could not.
    """
    if _OFD is None or not can(path, os.W_OK) or not can(path.parent, os.W_OK | os.X_OK):
        return []
    wal, shm = companions(path)
    stale = [c for c in (wal, shm) if _stat(c) is not None and not can(c, os.W_OK)]
    if not stale:
        return []
    fd = _lock_fd(path, write=True)
    if not _set_lock(fd, fcntl.F_WRLCK):
        return []  # a connection is open (maybe in this process), or no way to know
    removed = []
    try:
        wal_info = _stat(wal)
        if wal in stale and wal_info is not None and wal_info.st_size > 0:
            return []  # it holds transactions: only its owner (or root) may settle it
        # With the -wal gone, the -shm describes nothing: both go, whoever owns them.
        for file in (wal, shm) if wal in stale else (shm,):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                os.unlink(file)
                removed.append(file)
    finally:
        _set_lock(fd, fcntl.F_UNLCK)
    return removed


def settle(path: Path) -> None:
    """In a shared directory, give each of the database's files that this user owns the
    directory's group and group read-write; elsewhere, nothing. Failures are left for
    ``triage doctor`` to report."""
    directory = _stat(path.parent)
    if directory is None or not is_shared(directory.st_mode):
        return
    for file in (path, *companions(path)):
        info = _stat(file)
        if info is None or info.st_uid != os.geteuid():
            continue
        with contextlib.suppress(OSError):
            if info.st_gid != directory.st_gid:
                os.chown(file, -1, directory.st_gid)
            if info.st_mode & 0o060 != 0o060:
                os.chmod(file, stat.S_IMODE(info.st_mode) | 0o060)
