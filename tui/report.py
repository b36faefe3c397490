"""The shift handoff report (``triage report``): what happened in a period, as Markdown or JSON.

The period is ``[since, until)``, ``until`` being now. ``since`` is rounded down to a quarter
hour, the rollups' bucket (``tui.store.rollups``), so every figure covers exactly the same
period. ``--shift`` starts it at the beginning of the current 8-hour shift (00:00, 08:00 or
16:00 UTC): the report a shift hands over at its end covers that shift whole, whenever in its
last minutes it is run.

Definitions:

- **mentions**: mentions posted in the period (by post time, not collection time), by
  effective label (the operator's label first), from the ``counts`` rollup; ``by_source`` and
  ``by_tag`` split the same figures (from ``counts`` and ``tag_counts``; a mention counts under
  each of its tags).
- **open**: mentions posted in the period whose status is still ``new``.
- **open_negatives**: the ids of those open mentions whose effective label is negative, newest
  first (at most ``LIST_LIMIT``).
- **handled**: distinct mentions marked done in the period (``status`` events with ``done``),
  by anyone; ``operators.NAME.handled`` is the same per operator.
- **operators**: per operator (the ``by`` of events), how many events of each action they wrote
  in the period (``status``, ``tag``, ``draft``, ``replied``, ``alert_ack``, ...).
- **sla.breached**: mentions posted in the period whose first response came after it was due,
  or that still have none and were due before ``until``.
- **sla.overdue**: mentions open now whose first response is past due, whenever posted
  (``Store.overdue``).
- **first response time**: ``answered_at - created_at`` (the first ``done`` or recorded reply)
  of each mention answered in the period, whenever posted; ``sla.answered`` counts them,
  ``first_response_median_s`` is their median and ``first_response_p90_s`` their 90th
  percentile (nearest rank), in seconds, null when none was answered.
- **follow_ups_due_next**: follow-ups not done that fall due in the next period,
  ``[until, next_until)``: as long as this one (with ``--shift``, one whole shift), soonest
  first; ``follow_ups_overdue`` counts those not done whose due time has passed.
- **alerts**: alerts raised in the period, oldest first.

Lists hold at most ``LIST_LIMIT`` items. In Markdown every string that comes from the store
(sources, tags, operator names, authors, mention text, alert titles, notes) is made one line
(``one_line``) and shown as an inline code span, inside which Markdown means nothing (its
backticks become ``'``), so a tag such as ``*[x](http://evil)*`` shows literally in a terminal
and once pasted into a chat.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.core.model import LABELS, Alert, from_ms, iso, to_ms, utcnow
from tui.core.text import one_line
from tui.store import Store
from tui.store.reports import DueFollowUp, ReportMention
from tui.store.rollups import BUCKET_MS

SHIFT_HOURS = 8
LIST_LIMIT = 500
SNIPPET = 80
"""Characters of a mention's text shown in Markdown."""


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    mentions: Mapping[str, int]
    """``total`` and one count per label."""
    open: int
    handled: int
    breached: int
    overdue: int
    answered: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    next_until: datetime
    """The end of the next period, which ``follow_ups_due_next`` covers from ``until``."""
    follow_ups_due_next: tuple[DueFollowUp, ...]
    follow_ups_overdue: int
    alerts: tuple[Alert, ...]
    operators: Mapping[str, Mapping[str, Any]]
    """{name: {"actions": {action: n}, "handled": n}}."""
    open_negatives: tuple[ReportMention, ...]
    by_source: Mapping[str, Mapping[str, int]]
    by_tag: Mapping[str, Mapping[str, int]]


def shift_start(now: datetime) -> datetime:
    """The start of the 8-hour shift (00:00, 08:00, 16:00 UTC) that ``now`` falls in."""
    now = now.astimezone(UTC)
    return now.replace(hour=now.hour - now.hour % SHIFT_HOURS, minute=0, second=0, microsecond=0)


def _by_label(counts: Mapping[str, int]) -> dict[str, int]:
    out = {"total": sum(counts.values())}
    out.update({label: int(counts.get(label, 0)) for label in LABELS})
    return out


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


async def build_report(
    store: Store,
    since: datetime,
    until: datetime | None = None,
    *,
    ahead: timedelta | None = None,
) -> Report:
    """The report for ``[since, until)`` (``until``: now), ``since`` rounded down to 15 minutes;
    follow-ups are listed that fall due in ``ahead`` after ``until`` (default: the period's
    length)."""
    end = to_ms(until or utcnow())
    start = to_ms(since) // BUCKET_MS * BUCKET_MS
    if start >= end:
        raise ValueError("the report's period is empty: give a start before now")
    next_ms = int(ahead.total_seconds() * 1000) if ahead is not None else end - start
    first_bucket, end_bucket = start // BUCKET_MS, -(-end // BUCKET_MS)
    by_source = await store.counts_by_source(first_bucket, end_bucket)
    by_tag = await store.counts_by_tag(first_bucket, end_bucket)
    totals: dict[str, int] = {}
    for labels in by_source.values():
        for label, n in labels.items():
            totals[label] = totals.get(label, 0) + n
    handled, handled_by = await store.done_between(start, end)
    actions = await store.operator_actions(start, end)
    operators = {
        name: {
            "actions": dict(sorted(actions.get(name, {}).items())),
            "handled": handled_by.get(name, 0),
        }
        for name in sorted(set(actions) | set(handled_by))
    }
    responses = [ms / 1000 for ms in await store.first_responses(start, end)]
    return Report(
        since=from_ms(start),
        until=from_ms(end),
        mentions=_by_label(totals),
        open=await store.open_posted(start, end),
        handled=handled,
        breached=await store.breached_posted(start, end),
        overdue=await store.overdue(from_ms(end)),
        answered=len(responses),
        first_response_median_s=statistics.median(responses) if responses else None,
        first_response_p90_s=_p90(responses) if responses else None,
        next_until=from_ms(end + next_ms),
        follow_ups_due_next=tuple(await store.follow_ups_due(end, end + next_ms, LIST_LIMIT)),
        follow_ups_overdue=await store.follow_ups_overdue(end),
        alerts=tuple(await store.alerts_between(start, end, LIST_LIMIT)),
        operators=operators,
        open_negatives=tuple(await store.open_negatives_posted(start, end, LIST_LIMIT)),
        by_source={name: _by_label(by_source[name]) for name in sorted(by_source)},
        by_tag={name: _by_label(by_tag[name]) for name in sorted(by_tag)},
    )


