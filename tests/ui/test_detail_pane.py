"""The detail pane as an operator reads it: the text first, at the top for each new mention,
ages that stay current, history times in the pane's own format, and a story's link."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from textual.geometry import Region

from tests.ui.conftest import NEG, NEU, settle, wait_until
from tui.config import Config
from tui.core.model import IncomingMention, utcnow
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.widgets.detail import DetailBody, DetailPane

STAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z"


def pane(app: TriageApp) -> DetailPane:
    return app.query_one(DetailPane)


def top_line(app: TriageApp) -> str:
    """The first line the pane draws (what is at its top when not scrolled)."""
    body = pane(app).query_one(DetailBody)
    (strip,) = body.render_lines(Region(0, 0, body.size.width, 1))
    return strip.text.rstrip()


async def add(db_path, mentions: list[IncomingMention], score=NEG) -> list[int]:  # type: ignore[no-untyped-def]
    store = await Store.open(db_path, "seeder")
    try:
        return await store.add_mentions(mentions, [score] * len(mentions))
    finally:
        await store.close()


async def test_the_text_comes_first_at_80x24(db_path) -> None:  # type: ignore[no-untyped-def]
    text = "Parcel lost twice, nobody answers the phone.\nSecond line of the complaint."
    await add(
        db_path,
        [
            IncomingMention(
                "mastodon", "m1", text, "ann", "https://social.example/@ann/1", language="en"
            )
        ],
    )
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lines = pane(app).plain.splitlines()
        assert lines[:2] == text.splitlines()
        assert lines[2] == ""
        assert lines[3].startswith("▼ neg")  # the metadata follows the text
        assert any(line.startswith("author    ann") for line in lines[3:])
        assert pane(app).scroll_y == 0
        assert top_line(app).startswith("Parcel lost twice")
        assert pane(app).region.height >= 5  # the pane is on screen at 80x24


async def test_a_storys_link_is_shown_under_its_url(db_path) -> None:  # type: ignore[no-untyped-def]
    story = IncomingMention(
        "hackernews",
        "9001",
        "Postmortem of yesterday's outage",
        "linker",
        "https://news.ycombinator.com/item?id=9001",
        link="https://www.acme.example/blog/outage",
    )
    await add(db_path, [story], NEU)
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lines = pane(app).plain.splitlines()
        url = lines.index("url       https://news.ycombinator.com/item?id=9001")
        assert lines[url + 1] == "links to  https://www.acme.example/blog/outage"


def long_text(name: str) -> str:
    return "\n".join(f"{name} line {n}" for n in range(120))


async def test_a_new_mention_starts_at_the_top_a_refresh_keeps_the_place(db_path) -> None:  # type: ignore[no-untyped-def]
    ids = await add(
        db_path,
        [
            IncomingMention("reddit", "a", long_text("older"), "ann"),
            IncomingMention("reddit", "b", long_text("newer"), "bob"),
        ],
    )
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        detail = pane(app)
        assert "newer line 0" in detail.plain
        detail.scroll_to(y=40, animate=False)
        await pilot.pause()
        assert detail.scroll_y == 40
        # Another operator tags the mention shown: the pane is redrawn, the place is kept.
        other = await Store.open(db_path, "colleague")
        await other.add_tag(ids[1], "seen")
        await other.close()
        await wait_until(lambda: "#seen" in detail.plain, pilot)
        await settle(app, pilot)
        assert detail.scroll_y == 40
        await pilot.press("j")
        await settle(app, pilot)
        assert "older line 0" in detail.plain
        assert detail.scroll_y == 0
        assert top_line(app) == "older line 0"
        detail.scroll_to(y=25, animate=False)
        await pilot.pause()
        await pilot.press("k")
        await settle(app, pilot)
        assert "newer line 0" in detail.plain and detail.scroll_y == 0


async def test_ages_stay_current_without_any_change_in_the_store(
    db_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = utcnow()
    clock = {"now": start}
    monkeypatch.setattr("tui.ui.widgets.detail.utcnow", lambda: clock["now"])
    monkeypatch.setattr("tui.ui.app.AGE_SECONDS", 0.1, raising=False)
    await add(db_path, [IncomingMention("reddit", "a", "just posted", "ann", created_at=start)])
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)

    def posted() -> str:
        return next(line for line in pane(app).plain.splitlines() if line.startswith("posted"))

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "now" in posted()
        clock["now"] = start + timedelta(minutes=7, seconds=3)
        await wait_until(lambda: "7m ago" in posted(), pilot, timeout=3)
        clock["now"] = start + timedelta(hours=2, minutes=1)
        await wait_until(lambda: "2h ago" in posted(), pilot, timeout=3)
        assert re.fullmatch(rf"posted    2h ago · {STAMP}", posted())
        clock["now"] = start
        await wait_until(lambda: "2h ago" not in posted(), pilot, timeout=3)
        assert re.fullmatch(rf"posted    now · {STAMP}", posted())  # "posted now", not "now ago"


async def test_history_times_read_like_the_rest_of_the_pane(db_path) -> None:  # type: ignore[no-untyped-def]
    (mention_id,) = await add(db_path, [IncomingMention("reddit", "a", "Refund?", "ann")], NEU)
    store = await Store.open(db_path, "ana")
    due = datetime.fromisoformat("2026-11-24T09:00:00.654321+00:00")
    await store.set_follow_up(mention_id, due, "check the refund")
    await store.add_tag(mention_id, "billing")
    await store.add_snapshot(mention_id)
    await store.set_status(mention_id, "done")
    await store.close()
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        plain = pane(app).plain
        history = plain.split("\nHistory\n", 1)[1].splitlines()
        # (the Unix user shows beside the operator's name when the two differ)
        history = [re.sub(r" \(unix: [^)]+\)", "", line) for line in history]
        assert len(history) == 4
        for line in history:
            assert re.match(rf"{STAMP} ana ", line), line
            assert "{" not in line and "'" not in line and "+00:00" not in line
        assert history[0].endswith("ana follow_up due 2026-11-24 09:00:00Z, note check the refund")
        assert history[1].endswith("ana tag billing")
        assert re.search(r"ana snapshot id 1, sha256 [0-9a-f]{16}…$", history[2])
        assert history[3].endswith("ana status done")
        follow = next(line for line in plain.splitlines() if line.startswith("follow-up"))
        assert follow.startswith("follow-up 2026-11-24 09:00:00Z (")
        for line in plain.splitlines():
            assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", line), line  # never microseconds
            assert "T09:00" not in line


async def test_n_shows_the_open_negatives_the_status_line_counts(make_app, db_path) -> None:  # type: ignore[no-untyped-def]
    app = await make_app()  # two negatives: ann (id 1) and dan (id 4)
    store = await Store.open(db_path, "colleague")
    await store.set_status(4, "done")
    await store.close()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await wait_until(lambda: app.counts is not None, pilot)
        assert "▼ 1 open neg" in str(app.query_one("#status").render())
        await pilot.press("n")
        await settle(app, pilot)
        assert [r.author for r in app.mentions.shown()] == ["ann"]
        assert "open negatives" in str(app.query_one("#status").render())


@pytest.mark.parametrize("width", [80, 44, 24])
def test_reasons_wrap_between_reasons_and_keep_each_term_with_its_weight(width: int) -> None:
    from rich.console import Console

    from tui.core.model import Mention, Reason, Score
    from tui.ui.widgets.detail import render_mention

    reasons = (
        Reason("praise inside a complaint", -5.04),
        Reason("lexicon: rude, rhetorical 'why'", -1.4),
        Reason("love", 3.2),
        Reason("delivery exception", -1.5),
        Reason("'still' with nothing done", -1.2),
        Reason("a\x1b[2Jb\nc", -0.3),
    )
    now = utcnow()
    mention = Mention(
        1, "demo", "x", None, "ann", "late", now, now, "en",
        Score(-0.9, "negative", reasons), None, (), "new", None, None, b"",
    )  # fmt: skip
    console = Console(width=width, no_color=True, legacy_windows=False)
    with console.capture() as captured:
        console.print(render_mention(mention))
    lines = captured.get().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  praise"))
    end = next(i for i, line in enumerate(lines) if line.startswith("tags"))
    block = lines[start:end]
    assert block and all(line.startswith("  ") and len(line) <= width for line in block)
    joined = [line.strip() for line in block]
    for reason in ("praise inside a complaint -5.04", "love +3.20", "a␛b c -0.30"):
        if len(reason) <= width - 2:  # a reason that fits is never split over two lines
            assert any(reason in line for line in joined), (reason, block)
    assert "\x1b" not in captured.get()


@pytest.mark.parametrize("width", [80, 44, 30])
def test_a_long_value_wraps_under_its_value_never_where_the_labels_are(width: int) -> None:
    """A crafted author name (padding, then what looks like a field) cannot draw a line
    that begins at the labels' column, nor can a note's long line."""
    from rich.console import Console

    from tui.core.model import Mention, Note, Score
    from tui.ui.widgets.detail import render_mention

    now = utcnow()
    author = "support-team-official " + "x" * 40 + " url\u2800\u2800 https://evil.example/login"
    note = Note("first line\n" + "assigned you " * 12, now, "kim")
    mention = Mention(
        1, "demo", "x", "https://example.com/" + "a" * 90, author, "late", now, now, "en",
        Score(-0.5, "negative", ()), None, (), "new", None, None, b"", notes=(note,),
    )  # fmt: skip
    console = Console(width=width, no_color=True, legacy_windows=False)
    with console.capture() as captured:
        console.print(render_mention(mention))
    lines = captured.get().splitlines()
    labels = ("author", "source", "url", "posted", "collected", "language", "tags", "kim")
    starts = [line.split()[0] for line in lines if line and not line[0].isspace()]
    # Only labels, the text, the heading and section titles start a line at column 0.
    assert set(starts) <= {*labels, "late", "▼", "sentiment", "Team"}, starts
    assert starts.count("url") == 1 and starts.count("author") == 1
    body = lines[lines.index("  first line") + 1 :]
    assert len(body) > 1  # the long line did wrap
    assert all(line.startswith("  ") and line[2] != " " for line in body if line.strip())
    assert " ".join(line.strip() for line in body) == ("assigned you " * 12).strip()
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("width", [30, 24])
def test_a_reason_wider_than_the_pane_keeps_its_weight_and_the_next_starts_a_line(
    width: int,
) -> None:
    from rich.console import Console
    from rich.text import Text

    from tui.ui.widgets.detail import Flow

    flow = Flow(
        [
            (Text("最悪のサービスです本当に最悪"), Text("-3.10")),
            (Text("love"), Text("+3.20")),
            (Text("late"), Text("-1.60")),
        ]
    )
    console = Console(width=width, no_color=True, legacy_windows=False)
    with console.capture() as captured:
        console.print(flow)
    lines = captured.get().splitlines()
    from rich.cells import cell_len

    assert all(line.startswith("  ") and cell_len(line) <= width for line in lines), lines
    weighted = next(i for i, line in enumerate(lines) if "-3.10" in line)
    assert lines[weighted].endswith(" -3.10")
    assert not lines[weighted].strip().startswith("-3.10")  # the weight is not left alone
    term = "".join(line.strip() for line in lines[: weighted + 1]).removesuffix("-3.10").strip()
    assert term == "最悪のサービスです本当に最悪"  # the whole term, in order, then its weight
    assert lines[weighted + 1] == "  love +3.20  late -1.60"


def test_the_pane_says_how_many_reasons_it_leaves_out() -> None:
    from rich.console import Console

    from tui.core.model import Mention, Reason, Score
    from tui.ui.widgets.detail import render_mention

    reasons = tuple(Reason(f"word{n}", -1.0 + n / 100) for n in range(15))
    now = utcnow()
    mention = Mention(
        1, "demo", "x", None, "ann", "late", now, now, "en",
        Score(-0.9, "negative", reasons), None, (), "new", None, None, b"",
    )  # fmt: skip
    console = Console(width=80, no_color=True, legacy_windows=False)
    with console.capture() as captured:
        console.print(render_mention(mention))
    shown = captured.get()
    assert "word11" in shown and "word12" not in shown
    assert "and 3 more (export)" in shown


def test_a_drafts_blank_lines_stay_blank_lines() -> None:
    from rich.console import Console

    from tui.core.model import Draft, Mention, Score
    from tui.ui.widgets.detail import render_mention

    now = utcnow()
    text = "Hi Ann,\n\nSorry about the delay.\n\nThanks,\nKim"
    draft = Draft(1, text, now, "kim")
    mention = Mention(
        1, "demo", "x", None, "ann", "late", now, now, "en",
        Score(-0.5, "negative", ()), None, (), "new", None, None, b"", drafts=(draft,),
    )  # fmt: skip
    console = Console(width=60, no_color=True, legacy_windows=False)
    with console.capture() as captured:
        console.print(render_mention(mention))
    lines = captured.get().splitlines()
    start = lines.index("  Hi Ann,")
    assert lines[start : start + 6] == [
        "  Hi Ann,", "", "  Sorry about the delay.", "", "  Thanks,", "  Kim",
    ]  # fmt: skip
