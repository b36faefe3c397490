"""Short textual forms used on screen: times, ages, sentiment marks that read without color,
the details of history events, a mention's reach and its response clock.

Every time the screen shows goes through ``stamp`` (an absolute time) and ``ago``/``until``
(relative to now), so the detail pane, its history and the dialogs read alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tui.core.model import Delivery, Label, from_ms
from tui.core.sla import clock
from tui.core.text import one_line

MARKS: dict[str, str] = {
    "negative": "▼ neg",
    "neutral": "· neu",
    "positive": "▲ pos",
    "unscored": "? n/a",
}
"""Symbol and word per label: the list reads on a monochrome terminal and without color vision."""

NOW_SECONDS = 5
"""Differences shorter than this read as ``now``."""


def mark(label: Label, overridden: bool = False) -> str:
    text = MARKS[label]
    return text + ("*" if overridden else " ")


def stamp(moment: datetime) -> str:
    """An absolute time as the screen shows it: ``2026-11-23 09:30:05Z`` (UTC, whole seconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def age(moment: datetime, now: datetime) -> str:
    """``now``, ``45s``, ``3m``, ``2h``, ``5d``, ``8w``, ``3y``; future times (skew) as ``now``."""
    seconds = int((now - moment).total_seconds())
    if seconds < NOW_SECONDS:
        return "now"
    for size, unit in ((31_536_000, "y"), (604_800, "w"), (86_400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit in "yw" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def ago(moment: datetime, now: datetime) -> str:
    """``3m ago``, or ``now`` (never ``now ago``); a time in the future (skew) is ``now``."""
    text = age(moment, now)
    return text if text == "now" else f"{text} ago"


def until(moment: datetime, now: datetime) -> str:
    """Time left until ``moment`` (``in 25m``), or that it is due (``due now``, ``due 2h ago``)."""
    if moment <= now or age(now, moment) == "now":
        text = age(moment, now)
        return "due now" if text == "now" else f"due {text} ago"
    return f"in {age(now, moment)}"


def delivery_line(delivery: Delivery, now: datetime) -> str:
    """One channel's delivery of an alert, one line: ``ops: sent 3m ago``, ``ops: pending,
    next try 09:41:00Z (in 4m), 2 tries so far (ops: answered 503)`` (with the date when the
    try is not today), ``ops: failed (...)``."""
    line = f"{one_line(delivery.channel, 40)}: {delivery.state}"
    if delivery.state == "sent" and delivery.sent_at is not None:
        line += f" {ago(delivery.sent_at, now)}"
    if delivery.state == "pending" and delivery.next_at is not None:
        when = clock_time(delivery.next_at, now, seconds=True)
        line += f", next try {when} ({until(delivery.next_at, now)})"
        if delivery.attempts:
            tries = "try" if delivery.attempts == 1 else "tries"
            line += f", {delivery.attempts} {tries} so far"
    if delivery.error and delivery.state != "sent":
        line += f" ({one_line(delivery.error, 160)})"
    return line


_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_HEX_DIGEST = re.compile(r"[0-9a-f]{32,}")
DIGEST_CHARS = 16
"""Hex digits of a SHA-256 shown on screen (the full value is in exports and evidence)."""


def as_time(value: Any, key: str = "") -> datetime | None:
    """``value`` as an aware UTC time if it is one: an ISO 8601 string, or epoch milliseconds
    under a key ending in ``_at`` (how the store keeps times)."""
    if isinstance(value, str) and _ISO_TIME.fullmatch(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if (
        key.endswith("_at")
        and isinstance(value, int)
        and not isinstance(value, bool)
        and 10**11 <= value < 10**14
    ):
        return from_ms(value)
    return None


def _value_text(value: Any, key: str = "") -> str:
    moment = as_time(value, key)
    if moment is not None:
        return stamp(moment)
    if isinstance(value, str):
        if _HEX_DIGEST.fullmatch(value):
            return value[:DIGEST_CHARS] + "…"
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(item) for item in value)
    if isinstance(value, dict):
        return _pairs(value)
    return str(value)


def _pairs(values: dict[str, Any]) -> str:
    words = []
    for key, value in values.items():
        if value is None or value == "":
            continue
        name = key.removesuffix("_at") if as_time(value, key) is not None else key
        words.append(f"{name.replace('_', ' ')} {_value_text(value, key)}")
    return ", ".join(words)


def event_detail(detail: str) -> str:
    """An event's stored detail as one line for the history.

    Details are free text or JSON (``{"due_at": "...", "note": "..."}``); times in them are
    shown as ``stamp`` shows times, long digests are shortened, and no Python repr, brace or
    ISO microsecond ever reaches the screen.
    """
    text = detail.strip()
    if not text:
        return ""
    if text[0] in '{["' or text[0].isdigit() or text in ("true", "false", "null"):
        try:
            value = json.loads(text)
        except ValueError:
            value = text
    else:
        value = text
    if value is None:
        return ""
    return " ".join(_value_text(value).split())


REACH_WORDS: dict[str, tuple[str, str]] = {
    "followers": ("follower", "followers"),
    "reposts": ("repost", "reposts"),
    "quotes": ("quote", "quotes"),
    "likes": ("like", "likes"),
    "replies": ("reply", "replies"),
    "comments": ("comment", "comments"),
    "points": ("point", "points"),
    "score": ("score", "score"),
}
"""The reach figures a mention can carry (``IncomingMention.reach``), in the order shown, each
with its singular and plural word."""
REACH_LIMIT = 10**12
"""Figures at or above this are not believed (no audience or post is that large)."""


def reach_count(value: Any) -> int | None:
    """``value`` if it is a believable count (a whole number, 0 <= value < ``REACH_LIMIT``);
    None for anything else: JSON true/false, strings, null, fractions, negatives."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < REACH_LIMIT else None


def reach_counts(values: Mapping[str, Any]) -> dict[str, int] | None:
    """The believable figures among ``values`` (known keys only, see ``reach_count``), or
    None when none is left: what a source adapter puts in ``IncomingMention.reach``."""
    kept = {}
    for key, value in values.items():
        count = reach_count(value)
        if key in REACH_WORDS and count is not None:
            kept[key] = count
    return kept or None


def reach_text(reach: Mapping[str, Any]) -> str:
    """``1,204 followers · 31 reposts · 80 likes``: the figures present, in ``REACH_WORDS``
    order (reddit's score reads ``score 15``); empty when there are none."""
    words = []
    for key, (one, many) in REACH_WORDS.items():
        count = reach_count(reach.get(key))
        if count is None:
            continue
        if key == "score":
            words.append(f"score {count:,}")
        else:
            words.append(f"{count:,} {one if count == 1 else many}")
    return " · ".join(words)


def clock_time(moment: datetime, now: datetime, *, seconds: bool = False) -> str:
    """``14:05Z`` (UTC, like ``stamp``; ``14:05:30Z`` with ``seconds``), with the date when it
    is not today's."""
    moment, now = moment.astimezone(UTC), now.astimezone(UTC)
    time = "%H:%M:%SZ" if seconds else "%H:%MZ"
    return moment.strftime(time if moment.date() == now.date() else f"%Y-%m-%d {time}")


def response_clock(
    posted: datetime, due: datetime | None, answered: datetime | None, now: datetime
) -> str:
    """The response clock in words: ``due 14:05 (in 12m)``, ``due 14:05, 7m late``, or
    ``answered 14:20 (after 18m)`` (the wait since ``posted``); empty without a clock."""
    if answered is not None:
        waited = max(0, int((answered - posted).total_seconds()))
        after = age(posted, answered) if waited >= NOW_SECONDS else f"{waited}s"
        return f"answered {clock_time(answered, now)} (after {after})"
    if due is None:
        return ""
    left = clock(due, False, now)
    if left.startswith("!"):
        return f"due {clock_time(due, now)}, {left[1:]} late"
    return f"due {clock_time(due, now)} (in {left})"
