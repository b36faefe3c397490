"""A database shared by the members of one Unix group: setting it up and checking it.

``share`` makes the database's directory the group's (group-owned, setgid, group rwx) and the
files already in it group read-write; ``triage init --shared GROUP`` runs it and then creates
or migrates the database, whose files ``access.settle`` keeps so. ``diagnose`` is what
``triage doctor`` reports about the directory and each file, with the command that fixes it.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from tui.store.access import (
    can,
    check,
    companions,
    group_name,
    header,
    is_shared,
    owner_name,
    shown,
    unix_user,
)


class ShareError(Exception):
    """The directory cannot be shared as asked; one line naming the fix."""


@dataclass(frozen=True, slots=True)
class Finding:
    status: str
    """``ok``, ``warning`` (worth knowing) or ``error`` (blocks someone; ``detail`` names the
    fix)."""
    detail: str


def _group_id(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ShareError(
            f"no group {group!r}; create it first (as root: `groupadd {group}`), then run "
            "this again"
        ) from None


def _not_permitted(path: Path, group: str) -> ShareError:
    owner = owner_name(os.stat(path).st_uid)
    return ShareError(
        f"cannot give {shown(path)} to group {group}: only its owner ({owner}) as a member "
        f"of {group}, or root, may; run this as root, or as {owner} after "
        f"`usermod -aG {group} {owner}`"
    )


def share(path: Path, group: str) -> list[str]:
    """Make ``path``'s directory (created if missing) and the database files already in it
    the ``group``'s; returns one line per thing done. Raises ``ShareError``."""
    gid = _group_id(group)
    directory = path.parent
    done = []
    mode = 0o2770
    if directory.exists():
        mode |= stat.S_IMODE(os.stat(directory).st_mode)
    else:
        try:
            directory.mkdir(parents=True)
        except OSError as error:
            raise ShareError(
                f"cannot create {shown(directory)}: {error.strerror}; create it as a user "
                "who may, or pass another --db"
            ) from None
        done.append(f"created {shown(directory)}")
    try:
        # chown first: changing the group may clear the setgid bit, which chmod then sets.
        if os.stat(directory).st_gid != gid:
            os.chown(directory, -1, gid)
        os.chmod(directory, mode)
    except PermissionError:
        raise _not_permitted(directory, group) from None
    if not is_shared(os.stat(directory).st_mode):
        raise ShareError(
            f"{shown(directory)} did not keep the setgid bit (its file system may not support "
            "it); put the database on a local file system"
        )
    done.append(f"{shown(directory)}: group {group}, setgid, group rwx (mode {mode:04o})")
    for file in (path, *companions(path)):
        try:
            info = os.stat(file)
        except FileNotFoundError:
            continue
        try:
            if info.st_gid != gid:
                os.chown(file, -1, gid)
            os.chmod(file, stat.S_IMODE(info.st_mode) | 0o060)
        except PermissionError:
            raise _not_permitted(file, group) from None
        done.append(f"{shown(file)}: group {group}, group read-write")
    return done


def describe(path: Path) -> str:
    """One line: the database file's owner, group and mode."""
    info = os.stat(path)
    return (
        f"{shown(path)}: owner {owner_name(info.st_uid)}, group {group_name(info.st_gid)}, "
        f"mode {stat.S_IMODE(info.st_mode):04o}"
    )


def _unreachable(directory: Path, gid: int) -> Path | None:
    """The first folder above ``directory`` that members of group ``gid`` cannot pass."""
    for parent in directory.resolve().parents:
        info = os.stat(parent)
        if info.st_mode & 0o001:
            continue
        if info.st_gid == gid and info.st_mode & 0o010:
            continue
        return parent
    return None


