"""The response clock: when a first response to a mention is due, and how to show it.

A mention's clock starts when it was posted (the customer waits from then) and runs for the
target of its label (the operator's label first). With business hours the clock runs only
inside them: a complaint posted on Saturday night is due the target's length into Monday.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TARGETS: Mapping[str, float] = {
    "negative": 30 * 60.0,
    "neutral": 60 * 60.0,
    "positive": 60 * 60.0,
    "unscored": 60 * 60.0,
}
"""Seconds to a first response by label: a third of complainers expect an answer within 30
minutes, four in ten within the hour."""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class BusinessHours:
    days: frozenset[int]
    """Weekdays the clock runs (0 = Monday)."""
    start: time
    end: time
    zone: ZoneInfo

    def describe(self) -> str:
        days = ",".join(_DAYS[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


def parse_business_hours(text: str, zone: str) -> BusinessHours:
    """``"mon-fri 09:00-17:00"`` (or ``"mon,wed,fri 08:30-18:00"``) in time zone ``zone``."""
    match = re.fullmatch(
        r"\s*([a-z,\-]+)\s+(\d{1,2}):(\d\d)\s*-\s*(\d{1,2}):(\d\d)\s*", text.lower()
    )
    if not match:
        raise ValueError(f"cannot read {text!r}")
    days: set[int] = set()
    for part in match[1].split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in _DAYS for end in ends):
            raise ValueError(f"unknown day in {part!r} (use mon..sun)")
        first, last = _DAYS.index(ends[0]), _DAYS.index(ends[-1])
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    start_h, start_m, end_h, end_m = (int(match[i]) for i in range(2, 6))
    if not (0 <= start_h < 24 and 0 <= end_h <= 24 and start_m < 60 and end_m < 60):
        raise ValueError(f"not a time of day in {text!r}")
    start = time(start_h, start_m)
    end = time(23, 59, 59, 999999) if end_h == 24 else time(end_h, end_m)
    if end <= start:
        raise ValueError("the day must end after it starts")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    return BusinessHours(frozenset(days), start, end, tz)


@dataclass(frozen=True, slots=True)
class Sla:
    targets: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    business_hours: BusinessHours | None = None

    def target(self, label: str) -> float:
        return self.targets.get(label, DEFAULT_TARGETS["neutral"])

    def due_at(self, posted: datetime, label: str) -> datetime:
        """When the first response to a mention posted at ``posted`` with ``label`` is due."""
        seconds = self.target(label)
        hours = self.business_hours
        if hours is None:
            return posted + timedelta(seconds=seconds)
        return _add_business_time(posted, seconds, hours)


def _add_business_time(start: datetime, seconds: float, hours: BusinessHours) -> datetime:
    local = start.astimezone(hours.zone)
    left = timedelta(seconds=seconds)
    for _ in range(400):  # a year of days at most
        day = local.date()
        opens = datetime.combine(day, hours.start, hours.zone)
        closes = datetime.combine(day, hours.end, hours.zone)
        if day.weekday() in hours.days and local < closes:
            begin = max(local, opens)
            if begin + left <= closes:
                return (begin + left).astimezone(UTC)
            left -= closes - begin
        local = datetime.combine(day + timedelta(days=1), time(0), hours.zone)
    raise ValueError("business hours never open")


def clock(due: datetime | None, answered: bool, now: datetime) -> str:
    """The list's mark for the response clock, readable without color: ``12m`` left,
    ``!5m`` late, ``!2h`` late; empty once answered or without a clock."""
    if due is None or answered:
        return ""
    seconds = (due - now).total_seconds()
    late = seconds < 0
    seconds = abs(seconds)
    if seconds < 3600:
        text = f"{max(1, int(seconds // 60))}m"
    elif seconds < 86400 * 2:
        text = f"{int(seconds // 3600)}h"
    else:
        text = f"{int(seconds // 86400)}d"
    return f"!{text}" if late else text
