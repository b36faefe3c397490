"""``T``: the level of mentions and complaints against their usual, per hour.

The last 24 hours and the last 7 days, per hour: mentions and negatives as sparklines, each
with the usual for that hour under it (the mean of the same hour of the week over past weeks,
``tui.core.baseline.baseline``, leaving out hours the collector did not count), and the hours
outside the usual band (more, or fewer, than in every one of those same hours), named in
words since each sparkline is scaled to its own peak; one sparkline
per source for the last 24 hours; and the words rising in the last hour's negatives against
the same hour before. Everything is read from the rollups (``tui.store.rollups``), a few
thousand counts whatever the number of mentions; only the rising words read texts, of one
hour at a time. Hours not counted are named under the sparklines, never drawn as quiet.

Source names and words come from the internet: shown as plain one-line text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Sparkline, Static

from tui.core import baseline as bl
from tui.core.model import utcnow
from tui.core.text import one_line
from tui.store import Store, StoreError
from tui.store.rollups import BUCKET_MS, HOUR_MS, bucket_of, hour_of

PER_HOUR = bl.BUCKETS_PER_HOUR
DAY_HOURS = 24
WEEK_HOURS = 7 * 24
SOURCES_SHOWN = 12
"""Sources with a sparkline each (the busiest of the last 24 hours)."""
WORDS_SHOWN = 6


def hourly(counts: Sequence[int]) -> list[int]:
    """Counts per 15-minute bucket summed per hour (``counts`` starts on an hour)."""
    return [sum(counts[i : i + PER_HOUR]) for i in range(0, len(counts), PER_HOUR)]


def hour_ranges(hours: set[int] | frozenset[int]) -> list[tuple[int, int]]:
    """Consecutive hours as (first, last + 1) ranges, in order."""
    ranges: list[tuple[int, int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + 1)
        else:
            ranges.append((hour, hour + 1))
    return ranges


def _at(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_MS / 1000, UTC)


def describe_gaps(hours: set[int] | frozenset[int], *, weekday: bool) -> str:
    """``03:00–05:00, 14:00–15:00`` (UTC; with the weekday for a week's view), empty: none."""
    form = "%a %H:%M" if weekday else "%H:%M"
    return ", ".join(f"{_at(first):{form}}–{_at(stop):%H:%M}" for first, stop in hour_ranges(hours))


@dataclass(frozen=True, slots=True)
class History:
    """Counts per bucket from ``start`` (a bucket number) to now, and the hours not counted."""

    start: int
    counts: list[int]
    negatives: list[int]
    gaps: frozenset[int]
    history_start: int
    """The first index into ``counts`` with any history (earlier is unknown, not zero)."""

    def covered(self, start: int, stop: int) -> bool:
        first = (self.start + start) * BUCKET_MS // HOUR_MS
        last = (self.start + stop - 1) * BUCKET_MS // HOUR_MS
        return not any(hour in self.gaps for hour in range(first, last + 1))

    def usual(self, end_bucket: int, *, negative: bool, weeks: int) -> bl.Baseline | None:
        """The baseline of the hour ending (exclusive) at bucket ``end_bucket``."""
        counts = self.negatives if negative else self.counts
        return bl.baseline(
            counts, end_bucket - self.start, PER_HOUR, self.covered, weeks, self.history_start
        )


class TrendsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("r", "reload", "Refresh"),
    ]

    DEFAULT_CSS = """
    TrendsScreen { align: center middle; }
    TrendsScreen .trends { width: 100; height: 90%; }
    TrendsScreen .section { text-style: bold; margin-top: 1; }
    TrendsScreen .series { height: 1; }
    TrendsScreen .series Label { width: 34; }
    TrendsScreen .series Sparkline { width: 1fr; }
    TrendsScreen .gaps { color: $warning; }
    TrendsScreen #sources { height: auto; }
    """

    def __init__(self, store: Store, *, weeks: int = 4, brand_terms: Sequence[str] = ()) -> None:
        super().__init__()
        self.store = store
        self.weeks = weeks
        self.drop = frozenset(w for term in brand_terms for w in bl.words(term))
        """Brand words, which would otherwise top every list of rising words."""
        self.now = utcnow()
        self.end_hour = hour_of(self.now) + 1
        """The hour after the current one: the views end with the current hour, so far."""
        self.sources: dict[str, list[int]] = {}
        """Mentions per hour of the last 24 hours, by source (as drawn)."""
        self.words: list[tuple[str, int, float]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog trends"):
            yield Label("Trends (per hour, UTC)", classes="title")
            yield Static(id="summary")
            for span in ("24h", "7d"):
                title = "Last 24 hours" if span == "24h" else "Last 7 days"
                yield Label(title, classes="section")
                for name in ("volume", "usual", "negative", "usual-negative"):
                    with Horizontal(classes="series"):
                        yield Label(id=f"{name}-{span}-label")
                        yield Sparkline([], id=f"{name}-{span}")
                yield Static(id=f"band-{span}")
                yield Static(id=f"gaps-{span}", classes="gaps")
            yield Label("By source, last 24 hours", classes="section")
            yield Vertical(id="sources")
            yield Label("Rising words in negatives, last hour vs usual", classes="section")
            yield Static(id="words")
            yield Label("r refresh · escape close", classes="hint")

    async def on_mount(self) -> None:
        await self.action_reload()

    async def action_reload(self) -> None:
        try:
            await self._reload()
        except StoreError as error:
            self.query_one("#summary", Static).update(
                Text(one_line(f"cannot read the counts: {error}"))
            )

    async def _read(self, end: int) -> History:
        start = end - WEEK_HOURS * PER_HOUR - self.weeks * bl.WEEK
        counts = await self.store.series(start, end)
        negatives = await self.store.series(start, end, negative=True)
        gaps = await self.store.gaps(start // PER_HOUR, end // PER_HOUR)
        first = await self.store.first_bucket()
        history_start = max(0, (first if first is not None else end) - start)
        return History(start, counts, negatives, frozenset(gaps), history_start)

    async def _reload(self) -> None:
        self.now = utcnow()
        self.end_hour = hour_of(self.now) + 1
        end = self.end_hour * PER_HOUR
        history = await self._read(end)
        for span, hours in (("24h", DAY_HOURS), ("7d", WEEK_HOURS)):
            self._show_span(history, span, hours, end)
        this_hour = end - PER_HOUR
        now_count = sum(history.counts[this_hour - history.start :])
        now_negative = sum(history.negatives[this_hour - history.start :])
        usual = history.usual(end, negative=False, weeks=self.weeks)
        usual_negative = history.usual(end, negative=True, weeks=self.weeks)
        summary = Text(f"This hour so far ({_at(self.end_hour - 1):%H:%M}): ", "bold")
        summary.append(f"{now_count} mentions, usual {_figure(usual)}; ")
        summary.append(f"{now_negative} negatives, usual {_figure(usual_negative)}")
        if usual is not None:
            summary.append(f" ({usual.basis})", "dim")
        self.query_one("#summary", Static).update(summary)
        await self._show_sources(end)
        await self._show_words(history, end)

    def _show_span(self, history: History, span: str, hours: int, end: int) -> None:
        first = end - hours * PER_HOUR
        offset = first - history.start
        series = {
            "volume": hourly(history.counts[offset:]),
            "negative": hourly(history.negatives[offset:]),
        }
        outside: dict[str, tuple[set[int], set[int]]] = {}
        """Per metric that has a usual band: the hours above and below it."""
        for name, negative, actual in (
            ("usual", False, series["volume"]),
            ("usual-negative", True, series["negative"]),
        ):
            means = []
            above: set[int] = set()
            below: set[int] = set()
            banded = False
            for hour in range(hours):
                base = history.usual(
                    first + (hour + 1) * PER_HOUR, negative=negative, weeks=self.weeks
                )
                means.append(round(base.mean, 2) if base is not None else 0.0)
                if base is not None and base.values:
                    banded = True
                    when = first // PER_HOUR + hour
                    if actual[hour] > base.high:
                        above.add(when)
                    elif actual[hour] < base.low and when < end // PER_HOUR - 1:
                        below.add(when)  # (the current hour is not over: not yet below)
            series[name] = means
            if banded:
                outside[name] = (above, below)
        names = {
            "volume": "mentions",
            "negative": "negatives",
            "usual": "usual mentions",
            "usual-negative": "usual negatives",
        }
        for name, values in series.items():
            self.query_one(f"#{name}-{span}", Sparkline).data = values
            peak = max(values, default=0)
            total = sum(values)
            shown = f"{total:.0f}" if isinstance(total, float) else f"{total}"
            label = f"{names[name]}: {shown} · peak {_number(peak)}"
            self.query_one(f"#{name}-{span}-label", Label).update(Text(label))
        self.query_one(f"#band-{span}", Static).update(band_text(outside, weekday=span == "7d"))
        gaps = {h for h in history.gaps if first // PER_HOUR <= h < end // PER_HOUR}
        text = Text()
        if gaps:
            text.append("not counted (collector not running or a source failing): ")
            text.append(describe_gaps(gaps, weekday=span == "7d"))
        elif all(v == 0 for v in series["usual"]):
            text.append("no usual yet: it needs a few days of counted history", "dim")
        self.query_one(f"#gaps-{span}", Static).update(text)

    async def _show_sources(self, end: int) -> None:
        first = end - DAY_HOURS * PER_HOUR
        by_source = await self.store.series_by_source(first, end)
        per_hour = {source: hourly(counts) for source, counts in by_source.items()}
        busiest = sorted(per_hour, key=lambda s: (-sum(per_hour[s]), s))[:SOURCES_SHOWN]
        self.sources = {source: per_hour[source] for source in busiest}
        box = self.query_one("#sources", Vertical)
        await box.remove_children()
        rows = []
        for source in busiest:
            values = per_hour[source]
            name = one_line(source, 20)
            label = Label(Text(f"{name}: {sum(values)} · peak {max(values, default=0)}"))
            rows.append(Horizontal(label, Sparkline(values, classes="source"), classes="series"))
        if not rows:
            rows.append(
                Horizontal(Label(Text("no mentions in the last 24 hours")), classes="series")
            )
        await box.mount_all(rows)

    async def _show_words(self, history: History, end: int) -> None:
        """Words in more of the last hour's negatives than in the same hour of past weeks
        (or, with too few weeks of history, past days), counted hours only."""
        start = self.now - timedelta(hours=1)
        now_texts = await self.store.texts_between(start, self.now, negative=True)
        before: list[str] = []
        windows = 0
        first_bucket = history.start + history.history_start
        for step, count in ((timedelta(days=7), self.weeks), (timedelta(days=1), 7)):
            before, windows = [], 0
            for k in range(1, count + 1):
                begin = start - k * step
                window_start = bucket_of(begin)
                index = window_start - history.start
                if window_start < first_bucket or index < 0:
                    break
                if not history.covered(index, index + PER_HOUR + 1):
                    continue
                before += await self.store.texts_between(
                    begin, begin + timedelta(hours=1), negative=True, limit=500
                )
                windows += 1
            if windows >= bl.MIN_WEEKS:
                break
        self.words = bl.rising_words(
            now_texts, before, before_windows=windows, top=WORDS_SHOWN, drop=self.drop
        )
        text = Text()
        if not now_texts:
            text.append("no negatives in the last hour")
        elif not self.words:
            text.append(f"{len(now_texts)} negatives in the last hour; no word stands out")
        else:
            text.append(
                " · ".join(
                    f"{one_line(word, 40)} {n} (usual {usual:.1f})" for word, n, usual in self.words
                )
            )
            if windows == 0:
                text.append(" · no earlier hour to compare with", "dim")
        self.query_one("#words", Static).update(text)


def band_text(outside: dict[str, tuple[set[int], set[int]]], *, weekday: bool) -> Text:
    """Which hours were above (or below) their usual band: more (fewer) than in every one of
    the same hours the usual is the mean of. Reads without colour."""
    text = Text()
    for name, noun in (("usual-negative", "negatives"), ("usual", "mentions")):
        if name not in outside:
            continue  # no usual yet (the line below says so)
        above, below = outside[name]
        if text:
            text.append(" · ")
        if above:
            text.append(f"{noun} above their usual band: ", "bold")
            text.append(describe_gaps(above, weekday=weekday))
        else:
            text.append(f"{noun} never above their usual band")
        if below:
            text.append(f"; below it: {describe_gaps(below, weekday=weekday)}", "dim")
    return text


def _figure(base: bl.Baseline | None) -> str:
    return f"{base.mean:.1f}" if base is not None else "unknown"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
