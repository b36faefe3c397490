"""The detail pane for the operator on call: how far the mention reaches (the author's audience,
the post's reposts and likes) and where its response clock stands (due, late, answered)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.sources.helpers import source_config
from tests.ui.conftest import NEG, settle
from tui.config import Config
from tui.core.format import response_clock
from tui.core.model import IncomingMention, utcnow
from tui.sources.jsonl import JsonlSource
from tui.sources.mastodon import MastodonSource
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.widgets.detail import DetailPane

HOSTILE = "[@click=app.quit]quit[/]"


async def add(db_path: Path, mention: IncomingMention, replied: bool = False) -> int:
    store = await Store.open(db_path, "seeder")
    try:
        (mention_id,) = await store.add_mentions([mention], [NEG])
        if replied:
            await store.mark_replied(mention_id, "by email")
        return mention_id
    finally:
        await store.close()


async def pane_lines(db_path: Path) -> list[str]:
    """The detail pane's lines as drawn for the one mention in the database."""
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(DetailPane)
        assert pane.mention is not None
        return pane.plain.splitlines()


def field(lines: list[str], label: str) -> str | None:
    """The value of the pane's ``label`` line, or None when the pane has no such line."""
    found = [line[10:] for line in lines if line.startswith(f"{label:<9} ")]
    assert len(found) <= 1, found
    return found[0] if found else None


def clock_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%H:%MZ" if moment.date() == utcnow().date() else "%Y-%m-%d %H:%MZ")


async def test_reach_and_a_running_clock_follow_the_text(db_path: Path) -> None:
    posted = utcnow() - timedelta(minutes=10, seconds=30)
    reach = {"followers": 1204, "reposts": 31, "likes": 80, "replies": 1}
    await add(
        db_path, IncomingMention("mastodon", "m1", "parcel lost", "ann", None, posted, reach=reach)
    )
    lines = await pane_lines(db_path)
    assert field(lines, "reach") == "1,204 followers · 31 reposts · 80 likes · 1 reply"
    # A negative is due 30 minutes after it was posted: about 19.5 minutes from now.
    due = posted + timedelta(minutes=30)
    assert field(lines, "respond") == f"due {clock_time(due)} (in 19m)"
    # Both are metadata: after the text and the author, before the sentiment.
    assert lines[0] == "parcel lost"
    order = [i for i, line in enumerate(lines) if line.startswith(("author", "reach", "respond"))]
    sentiment = next(i for i, line in enumerate(lines) if line.startswith("sentiment"))
    assert len(order) == 3 and order == sorted(order) and order[-1] < sentiment


async def test_a_late_mention_says_how_late(db_path: Path) -> None:
    posted = utcnow() - timedelta(minutes=40, seconds=30)
    await add(
        db_path,
        IncomingMention("reddit", "t3_a", "refund?", "cat", None, posted, reach={"score": 0}),
    )
    lines = await pane_lines(db_path)
    assert field(lines, "reach") == "score 0"
    due = posted + timedelta(minutes=30)
    assert field(lines, "respond") == f"due {clock_time(due)}, 10m late"


async def test_an_answered_mention_says_when_and_after_how_long(db_path: Path) -> None:
    posted = utcnow() - timedelta(minutes=18, seconds=30)
    await add(
        db_path,
        IncomingMention("bluesky", "b1", "still waiting", "bob", None, posted),
        replied=True,
    )
    lines = await pane_lines(db_path)
    assert field(lines, "reach") is None  # no figures: no line
    respond = field(lines, "respond")
    assert respond is not None
    match = re.fullmatch(r"answered (\d\d:\d\dZ) \(after 18m\)", respond)
    assert match, respond
    assert match[1] in (clock_time(utcnow()), clock_time(utcnow() - timedelta(minutes=1)))


async def test_hostile_reach_never_reaches_the_screen(db_path: Path) -> None:
    """A bridge line and a status whose reach carries markup keys, strings and absurd values:
    what is not a believable count is dropped when the mention is read, so the pane shows
    only the honest figures and nothing of the rest."""
    bridge = JsonlSource(source_config("jsonl", "", "bridge", path="-"), {})
    line = {"id": "j1", "text": "from the bridge", "reach": {"likes": 3, HOSTILE: 7}}
    (from_bridge,), warnings = bridge.parse([(1, json.dumps(line).encode())])
    assert from_bridge.reach is None and not warnings

    masto = MastodonSource(source_config("mastodon", "http://unused", hashtags=["acme"]), {})
    status = {
        "id": "42",
        "content": "<p>from mastodon</p>",
        "created_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "account": {"acct": "dan", "followers_count": HOSTILE},
        "reblogs_count": 7,
        "favourites_count": -5,
        "replies_count": "∞",
    }
    from_status = masto.mention(status)
    assert from_status.reach == {"reposts": 7}

    await add(db_path, from_bridge)
    lines = await pane_lines(db_path)
    assert lines[0] == "from the bridge"
    assert field(lines, "reach") is None
    text = "\n".join(lines)
    assert "quit" not in text and "like" not in text

    other = db_path.with_name("other.db")
    await add(other, from_status)
    lines = await pane_lines(other)
    assert lines[0] == "from mastodon"
    assert field(lines, "reach") == "7 reposts"
    text = "\n".join(lines)
    assert "quit" not in text and "∞" not in text and "-5" not in text


def test_the_clock_in_words() -> None:
    now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    posted = now - timedelta(minutes=20)
    assert response_clock(posted, now + timedelta(minutes=5), None, now) == "due 14:05Z (in 5m)"
    assert response_clock(posted, now - timedelta(minutes=7), None, now) == "due 13:53Z, 7m late"
    answered = now - timedelta(minutes=2)
    assert response_clock(posted, now, answered, now) == "answered 13:58Z (after 18m)"
    assert response_clock(posted, now, posted + timedelta(seconds=3), now) == (
        "answered 13:40Z (after 3s)"
    )
    assert response_clock(posted, None, None, now) == ""
    # Another day's time carries its date.
    tomorrow = now + timedelta(days=1, minutes=5)
    assert response_clock(posted, tomorrow, None, now) == "due 2026-11-24 14:05Z (in 24h)"
