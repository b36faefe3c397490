"""The response clock at a fixed time: due times by label and business hours, and its mark."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tui.core.baseline import poisson_tail
from tui.core.sla import Sla, clock, parse_business_hours

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday


def test_targets_by_label_default_to_30_and_60_minutes() -> None:
    sla = Sla()
    assert sla.due_at(NOON, "negative") == NOON + timedelta(minutes=30)
    assert sla.due_at(NOON, "positive") == NOON + timedelta(hours=1)
    assert sla.due_at(NOON, "unscored") == NOON + timedelta(hours=1)


def test_business_hours_stop_the_clock_outside_them() -> None:
    hours = parse_business_hours("mon-fri 09:00-17:00", "Europe/Berlin")  # UTC+1 in December
    sla = Sla(business_hours=hours)
    # Posted at 15:50 Berlin (14:50 UTC) with 30 minutes to go: 10 today, 20 tomorrow.
    assert sla.due_at(datetime(2026, 12, 2, 14, 50, tzinfo=UTC), "negative") == datetime(
        2026, 12, 2, 15, 20, tzinfo=UTC
    )
    assert sla.due_at(datetime(2026, 12, 2, 15, 50, tzinfo=UTC), "negative") == datetime(
        2026, 12, 3, 8, 20, tzinfo=UTC
    )
    # Friday night waits for Monday morning.
    assert sla.due_at(datetime(2026, 12, 4, 22, 0, tzinfo=UTC), "neutral") == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )
    weekend = parse_business_hours("sat,sun 10:00-12:00", "UTC")
    assert weekend.days == frozenset({5, 6})
    with pytest.raises(ValueError, match="unknown day"):
        parse_business_hours("mon-fry 09:00-17:00", "UTC")
    with pytest.raises(ValueError, match="end after it starts"):
        parse_business_hours("mon 17:00-09:00", "UTC")
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_business_hours("mon 09:00-17:00", "Mars/Olympus")


@pytest.mark.parametrize(
    ("due", "answered", "mark"),
    [
        (NOON + timedelta(minutes=12, seconds=30), False, "12m"),
        (NOON + timedelta(seconds=20), False, "1m"),
        (NOON - timedelta(minutes=5), False, "!5m"),
        (NOON - timedelta(hours=3, minutes=10), False, "!3h"),
        (NOON - timedelta(days=4), False, "!4d"),
        (NOON - timedelta(minutes=5), True, ""),
        (None, False, ""),
    ],
)
def test_the_mark_reads_without_color(due: datetime | None, answered: bool, mark: str) -> None:
    assert clock(due, answered, NOON) == mark


def _tail(count: int, mean: float) -> float:
    """P(X >= count) summed term by term from ``count`` up (independent of the code's way)."""
    return math.fsum(
        math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(count, count + 3000)
    )


def test_poisson_tail_matches_known_values() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2.0), rel=1e-12)
    assert poisson_tail(10, 4.2) == pytest.approx(0.0111270, rel=1e-5)
    for count, mean in ((31, 4.2), (500, 400.0), (3, 0.5), (60, 20.0)):
        assert poisson_tail(count, mean) == pytest.approx(_tail(count, mean), rel=1e-9)
    assert poisson_tail(31, 4.2) < 1e-14
