"""The shift report and the export's response clock, on known data in a real store.

Every action is written through the Store API at a controlled clock (``tui.store.store.utcnow``
gives each event its time). First responses are recorded as replies (``mark_replied``), whose
event time is the answer time, before the mention is marked done.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.cli import main
from tui.config import load_config
from tui.core.model import IncomingMention, NewAlert, Score
from tui.exchange import export, import_file
from tui.ingest import Ingestor, make_scorer
from tui.report import build_report, render_markdown, shift_start, to_json
from tui.store import Store

DAY = datetime(2026, 1, 31, tzinfo=UTC)
SINCE = DAY.replace(hour=8)
UNTIL = DAY.replace(hour=16)
HOSTILE = "*[x](http://evil)*"

SCORES = {
    "negative": Score(-0.6, "negative", ()),
    "neutral": Score(0.0, "neutral", ()),
    "positive": Score(0.7, "positive", ()),
    "unscored": Score(None, "unscored", ()),
}


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hour, minutes=minute)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = at(5)
        for module in ("tui.store.store", "tui.store.alerts"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield Clock(monkeypatch)


async def add(store: Store, key: str, source: str, label: str, posted: datetime) -> int:
    text = f"post {key}: the app is down again"
    mention = IncomingMention(source, key, text, f"user{key}", None, posted)
    (mention_id,) = await store.add_mentions([mention], [SCORES[label]])
    return mention_id


async def seed(store: Store, sam: Store, clock: Clock) -> dict[str, int]:
    """Known data for the period 08:00-16:00 (see each line for what it should count as)."""
    m = {
        # posted in the period
        "m1": await add(store, "1", "mastodon", "negative", at(9)),  # answered in time
        "m2": await add(store, "2", "mastodon", "neutral", at(10)),  # labelled negative, late
        "m3": await add(store, "3", "bluesky", "negative", at(12)),  # open, past due
        "m4": await add(store, "4", "bluesky", "positive", at(15, 30)),  # open, not due yet
        "m5": await add(store, "5", "mastodon", "neutral", at(13)),  # replied, not done
        # posted before it
        "m6": await add(store, "6", "mastodon", "unscored", at(7)),  # answered late, in period
        "m7": await add(store, "7", "bluesky", "negative", at(6)),  # open, overdue
        # posted after it
        "m8": await add(store, "8", "mastodon", "neutral", at(16, 30)),
    }
    clock.set(at(7, 30))
    await store.add_tag(m["m7"], "billing")  # before the period: not counted
    clock.set(at(8, 30))
    await store.mark_replied(m["m6"])
    clock.set(at(9, 5))
    await store.add_tag(m["m1"], "billing")
    clock.set(at(9, 20))
    await store.mark_replied(m["m1"])
    await store.set_status(m["m1"], "done")
    clock.set(at(10, 5))
    await store.set_operator_label(m["m2"], "negative")
    clock.set(at(11))
    await sam.mark_replied(m["m2"])
    await sam.set_status(m["m2"], "done")
    clock.set(at(12, 5))
    await store.add_tag(m["m3"], HOSTILE)
    clock.set(at(13, 30))
    await store.mark_replied(m["m5"])
    clock.set(at(14))
    await store.set_follow_up(m["m4"], at(18), "call back")  # due next shift
    await store.set_follow_up(m["m5"], at(15), "check the fix")  # overdue
    await store.set_follow_up(m["m1"], at(1, day=1), "too late for the next shift")
    await store.add_alerts(
        [
            NewAlert("spike:1", "spike", "volume", at(14), "Negatives up 4x", "12 in 15m"),
            NewAlert("early:1", "spike", "volume", at(7), "Before the period", "-"),
            NewAlert("neg:3", "negative", "mention", at(12, 1), "Negative post", "x", m["m3"]),
        ]
    )
    clock.set(at(14, 10))
    alerts = {a.key: a.id for a in await store.alerts()}
    await store.acknowledge(alerts["spike:1"])
    m.update({f"alert:{k}": v for k, v in alerts.items()})
    return m


@pytest.fixture
async def seeded(store: Store, db_path: Path, clock: Clock) -> tuple[Store, dict[str, int]]:
    sam = await Store.open(db_path, "sam")
    try:
        ids = await seed(store, sam, clock)
    finally:
        await sam.close()
    return store, ids


async def test_report_json_has_every_figure_exactly(
    seeded: tuple[Store, dict[str, int]],
) -> None:
    store, m = seeded
    report = to_json(await build_report(store, SINCE, UNTIL))
    labels = dict.fromkeys(("negative", "neutral", "positive", "unscored"), 0)
    assert report == {
        "since": "2026-01-31T08:00:00.000Z",
        "until": "2026-01-31T16:00:00.000Z",
        "mentions": {"total": 5, "negative": 3, "neutral": 1, "positive": 1, "unscored": 0},
        "open": 3,  # m3, m4, m5
        "handled": 2,  # m1 by ann, m2 by sam
        "sla": {
            "breached": 2,  # m2 answered late, m3 open past due
            "overdue": 2,  # m3 and m7
            "answered": 4,  # m1 20m, m5 30m, m2 60m, m6 90m
            "first_response_median_s": 2700.0,
            "first_response_p90_s": 5400.0,
        },
        "next_until": "2026-02-01T00:00:00.000Z",
        "follow_ups_due_next": [
            {"mention_id": m["m4"], "due_at": "2026-01-31T18:00:00.000Z", "note": "call back"}
        ],
        "follow_ups_overdue": 1,
        "alerts": [
            {
                "id": m["alert:neg:3"],
                "rule": "negative",
                "kind": "mention",
                "at": "2026-01-31T12:01:00.000Z",
                "title": "Negative post",
                "explanation": "x",
                "mention_id": m["m3"],
                "acked_by": None,
            },
            {
                "id": m["alert:spike:1"],
                "rule": "spike",
                "kind": "volume",
                "at": "2026-01-31T14:00:00.000Z",
                "title": "Negatives up 4x",
                "explanation": "12 in 15m",
                "mention_id": None,
                "acked_by": "tester",
            },
        ],
        "operators": {
            "sam": {"actions": {"replied": 1, "status": 1}, "handled": 1},
            "tester": {
                "actions": {
                    "alert_ack": 1,
                    "follow_up": 3,
                    "label": 1,
                    "replied": 3,
                    "status": 1,
                    "tag": 2,
                },
                "handled": 1,
            },
        },
        "open_negatives": [m["m3"]],
        "by_source": {
            "bluesky": {**labels, "total": 2, "negative": 1, "positive": 1},
            "mastodon": {**labels, "total": 3, "negative": 2, "neutral": 1},
        },
        "by_tag": {
            HOSTILE: {**labels, "total": 1, "negative": 1},
            "billing": {**labels, "total": 1, "negative": 1},
        },
    }


async def test_report_start_is_rounded_down_to_a_quarter_hour(
    seeded: tuple[Store, dict[str, int]],
) -> None:
    store, _ = seeded
    report = await build_report(store, SINCE + timedelta(minutes=14), UNTIL)
    assert report.since == SINCE
    assert report.mentions["total"] == 5
    # Half an hour from 12:00: only m3 was posted, and nothing was answered.
    narrow = await build_report(store, at(12), at(12, 30))
    assert (narrow.mentions["total"], narrow.open, narrow.breached, narrow.answered) == (1, 1, 0, 0)
    assert narrow.first_response_median_s is None and narrow.handled == 0
    with pytest.raises(ValueError, match="empty"):
        await build_report(store, UNTIL + timedelta(hours=1), UNTIL)


async def test_a_done_taken_back_is_not_handled(
    seeded: tuple[Store, dict[str, int]], clock: Clock
) -> None:
    """``d`` then ``u``: the mention is open again and nobody handled it, in the report as in
    the team view's count."""
    store, m = seeded
    clock.set(at(15))
    await store.set_status(m["m4"], "done")
    assert (await build_report(store, SINCE, UNTIL)).handled == 3
    assert await store.handled(store.operator, SINCE) == 2  # m1, and m4 now
    undone = await store.undo()
    assert undone is not None and undone.mention_id == m["m4"]
    report = await build_report(store, SINCE, UNTIL)
    assert report.handled == 2 and report.open == 3
    assert await store.handled(store.operator, SINCE) == 1


