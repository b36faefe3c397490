"""Which process this is, and whether another one on this host has ended.

The collector lease and the claims on page fetches record the host and pid of the process
holding them, so a holder that died (``kill -9``, a crash, a closed SSH session) is known to be
gone at once instead of after its heartbeat goes stale. Only "gone" is ever decided here: a
process on another host, or one whose pid was not recorded, is left to the heartbeat.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_host() -> str:
    return socket.gethostname()


def this_process() -> tuple[str, int]:
    """(host name, pid) of the running process."""
    return this_host(), os.getpid()


def is_gone(host: str | None, pid: int | None) -> bool:
    """Whether the process ``pid`` on ``host`` has certainly ended: it ran on this host and no
    such process exists (or it is a zombie waiting to be reaped). False when unsure."""
    if host is None or pid is None or pid <= 0 or host != this_host():
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, and another user's
    except OSError:
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # "pid (command) S ...": the command may hold spaces and parentheses; the state follows
    # the last closing parenthesis.
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("Z", "X")
