"""Short textual forms used on screen: times, ages, sentiment marks that read without color,
and the details of history events.

Every time the screen shows goes through ``stamp`` (an absolute time) and ``ago``/``until``
(relative to now), so the detail pane, its history and the dialogs read alike.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from tui.core.model import Label, from_ms

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