def diagnose(path: Path) -> list[Finding]:
    """What ``triage doctor`` says about the database at ``path``: its directory, each of its
    files (group, mode, who may write), and what this user may do."""
    user = unix_user()
    directory = path.parent
    if not directory.is_dir():
        return [
            Finding(
                "warning",
                f"{shown(directory)} does not exist; the first triage command creates the "
                f"database (for a team: `triage init --shared GROUP --db {shown(path)}`)",
            )
        ]
    findings = []
    info = os.stat(directory)
    mode, group = stat.S_IMODE(info.st_mode), group_name(info.st_gid)
    shared = is_shared(info.st_mode)
    if shared:
        findings.append(Finding("ok", f"{shown(directory)}: group {group}, setgid, group rwx"))
        blocker = _unreachable(directory, info.st_gid)
        if blocker is not None:
            findings.append(
                Finding(
                    "error",
                    f"members of {group} cannot reach {shown(directory)}: {shown(blocker)} "
                    f"is closed to them; run `chmod o+x {shown(blocker)}` (or make it "
                    f"{group}'s with g+x)",
                )
            )
    elif mode & 0o002:
        findings.append(
            Finding(
                "warning" if mode & stat.S_ISVTX else "error",
                f"{shown(directory)} is writable by every user, so anyone can put files beside "
                "the database; keep it in a directory of its own (`triage init --shared GROUP "
                "--db DIR/mentions.db` makes one for a team)",
            )
        )
    elif mode & 0o020:
        findings.append(
            Finding(
                "error",
                f"{shown(directory)} is group-writable but not setgid, so each file made there "
                f"takes its maker's own group; run `chmod g+s {shown(directory)}` (or "
                f"`triage init --shared {group} --db {shown(path)}`)",
            )
        )
    else:
        findings.append(
            Finding(
                "ok",
                f"{shown(directory)}: private to {owner_name(info.st_uid)} (to share it: "
                f"`triage init --shared GROUP --db {shown(path)}`)",
            )
        )
    if not can(directory, os.X_OK):
        return [*findings, Finding("warning", check(path).problem)]
    if not path.exists():
        findings.append(
            Finding("ok", f"{shown(path)} does not exist yet; the first triage command creates it")
        )
        return findings
    content = _content(path)
    if content is not None:
        findings.append(content)
    db_owner = os.stat(path).st_uid
    for file in (path, *companions(path)):
        try:
            file_info = os.stat(file)
        except FileNotFoundError:
            continue
        findings.append(_file_finding(file, file_info, info, db_owner, shared))
    if not all(c.exists() for c in companions(path)):
        findings.append(
            Finding(
                "ok",
                f"no {path.name}-wal/-shm now: nobody has it open (readers outside the group "
                "can read only while someone does)",
            )
        )
    allowed = check(path)
    if allowed.writable:
        findings.append(Finding("ok", f"{user} may write {shown(path)}"))
    elif allowed.blocked_by and _clearable(path):
        findings.append(
            Finding(
                "warning",
                f"{user} may not write {', '.join(shown(c) for c in allowed.blocked_by)}, left "
                "by a user who could not write the database: the next triage command "
                f"{user} runs removes them if nobody has the database open",
            )
        )
    elif allowed.readable:
        findings.append(Finding("warning", f"{user} may only read: {allowed.problem}"))
    else:
        findings.append(Finding("warning", allowed.read_problem))
    return findings


_SQLITE_HEADER = b"SQLite format 3\x00"


def _content(path: Path) -> Finding | None:
    """An error when the file is not an SQLite database (or is empty), so that a --db naming
    the wrong file is found here too; None when its header is SQLite's or cannot be read."""
    if path.is_dir():
        return Finding("error", f"{shown(path)} is a directory; give --db the database file")
    try:
        found = header(path, len(_SQLITE_HEADER))
    except OSError:
        return None  # unreadable: the findings on its mode say why
    if found == _SQLITE_HEADER:
        return None
    what = "is empty" if not found else "is not an SQLite database"
    return Finding("error", f"{shown(path)} {what}; check --db, which names the team's database")


def _clearable(path: Path) -> bool:
    """Whether ``access.clear_stale`` would remove what blocks this user (if nobody has the
    database open): an empty ``-wal`` or a ``-shm``, in a directory this user may write."""
    wal = companions(path)[0]
    wal_ok = not wal.exists() or can(wal, os.W_OK) or wal.stat().st_size == 0
    directory = os.stat(path.parent)
    sticky = directory.st_mode & stat.S_ISVTX and directory.st_uid != os.geteuid()
    return bool(
        wal_ok and not sticky and can(path, os.W_OK) and can(path.parent, os.W_OK | os.X_OK)
    )


def _file_finding(
    file: Path, info: os.stat_result, directory: os.stat_result, db_owner: int, shared: bool
) -> Finding:
    owner, group = owner_name(info.st_uid), group_name(info.st_gid)
    mode = stat.S_IMODE(info.st_mode)
    where = f"{shown(file)} (owner {owner}, group {group}, mode {mode:04o})"
    if shared:
        team = group_name(directory.st_gid)
        if info.st_gid != directory.st_gid:
            return Finding(
                "error",
                f"{where}: not in the directory's group {team}, which cannot write it; "
                f"{owner} or root runs `chgrp {team} {shown(file)}`",
            )
        if mode & 0o060 != 0o060:
            return Finding(
                "error",
                f"{where}: the group cannot read and write it; {owner} or root runs "
                f"`chmod g+rw {shown(file)}`",
            )
        return Finding("ok", f"{where}: read-write for the group")
    if info.st_uid != db_owner and not _writable_by(info, db_owner):
        return Finding(
            "error",
            f"{where}: the database's owner {owner_name(db_owner)} cannot write it, so every "
            f"write fails; {owner} or root removes it while nobody has the database open "
            f"(or runs `chmod g+rw {shown(file)}`)",
        )
    return Finding("ok", where)


def _writable_by(info: os.stat_result, uid: int) -> bool:
    """Whether the user ``uid`` may write a file with ``info`` (by its mode bits)."""
    if info.st_mode & 0o002:
        return True
    if info.st_mode & 0o020:
        try:
            user = pwd.getpwuid(uid)
        except KeyError:
            return False
        groups = os.getgrouplist(user.pw_name, user.pw_gid)
        return info.st_gid in groups
    return False
