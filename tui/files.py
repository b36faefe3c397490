"""Files the user names on the command line (``export -o``, ``evidence -o``, ``import FILE``,
``--config``), opened with errors a user can act on.

A problem is a ``FileProblem``: one line naming the path, what is wrong and the fix, e.g.
``cannot write /x/y.csv: directory /x does not exist; create it or choose another path``; the
command line prints it and exits 2. ``output_file`` writes under a temporary name beside the
target and renames it into place when complete, so a failure leaves the previous file (or
none) and no ``.partial``; ``check_output_file`` and ``check_output_dir`` refuse a path that
cannot work before anything is read or stored.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tui.core.text import one_line

__all__ = [
    "FileProblem",
    "check_output_dir",
    "check_output_file",
    "output_file",
    "problem",
    "read_input",
]


class FileProblem(Exception):
    """A named file cannot be read or written: the message names the path, the problem and
    the fix."""


def _name(path: Path) -> str:
    return one_line(str(path))


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _missing_part(path: Path) -> tuple[Path, bool] | None:
    """The first ancestor of ``path`` (not ``path`` itself) that does not exist, with False,
    or the first that exists and is not a directory, with True; None when every one is a
    directory."""
    parents = list(reversed(path.parents))
    for part in parents:
        try:
            info = os.stat(part)
        except FileNotFoundError:
            return part, False
        except OSError:
            return None  # cannot look (permissions): the open says why
        if not stat.S_ISDIR(info.st_mode):
            return part, True
    return None


def problem(path: Path, error: OSError, *, writing: bool, kind: str = "file") -> FileProblem:
    """``error`` (raised reading or writing ``path``) as a message with the fix."""
    name = _name(path)
    verb = "write" if writing else "read"
    what = "" if kind in ("file", "directory") else f"{kind} "
    head = f"cannot {verb} {what}{name}"
    code = error.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        found = _missing_part(path)
        if found is not None:
            part, not_dir = found
            if not_dir:
                return FileProblem(
                    f"{head}: {_name(part)} is a file, not a directory; choose another path"
                )
            if writing:
                return FileProblem(
                    f"{head}: directory {_name(part)} does not exist; "
                    "create it or choose another path"
                )
        if writing:
            return FileProblem(f"{head}: {_name(_parent(path))} is missing; choose another path")
        return FileProblem(f"{head}: no such file; check the path")
    if code == errno.EISDIR:
        fix = "give a file name in it" if writing else "give the path of a file"
        return FileProblem(f"{head}: it is a directory; {fix}")
    if code in (errno.EACCES, errno.EPERM):
        if writing:
            where = path if kind == "directory" else _parent(path)
            return FileProblem(
                f"{head}: permission denied in {_name(where)}; choose a directory you may "
                "write to, or ask its owner for write permission"
            )
        return FileProblem(
            f"{head}: permission denied; ask its owner for read permission "
            "or copy it somewhere you may read"
        )
    if code == errno.EROFS:
        return FileProblem(f"{head}: the file system is read-only; choose another path")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return FileProblem(f"{head}: no space left on the disk; free some or choose another path")
    if code == errno.EEXIST:
        return FileProblem(f"{head}: it is a file, not a directory; choose another path")
    reason = one_line(error.strerror or type(error).__name__).lower()
    return FileProblem(f"{head}: {reason}; choose another path")


def read_input(path: Path, *, kind: str = "file") -> bytes:
    """The bytes of ``path``; ``FileProblem`` if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise problem(path, error, writing=False, kind=kind) from None


def read_text(path: Path, *, kind: str = "file") -> str:
    """``path`` as UTF-8 text; ``FileProblem`` if it cannot be read or is not UTF-8."""
    data = read_input(path, kind=kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"cannot read {_name(path)}: not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None


def check_output_file(path: Path) -> None:
    """Refuse, before any work, a file path that cannot be written: a directory, or one whose
    directory is missing, is not a directory or may not be written to."""
    if path.is_dir():
        raise problem(path, IsADirectoryError(errno.EISDIR, "is a directory"), writing=True)
    parent = _parent(path)
    if not parent.is_dir():
        raise problem(path, FileNotFoundError(errno.ENOENT, "missing"), writing=True)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise problem(path, PermissionError(errno.EACCES, "denied"), writing=True)


def check_output_dir(path: Path) -> None:
    """Refuse, before any work, a directory path that cannot be written to: a file, one under
    a file, one whose parent does not exist, or one (or, if missing, its parent) that may not
    be written."""
    if path.exists() and not path.is_dir():
        raise problem(path, FileExistsError(errno.EEXIST, "exists"), writing=True, kind="directory")
    found = _missing_part(path / "x")
    if found is not None and found[1]:
        raise problem(path, NotADirectoryError(errno.ENOTDIR, "no"), writing=True)
    if found is not None and found[0] != path:
        # The folder itself is made, not the ones above it: as for a file, a typo in them is
        # an error, not a tree of new folders.
        raise problem(path, FileNotFoundError(errno.ENOENT, "missing"), writing=True)
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise problem(
            existing, PermissionError(errno.EACCES, "denied"), writing=True, kind="directory"
        )


@contextmanager
def output_file(path: Path) -> Iterator[IO[str]]:
    """A text file to write ``path`` through: written under a new name beside it
    (``.NAME.XXXX.partial``, never a file that exists) and renamed into place when the block
    ends without error; removed on any error. ``FileProblem`` when it cannot be created or
    put in place."""
    check_output_file(path)
    try:
        fd, partial = _new_beside(path)
    except OSError as error:
        raise problem(path, error, writing=True) from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        partial.replace(path)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
            raise problem(path, error, writing=True) from None
        raise


def _new_beside(path: Path) -> tuple[int, Path]:
    """A new file beside ``path`` that did not exist (``O_EXCL``), with the mode the umask
    gives a new file, and its descriptor."""
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            return os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), partial
        except FileExistsError:
            continue