async def test_markdown_shows_the_figures_and_untrusted_text_literally(
    seeded: tuple[Store, dict[str, int]],
) -> None:
    store, m = seeded
    text = render_markdown(await build_report(store, SINCE, UNTIL))
    assert "2026-01-31 08:00 UTC to 2026-01-31 16:00 UTC" in text
    assert "**Mentions posted:** 5 (negative 3, neutral 1, positive 1, unscored 0)" in text
    assert "**Open** (posted in the period, still new): 3" in text
    assert "**Handled** (marked done): 2" in text
    assert "2 breached (posted in the period), 2 overdue now" in text
    assert "median 45m 00s, p90 1h 30m (4 answered)" in text
    assert f"- #{m['m4']} due 2026-01-31 18:00 UTC: `call back`" in text
    assert f"- #{m['m3']} 12:00 `bluesky` `user3`: `post 3: the app is down again`" in text
    assert "`spike` (`volume`): `Negatives up 4x`, acknowledged by `tester`" in text
    assert "- `sam`: handled 1, `replied` 1, `status` 1" in text
    # The hostile tag is inside a code span, whole: no link or emphasis can form from it.
    assert f"- `{HOSTILE}`: 1 (negative 1, neutral 0, positive 0, unscored 0)" in text
    assert "[x](http://evil)" not in text.replace(f"`{HOSTILE}`", "")