# -- JSON --------------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON values (times ISO 8601 in UTC)."""
    return {
        "since": iso(report.since),
        "until": iso(report.until),
        "mentions": dict(report.mentions),
        "open": report.open,
        "handled": report.handled,
        "sla": {
            "breached": report.breached,
            "overdue": report.overdue,
            "answered": report.answered,
            "first_response_median_s": report.first_response_median_s,
            "first_response_p90_s": report.first_response_p90_s,
        },
        "next_until": iso(report.next_until),
        "follow_ups_due_next": [
            {"mention_id": f.mention_id, "due_at": iso(f.due_at), "note": f.note}
            for f in report.follow_ups_due_next
        ],
        "follow_ups_overdue": report.follow_ups_overdue,
        "alerts": [
            {
                "id": a.id,
                "rule": a.rule,
                "kind": a.kind,
                "at": iso(a.at),
                "title": a.title,
                "explanation": a.explanation,
                "mention_id": a.mention_id,
                "acked_by": a.acked_by,
            }
            for a in report.alerts
        ],
        "operators": {
            name: {"actions": dict(value["actions"]), "handled": value["handled"]}
            for name, value in report.operators.items()
        },
        "open_negatives": [m.id for m in report.open_negatives],
        "by_source": {name: dict(value) for name, value in report.by_source.items()},
        "by_tag": {name: dict(value) for name, value in report.by_tag.items()},
    }


# -- Markdown ----------------------------------------------------------------------------------


def literal(text: str, limit: int | None = None) -> str:
    """Untrusted text as a Markdown code span on one line: shown as it is, never as markup."""
    line = one_line(text, limit).replace("`", "'")
    return f"`{line}`" if line else "(empty)"


def duration(seconds: float | None) -> str:
    """``45s``, ``12m 30s``, ``3h 05m``, ``2d 4h``; ``-`` for None."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _labels(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{label} {counts.get(label, 0)}" for label in LABELS)


def render_markdown(report: Report) -> str:
    """The report as Markdown: bullet lists (no tables), readable as plain text. A time in a
    list is its clock time when the report covers one UTC day, else its date too."""
    one_day = report.since.astimezone(UTC).date() == report.until.astimezone(UTC).date()

    def when(moment: datetime) -> str:
        return (
            f"{moment.astimezone(UTC):%H:%M}"
            if one_day
            else f"{moment.astimezone(UTC):%m-%d %H:%M}"
        )

    lines = [
        f"# Shift report {_clock(report.since)} to {_clock(report.until)}",
        "",
        f"- **Mentions posted:** {report.mentions['total']} ({_labels(report.mentions)})",
        f"- **Open** (posted in the period, still new): {report.open}",
        f"- **Handled** (marked done): {report.handled}",
        f"- **Response clock:** {report.breached} breached (posted in the period),"
        f" {report.overdue} overdue now",
        f"- **First response:** median {duration(report.first_response_median_s)},"
        f" p90 {duration(report.first_response_p90_s)} ({report.answered} answered)",
        f"- **Follow-ups:** {len(report.follow_ups_due_next)} due by {_clock(report.next_until)},"
        f" {report.follow_ups_overdue} overdue now",
        f"- **Alerts:** {len(report.alerts)}",
    ]

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", f"## {title}", ""])
        lines.extend(items or ["- none"])

    section(
        "Open negatives",
        [
            f"- #{m.id} {when(m.created_at)} {literal(m.source, 40)}"
            f" {literal(m.author, 40)}: {literal(m.text, SNIPPET)}"
            for m in report.open_negatives
        ],
    )
    section(
        "Follow-ups due next",
        [
            f"- #{f.mention_id} due {_clock(f.due_at)}"
            + (f": {literal(f.note, SNIPPET)}" if f.note else "")
            for f in report.follow_ups_due_next
        ],
    )
    section(
        "Alerts",
        [
            f"- {when(a.at)} {literal(a.rule, 40)} ({literal(a.kind, 20)}):"
            f" {literal(a.title, SNIPPET)}"
            + (f" on #{a.mention_id}" if a.mention_id is not None else "")
            + (
                f", acknowledged by {literal(a.acked_by, 40)}"
                if a.acked_by
                else ", not acknowledged"
            )
            for a in report.alerts
        ],
    )
    section(
        "Operators",
        [
            f"- {literal(name, 40)}: handled {value['handled']}"
            + "".join(f", {literal(action, 30)} {n}" for action, n in value["actions"].items())
            for name, value in report.operators.items()
        ],
    )
    section(
        "By source",
        [
            f"- {literal(name, 40)}: {counts['total']} ({_labels(counts)})"
            for name, counts in report.by_source.items()
        ],
    )
    section(
        "By tag",
        [
            f"- {literal(name, 40)}: {counts['total']} ({_labels(counts)})"
            for name, counts in report.by_tag.items()
        ],
    )
    return "\n".join(lines) + "\n"
