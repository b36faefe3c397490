from datetime import UTC, datetime, timedelta

import pytest

from tui.core.format import age, mark, until
from tui.core.when import parse_when

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("30m", NOW + timedelta(minutes=30)),
        ("2h", NOW + timedelta(hours=2)),
        ("in 1d", NOW + timedelta(days=1)),
        ("tomorrow 09:00", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ("today 17:30", datetime(2026, 11, 23, 17, 30, tzinfo=UTC)),
        ("09:00", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),  # already past today: tomorrow
        ("2026-12-01T10:00Z", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("2026-12-01T10:00:00+02:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(spec: str, expected: datetime) -> None:
    assert parse_when(spec, NOW, UTC) == expected


@pytest.mark.parametrize("spec", ["", "soon", "25:00", "tomorrow 9:75"])
def test_parse_when_rejects_with_an_example(spec: str) -> None:
    with pytest.raises(ValueError, match=r"30m|no such time"):
        parse_when(spec, NOW, UTC)


def test_age_and_until() -> None:
    assert age(NOW, NOW) == "now"
    assert age(NOW - timedelta(seconds=42), NOW) == "42s"
    assert age(NOW - timedelta(minutes=3), NOW) == "3m"
    assert age(NOW - timedelta(hours=2, minutes=59), NOW) == "2h"
    assert age(NOW - timedelta(days=5), NOW) == "5d"
    assert age(NOW + timedelta(minutes=5), NOW) == "now"  # clock skew
    assert until(NOW + timedelta(minutes=25), NOW) == "in 25m"
    assert until(NOW - timedelta(hours=2), NOW) == "due 2h ago"


def test_marks_read_without_color() -> None:
    assert mark("negative").startswith("▼ neg")
    assert mark("positive").startswith("▲ pos")
    assert mark("neutral").startswith("· neu")
    assert mark("unscored").startswith("?")
    assert mark("negative", overridden=True).endswith("*")
