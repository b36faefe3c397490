"""Presence in words: the list's mark, the detail pane's sentence, and the team view's rows
(the app's ``W`` and ``triage who`` show the same rows); and the collector lease in words, as
the status line and the health view (``H``) show it.

Operator names come from other people's configs: each is made one line (``one_line``) and
the list's mark shortens it, so a name can neither add a line nor push the list's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.cells import cell_len

from tui.cells import aligned, shorten
from tui.core.format import age, ago, clock_time, stamp
from tui.core.model import iso, utcnow
from tui.core.text import first_line, one_line
from tui.store import Lease
from tui.store.presence import Presence, TeamMember

MARK_WIDTH = 7
"""Cells of the list's presence column (its mark and a short name)."""
LOOKING = "◉"
WRITING = "✎"


def _first(others: Sequence[Presence]) -> Presence:
    """The one to name: someone writing a reply first, then whoever has been there longest."""
    return sorted(others, key=lambda p: (not p.replying, p.activity_since))[0]


def mark(others: Sequence[Presence]) -> str:
    """``◉sam``, ``✎sam`` (writing a reply), ``✎sam+2`` (and two more), at most
    ``MARK_WIDTH`` cells; empty for nobody."""
    if not others:
        return ""
    who = _first(others)
    symbol = WRITING if who.replying else LOOKING
    more = f"+{len(others) - 1}" if len(others) > 1 else ""
    room = MARK_WIDTH - 1 - len(more)
    name = one_line(who.operator, 40) or "?"
    if len(name) > room:
        name = name[: room - 1] + "…"
    return f"{symbol}{name}{more}"


def sentence(presence: Presence, now: datetime | None = None) -> str:
    """``sam is writing a reply (2m)`` or ``sam is looking at this (30s)``."""
    since = age(presence.activity_since, now or utcnow())
    doing = "is writing a reply" if presence.replying else "is looking at this"
    return f"{one_line(presence.operator, 60)} {doing} ({since})"


def doing(presence: Presence) -> str:
    if presence.mention_id is None:
        return "browsing"
    return "writing a reply" if presence.replying else "looking"


COLUMNS = ("operator", "unix user", "host", "pid", "since", "selected", "doing", "handled")


def row(member: TeamMember, now: datetime | None = None) -> tuple[str, ...]:
    """One team view row as plain one-line cells, in ``COLUMNS`` order."""
    now = now or utcnow()
    p = member.presence
    selected = ""
    if p.mention_id is not None:
        selected = f"#{p.mention_id}"
        if member.first_line is not None:
            selected += " " + first_line(member.first_line, 60)
    activity = doing(p)
    if p.mention_id is not None:
        activity += f" ({age(p.activity_since, now)})"
    return (
        one_line(p.operator, 60),
        one_line(p.unix_user, 60),
        one_line(p.host, 60),
        str(p.pid),
        f"{stamp(p.started_at)} ({age(p.started_at, now)})",
        one_line(selected),
        activity,
        str(member.handled),
    )


def record(member: TeamMember) -> dict[str, Any]:
    """One team view row for ``triage who --format json``: times in ISO 8601, UTC, written as
    the export writes them (``2026-12-02T14:09:26.933Z``)."""
    p = member.presence
    return {
        "operator": p.operator,
        "unix_user": p.unix_user,
        "host": p.host,
        "pid": p.pid,
        "since": iso(p.started_at),
        "heartbeat": iso(p.beat_at),
        "mention_id": p.mention_id,
        "first_line": first_line(member.first_line) if member.first_line is not None else None,
        "activity": p.activity,
        "activity_since": iso(p.activity_since),
        "handled": member.handled,
        "shift_start": iso(member.shift_start),
    }


def table(members: Sequence[TeamMember], now: datetime | None = None, width: int = 0) -> str:
    """The team view as aligned plain text, a header line first; with ``width`` (a
    terminal's), the selected mention's first line is cut so that each line fits in it."""
    rows = [COLUMNS, *(row(m, now) for m in members)]
    if width:
        at = COLUMNS.index("selected")
        others = sum(max(cell_len(r[i]) for r in rows) + 2 for i in range(len(COLUMNS)) if i != at)
        room = max(_SELECTED_AT_LEAST, width - others)
        rows = [(*r[:at], shorten(r[at], room), *r[at + 1 :]) for r in rows]
    return aligned(rows)


_SELECTED_AT_LEAST = 12
"""Cells the selected mention keeps however narrow the terminal (the line wraps then)."""


# -- the collector lease ---------------------------------------------------------------------


def lease_status(lease: Lease | None, mine: str, *, collects: bool) -> tuple[str, str]:
    """What the status line says about the collector: a warning to show first (empty when
    all is well) and the holder's part at its end.

    A holder that is gone (its process ended on this host) or stale (no heartbeat within the
    lease's time) is not collecting, whatever the row says: the warning says since when
    nobody is (its last heartbeat), and the end names it as gone. ``mine``: this process's
    holder name; ``collects``: this app has sources of its own (so no lease at all is worth
    saying too)."""
    if lease is None:
        return "", "no collector" if collects else ""
    name = one_line(lease.holder, 80)
    if lease.live:
        return "", "collecting" if lease.holder == mine else f"collector: {name}"
    since = clock_time(lease.heartbeat, utcnow())  # 09:41Z, with the date if not today's
    gone = "gone" if lease.state == "gone" else "silent"
    return f"no collector since {since}", f"collector {gone}: {name}"


def lease_line(lease: Lease | None, now: datetime | None = None, *, demo: bool = False) -> str:
    """The health view's line about the collector (after ``collector: ``)."""
    if lease is None:
        said = "nobody is collecting"
        return said + " (the demo stream feeds this app itself)" if demo else said
    now = now or utcnow()
    name = one_line(lease.holder, 120)
    beat = f"heartbeat {ago(lease.heartbeat, now)}"
    if lease.live:
        return f"{name} ({beat})"
    why = "its process has ended" if lease.state == "gone" else "it stopped renewing it"
    since = stamp(lease.heartbeat)
    return f"nobody is collecting since {since}: {name} held the lease, {why} (last {beat})"
