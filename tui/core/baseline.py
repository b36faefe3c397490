"""What a normal hour looks like, and when a count is improbably far above it.

The baseline of a window is the mean count of the same window at the same time of the week
over the past weeks, leaving out windows that overlap a gap (the collector not running, a
source failing): an outage is not a quiet hour. With too little such history it falls back,
and says so, to the same time of day over the past week, then to every covered window of the
past week. A spike is a count whose Poisson tail probability under the baseline is below the
rule's threshold, and at least the rule's minimum count: the same 12 negatives are a spike at
4 a.m. and a normal Monday morning.

Pure functions over counts per 15-minute bucket (``tui.store.rollups``), no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

BUCKETS_PER_HOUR = 4
BUCKET_SECONDS = 900
WEEK = 7 * 24 * BUCKETS_PER_HOUR
DAY = 24 * BUCKETS_PER_HOUR
MIN_WEEKS = 2
"""Fewer same-hour-of-week windows than this: fall back to the same hour of day."""
MIN_DAYS = 3
"""Fewer same-hour-of-day windows than this: fall back to every covered window of the week."""
MIN_WINDOWS = 12
"""Fewer covered windows of the past week than this: no baseline at all."""
FLOOR = 0.5
"""The least expected count: a window that was always empty still expects a little."""


@dataclass(frozen=True, slots=True)
class Baseline:
    mean: float
    samples: int
    basis: str
    """How it was read, for the explanation: ``4 weeks``, ``same hour, 5 days``, ..."""
    values: tuple[int, ...] = ()
    """The past windows' counts it is the mean of (the trends screen draws their band)."""

    @property
    def low(self) -> float:
        return min(self.values) if self.values else self.mean

    @property
    def high(self) -> float:
        return max(self.values) if self.values else self.mean


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    mean = max(mean, 1e-9)
    # 1 - P(X <= count - 1), summed in log space so large counts do not overflow.
    log_terms = [k * math.log(mean) - mean - math.lgamma(k + 1) for k in range(count)]
    below = math.fsum(math.exp(t) for t in log_terms)
    if below < 0.999:
        return max(0.0, 1.0 - below)
    # Close to 1: sum the tail directly for precision.
    terms, k = [], count
    while True:
        term = math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        terms.append(term)
        if term < 1e-18 * max(1.0, sum(terms)) or k > count + 10_000:
            break
        k += 1
    return math.fsum(terms)


def window_sum(counts: Sequence[int], end: int, width: int) -> int:
    """The sum of ``width`` buckets ending (exclusive) at index ``end`` of ``counts``."""
    return sum(counts[max(0, end - width) : max(0, end)])


def baseline(
    counts: Sequence[int],
    end: int,
    width: int,
    covered: Callable[[int, int], bool],
    weeks: int = 4,
    history_start: int = 0,
) -> Baseline | None:
    """The baseline of the window of ``width`` buckets ending at index ``end`` of ``counts``.

    ``covered(start, end)``: whether the buckets ``start`` .. ``end - 1`` (indexes into
    ``counts``) were all counted (no gap). ``history_start``: the first index with any
    history (earlier windows are not "zero", they are unknown)."""

    def past(step: int, n: int) -> list[int]:
        values = []
        for k in range(1, n + 1):
            stop = end - k * step
            start = stop - width
            if stop <= history_start or start < 0:
                break
            if covered(start, stop):
                values.append(window_sum(counts, stop, width))
        return values

    same_week = past(WEEK, weeks)
    if len(same_week) >= MIN_WEEKS:
        return Baseline(
            _mean(same_week), len(same_week), f"{len(same_week)} weeks", tuple(same_week)
        )
    same_day = past(DAY, 7)
    if len(same_day) >= MIN_DAYS:
        return Baseline(
            _mean(same_day), len(same_day), f"same hour, {len(same_day)} days", tuple(same_day)
        )
    every = past(width, max(1, WEEK // width))
    if len(every) >= MIN_WINDOWS:
        return Baseline(
            _mean(every), len(every), f"every window of the past {len(every)}", tuple(every)
        )
    return None


def _mean(values: Sequence[int]) -> float:
    return sum(values) / len(values)


@dataclass(frozen=True, slots=True)
class Spike:
    count: int
    baseline: Baseline
    probability: float


def spike(count: int, base: Baseline | None, probability: float, min_count: int) -> Spike | None:
    """A spike when ``count`` is at least ``min_count`` and improbably high for ``base``."""
    if base is None or count < min_count:
        return None
    p = poisson_tail(count, max(base.mean, FLOOR))
    return Spike(count, base, p) if p < probability else None


_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
_STOP = """the and for you your with this that have has had are was were but not all any can our
    out get got just now why how what when who will would from they them their there here been
    its it's i'm im dont don't can't cant didn't didnt won't wont very really still about into
    over than then more some such only also even much many one two again back after before
    because being does doing did off onto too yet via http https www com amp"""
STOPWORDS = frozenset(_STOP.split())


def words(text: str, drop: frozenset[str] = frozenset()) -> set[str]:
    """The distinct words of ``text`` that can carry a topic (lower case, no stop words)."""
    found = {w.strip("'’-") for w in _WORD.findall(text.lower())}
    return {w for w in found if len(w) > 2 and w not in STOPWORDS and w not in drop}


def rising_words(
    now: Iterable[str],
    before: Iterable[str],
    *,
    before_windows: int,
    top: int = 5,
    drop: frozenset[str] = frozenset(),
) -> list[tuple[str, int, float]]:
    """Words in more of ``now``'s texts than usual: (word, texts now, usual per window), the
    biggest rise first. ``before`` holds the texts of ``before_windows`` past windows."""
    current = Counter(w for text in now for w in words(text, drop))
    usual = Counter(w for text in before for w in words(text, drop))
    windows = max(1, before_windows)
    scored = []
    for word, n in current.items():
        if n < 2:
            continue
        expected = usual[word] / windows
        scored.append(((n + 1) / (expected + 1), n, word, expected))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [(word, n, expected) for _, n, word, expected in scored[:top]]


def describe_window(start: datetime, width_buckets: int) -> str:
    """``Tue 14:00`` (the hour of the week a window starts at), for explanations."""
    return start.astimezone(UTC).strftime("%a %H:%M") + (
        "" if width_buckets == BUCKETS_PER_HOUR else f" ({width_buckets * 15} min)"
    )


def explain(
    metric: str,
    found: Spike,
    window: str,
    start: datetime,
    width_buckets: int,
    top_words: Sequence[tuple[str, int, float]],
) -> str:
    """``31 negatives in the last hour; usual for Tue 14:00 is 4.2 (4 weeks); top words:
    outage, login, app``."""
    noun = "negatives" if metric == "negative" else "mentions"
    text = (
        f"{found.count} {noun} in the last {window}; usual for "
        f"{describe_window(start, width_buckets)} is {found.baseline.mean:.1f} "
        f"({found.baseline.basis})"
    )
    if top_words:
        text += "; top words: " + ", ".join(word for word, _, _ in top_words)
    return text
