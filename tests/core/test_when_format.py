import json
from datetime import UTC, datetime, timedelta

import pytest

from tui.core.format import age, ago, event_detail, mark, stamp, until
from tui.core.when import PastTime, parse_when

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
        ("0m", NOW),  # due now is not the past
    ],
)
def test_parse_when(spec: str, expected: datetime) -> None:
    assert parse_when(spec, NOW, UTC) == expected


@pytest.mark.parametrize("spec", ["", "soon", "25:00", "tomorrow 9:75"])
def test_parse_when_rejects_with_an_example(spec: str) -> None:
    with pytest.raises(ValueError, match=r"30m|no such time"):
        parse_when(spec, NOW, UTC)


@pytest.mark.parametrize("spec", ["2026-01-01T09:00", "today 09:00", "2026-11-23T10:58Z"])
def test_a_follow_up_time_in_the_past_is_refused(spec: str) -> None:
    with pytest.raises(PastTime, match=r"is in the past; a follow-up is for later: try 30m"):
        parse_when(spec, NOW, UTC)
    assert parse_when("2026-11-23T10:59:30Z", NOW, UTC) < NOW  # a moment ago is still now


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


def test_nothing_reads_now_ago() -> None:
    """Fresh times read ``now``; ``ago`` and ``until`` never put "now" next to "ago" or "in"."""
    assert ago(NOW, NOW) == "now"
    assert ago(NOW - timedelta(seconds=3), NOW) == "now"
    assert ago(NOW + timedelta(minutes=2), NOW) == "now"  # clock skew
    assert ago(NOW - timedelta(minutes=7), NOW) == "7m ago"
    assert until(NOW + timedelta(seconds=3), NOW) == "due now"
    assert until(NOW, NOW) == "due now"
    assert until(NOW - timedelta(seconds=2), NOW) == "due now"
    for seconds in (-90000, -3600, -61, -5, -1, 0, 1, 4, 5, 61, 3600, 90000):
        moment = NOW + timedelta(seconds=seconds)
        for text in (ago(moment, NOW), until(moment, NOW)):
            assert "now ago" not in text and "in now" not in text and text != "now ago"


def test_stamp_is_one_utc_format_without_microseconds() -> None:
    moment = datetime(2026, 11, 23, 9, 30, 5, 123456, tzinfo=UTC)
    assert stamp(moment) == "2026-11-23 09:30:05Z"
    local = moment.astimezone(datetime.now().astimezone().tzinfo)
    assert stamp(local) == "2026-11-23 09:30:05Z"
    assert stamp(datetime(2026, 11, 23, 9, 30)) == "2026-11-23 09:30:00Z"  # naive means UTC


def test_event_details_show_times_as_the_pane_does() -> None:
    due = datetime(2026, 11, 24, 9, 0, 0, 654321, tzinfo=UTC)
    follow = json.dumps({"due_at": due.isoformat(), "note": "check the refund"})
    assert event_detail(follow) == "due 2026-11-24 09:00:00Z, note check the refund"
    snapshot = json.dumps({"id": 3, "sha256": "ab" * 32})
    assert event_detail(snapshot) == "id 3, sha256 abababababababab…"
    page = json.dumps({"id": 3, "status": None, "error": "ConnectError: refused", "sha256": None})
    assert event_detail(page) == "id 3, error ConnectError: refused"
    assert event_detail(json.dumps({"chars": 42})) == "chars 42"
    done_ms = int(datetime(2026, 11, 24, 6, 20, tzinfo=UTC).timestamp() * 1000)
    assert event_detail(json.dumps({"done_at": done_ms})) == "done 2026-11-24 06:20:00Z"
    assert event_detail("billing") == "billing"
    assert event_detail("2026-11-24T09:00:00.000001+00:00") == "2026-11-24 09:00:00Z"
    assert event_detail("") == ""
    assert event_detail("{not json") == "{not json"
    for detail in (follow, snapshot, page):
        shown = event_detail(detail)
        assert "{" not in shown and "'" not in shown and "+00:00" not in shown
        assert ".654321" not in shown and "T09" not in shown


def test_a_delivery_says_when_it_is_next_tried_with_the_date_when_not_today() -> None:
    from tui.core.format import delivery_line
    from tui.core.model import Delivery

    soon = Delivery("ops", "pending", 2, "ops: answered 503", None, NOW + timedelta(minutes=4))
    assert delivery_line(soon, NOW) == (
        "ops: pending, next try 11:04:00Z (in 4m), 2 tries so far (ops: answered 503)"
    )
    later = Delivery("ops", "pending", 1, None, None, NOW + timedelta(hours=14))
    assert delivery_line(later, NOW) == (
        "ops: pending, next try 2026-11-24 01:00:00Z (in 14h), 1 try so far"
    )
