"""Follow-up times as operators type them: ``30m``, ``2h``, ``1d``, ``tomorrow 09:00``,
``today 17:30``, ``09:00`` (the next one), or an ISO 8601 time. Local times use the
machine's time zone; results are aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

_RELATIVE = re.compile(r"^(?:in\s+)?(\d+(?:\.\d+)?)\s*(m|min|mins|h|hr|hrs|d|day|days|w)$")
_CLOCK = re.compile(r"^(?:(today|tomorrow)\s*)?(?:(?:at\s+)?(\d{1,2})(?::(\d{2}))?)?$")
_UNITS = {
    "m": 60,
    "min": 60,
    "mins": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
}


PAST_SLACK = timedelta(minutes=1)
"""A time this far back is still "now" (typed a moment ago); anything earlier is refused."""


class PastTime(ValueError):
    """A follow-up time that has already gone by."""


def parse_when(text: str, now: datetime, local: tzinfo | None = None) -> datetime:
    """Parse a follow-up time; ``ValueError`` with an example if it cannot, ``PastTime`` when
    it is in the past (a follow-up due before it is set would be overdue at once)."""
    moment = _parse(text, now, local)
    if moment < now - PAST_SLACK:
        shown = moment.astimezone(local or now.astimezone().tzinfo or UTC)
        raise PastTime(
            f"{shown:%a %d %b %Y %H:%M %Z} is in the past; a follow-up is for later: try 30m,"
            " 2h or tomorrow 09:00"
        )
    return moment


def _parse(text: str, now: datetime, local: tzinfo | None) -> datetime:
    local = local or now.astimezone().tzinfo or UTC
    spec = " ".join(text.strip().lower().split())
    if not spec:
        raise ValueError("empty time; try 30m, 2h, tomorrow 09:00 or 2026-05-01T09:00")
    if match := _RELATIVE.match(spec):
        try:
            return now + timedelta(seconds=float(match[1]) * _UNITS[match[2]])
        except OverflowError:
            raise ValueError(f"{text!r} is too far away; try 30m, 2h or 3d") from None
    if (match := _CLOCK.match(spec)) and (match[1] or match[2]):
        day, hour, minute = match[1], int(match[2] or 9), int(match[3] or 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"no such time {text!r}")
        today = now.astimezone(local).date()
        date = today + timedelta(days=1) if day == "tomorrow" else today
        moment = datetime.combine(date, time(hour, minute), tzinfo=local)
        if day is None and moment <= now:
            moment += timedelta(days=1)
        return moment.astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ValueError(
            f"cannot read {text!r} as a time; try 30m, 2h, tomorrow 09:00 or 2026-05-01T09:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    return moment.astimezone(UTC)
