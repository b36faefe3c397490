"""Short textual forms used on screen: ages and sentiment marks that read without color."""

from __future__ import annotations

from datetime import datetime

from tui.core.model import Label

MARKS: dict[str, str] = {
    "negative": "▼ neg",
    "neutral": "· neu",
    "positive": "▲ pos",
    "unscored": "? n/a",
}
"""Symbol and word per label: the list reads on a monochrome terminal and without color vision."""


def mark(label: Label, overridden: bool = False) -> str:
    text = MARKS[label]
    return text + ("*" if overridden else " ")


def age(moment: datetime, now: datetime) -> str:
    """``now``, ``45s``, ``3m``, ``2h``, ``5d``, ``8w``, ``3y``; future times (skew) as ``now``."""
    seconds = int((now - moment).total_seconds())
    if seconds < 5:
        return "now"
    for size, unit in ((31_536_000, "y"), (604_800, "w"), (86_400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit in "yw" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def ago(moment: datetime, now: datetime) -> str:
    """``3m ago``, or ``just now``."""
    text = age(moment, now)
    return "just now" if text == "now" else f"{text} ago"


def until(moment: datetime, now: datetime) -> str:
    """Time left until ``moment`` (``in 25m``) or how overdue it is (``due 2h ago``)."""
    if moment <= now:
        return "due now" if age(moment, now) == "now" else f"due {age(moment, now)} ago"
    left = age(now, moment)
    return "now" if left == "now" else f"in {left}"