async def test_a_report_over_more_than_one_day_dates_its_times(
    seeded: tuple[Store, dict[str, int]],
) -> None:
    store, m = seeded
    text = render_markdown(await build_report(store, SINCE - timedelta(days=2), UNTIL))
    assert f"- #{m['m3']} 01-31 12:00 `bluesky` `user3`:" in text


async def test_markdown_neutralizes_backticks_and_control_characters(
    store: Store, clock: Clock
) -> None:
    mention_id = await add(store, "9", "mastodon", "negative", at(9))
    await store.add_tag(mention_id, "a`](http://evil) [b")
    clock.set(at(9, 1))
    await store._transaction(
        lambda db: db.execute(
            "UPDATE mentions SET author = ? WHERE id = ?", ("eve\n# owned\x1b[31m", mention_id)
        )
    )
    text = render_markdown(await build_report(store, SINCE, UNTIL))
    assert "- `a'](http://evil) [b`: 1" in text
    assert "\x1b" not in text
    assert "\n# owned" not in text
    assert "`user9`" not in text and "`eve # owned␛`: `post 9" in text


def test_shift_start_is_the_current_8_hour_shift() -> None:
    assert shift_start(at(7, 59)) == at(0)
    assert shift_start(at(8)) == at(8)
    assert shift_start(at(23, 59)) == at(16)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_report(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    async def one_negative() -> None:
        async with await Store.open(db_path, "tester") as store:
            posted = datetime.now(UTC) - timedelta(minutes=5)
            await add(store, "1", "mastodon", "negative", posted)

    asyncio.run(one_negative())
    code, out, err = run(capsys, "report", "--db", str(db_path), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["mentions"]["negative"] == 1 and data["open_negatives"] == [1]
    assert data["sla"]["overdue"] == 0
    code, out, _ = run(capsys, "report", "--db", str(db_path), "--shift")
    assert code == 0 and out.startswith("# Shift report")
    code, out, err = run(capsys, "report", "--db", str(db_path), "--since", "whenever")
    assert code == 2 and out == ""
    assert err.startswith("triage: --since 'whenever'") and err.count("\n") == 1
    with pytest.raises(SystemExit) as exited:  # argparse: one or the other
        main(["report", "--db", str(db_path), "--since", "1d", "--shift"])
    assert exited.value.code == 2 and "not allowed with" in capsys.readouterr().err


# -- export: the response clock ----------------------------------------------------------------


async def test_export_sla_in_jsonl_and_csv_and_import_ignores_it(
    store: Store, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = await add(store, "1", "mastodon", "negative", at(9))  # due 09:30
    in_time = await add(store, "2", "mastodon", "neutral", at(9))  # due 10:00
    overdue = await add(store, "3", "bluesky", "negative", at(9))  # due 09:30, open
    waiting = await add(store, "4", "bluesky", "neutral", at(11, 30))  # due 12:30, open
    clock.set(at(10))
    await store.mark_replied(late)
    await store.set_status(late, "done")
    clock.set(at(9, 45))
    await store.mark_replied(in_time)
    monkeypatch.setattr("tui.exchange.utcnow", lambda: at(12))
    expected = {
        late: {
            "due_at": "2026-01-31T09:30:00.000Z",
            "answered_at": "2026-01-31T10:00:00.000Z",
            "breached": True,
        },
        in_time: {
            "due_at": "2026-01-31T10:00:00.000Z",
            "answered_at": "2026-01-31T09:45:00.000Z",
            "breached": False,
        },
        overdue: {"due_at": "2026-01-31T09:30:00.000Z", "answered_at": None, "breached": True},
        waiting: {"due_at": "2026-01-31T12:30:00.000Z", "answered_at": None, "breached": False},
    }

    out = io.StringIO()
    assert await export(store, out) == 4
    lines = out.getvalue().splitlines()
    assert {json.loads(line)["id"]: json.loads(line)["sla"] for line in lines} == expected

    out = io.StringIO()
    await export(store, out, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert {
        int(r["id"]): (r["sla_due_at"], r["sla_answered_at"], r["sla_breached"]) for r in rows
    } == {k: (v["due_at"], v["answered_at"] or "", str(v["breached"])) for k, v in expected.items()}

    # The exported lines import as they are into another database.
    path = tmp_path / "out.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = await Store.open(tmp_path / "other.db", "tester")
    try:
        report = await import_file(Ingestor(other, make_scorer(load_config(None)), "off"), path)
        assert (report.added, report.problems) == (4, [])
    finally:
        await other.close()


def test_cli_report_shows_a_text_past_its_nul_characters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """SQLite's substr() stops at a NUL: the report reads such a text whole, shows the NUL as
    ␀ like other control characters, and still cuts a long text to its snippet."""
    source = tmp_path / "in.jsonl"
    posted = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    text = "terrible awful service\x00after the NUL\x00\x1b[2J refund now " + "x" * 500
    source.write_text(
        json.dumps({"external_id": "1", "text": text, "created_at": posted}) + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    assert run(capsys, "import", str(source), "--db", str(db))[0] == 0
    code, out, err = run(capsys, "report", "--db", str(db))
    assert code == 0, err
    (line,) = [line for line in out.splitlines() if line.startswith("- #1 ")]
    assert "`terrible awful service␀after the NUL␀␛ refund now xxx" in line
    assert "\x00" not in out and "\x1b" not in out
    assert line.endswith("x…`") and line.count("x") < 250


def test_imported_history_is_never_overdue_and_keeps_no_clock(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Old labelled history, imported: posts already past their response time when imported
    (open or restored as done) get no response clock, so the overdue count, the urgent view
    and the report's response times stay the team's; a post still within its time keeps its
    clock and can still go overdue."""
    now = datetime.now(UTC)
    old = (now - timedelta(days=400)).isoformat()
    lines = [
        {"external_id": "old-open", "text": "terrible awful service", "created_at": old},
        {
            "external_id": "old-done",
            "text": "awful, refund me",
            "created_at": old,
            "status": "done",
            "sentiment": {"operator_label": "negative"},
        },
        {
            "external_id": "fresh",
            "text": "terrible awful service again",
            "created_at": (now - timedelta(minutes=5)).isoformat(),
        },
    ]
    source = tmp_path / "history.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "import", str(source), "--db", str(db))
    assert code == 0, err
    assert "imported 3 new mentions" in err
    assert "2 already past their response time, kept as history without a response clock" in err

    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "800d", "--format", "json")
    assert code == 0
    sla = json.loads(out)["sla"]
    assert (sla["overdue"], sla["breached"], sla["answered"]) == (0, 0, 0)

    code, out, _ = run(capsys, "export", "--db", str(db))
    records = {r["external_id"]: r for r in map(json.loads, out.splitlines())}
    assert records["old-open"]["sla"] == {"due_at": None, "answered_at": None, "breached": False}
    assert records["old-done"]["sla"]["due_at"] is None and records["old-done"]["status"] == "done"
    assert records["fresh"]["sla"]["due_at"] is not None

    async def urgent_and_overdue_later() -> tuple[list[int], int]:
        async with await Store.open(db, "tester") as store:
            from tui.core.model import Filter

            rows = await store.page_after(Filter(urgent=True), None, 10)
            return [row.id for row in rows], await store.overdue(now + timedelta(hours=2))

    urgent, overdue_later = asyncio.run(urgent_and_overdue_later())
    assert urgent == [records["fresh"]["id"]]
    assert overdue_later == 1  # the fresh one's clock still runs
