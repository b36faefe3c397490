"""Alert rules evaluated where mentions are stored: the collector lease holder.

After each stored batch (``Alerter.nudge``) and on a timer, the lease holder reads what is new
and what the clock says, and stores each alert once (a unique key per rule and mention or
window, ``Store.add_alerts``), with a pending delivery per channel that ``tui.delivery`` sends.
Every alert explains itself in one line. Rule kinds (``[[alerts]] when``):

* ``negative`` — each new negative mention (optionally of some sources, tags or terms);
* ``reach`` — a new mention whose author's followers or post's reach reach ``min_followers``;
* ``spike`` — the count in the last ``window`` improbably high against its baseline
  (``tui.core.baseline``), once per window length;
* ``sla`` — an open mention ``lead`` before its response is due, and again when it is late;
* ``follow_up`` — a follow-up coming due;
* ``source`` — a source failing, or silent ``silence`` times longer than its usual gap.

Mention rules only fire for mentions posted in the last ``FRESH`` (an import of last year's
history is not news); ``triage alerts test`` (``replay``) replays every rule over history by
post time instead, to tune a rule before it pages anyone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tui.alert_config import AlertRule
from tui.config import Config
from tui.core import baseline as bl
from tui.core.model import Filter, NewAlert, Row, utcnow
from tui.core.text import first_line, one_line
from tui.store import Store, StoreError
from tui.store.rollups import BUCKET_MS, HOUR_MS, bucket_of

FRESH = timedelta(hours=24)
"""Mention rules fire only for mentions posted this recently."""
TICK = 30.0
"""Seconds between evaluations of the clock rules (spike, sla, follow-up, source)."""
ARRIVALS_POLL = 1.0
"""Seconds between checks for mentions another process stored (an import, another app)."""
CLOCK_EVERY = 5.0
"""The clock rules run at most this often however fast batches arrive (mention rules run
for every batch)."""
BATCH = 500
CLOCK_HORIZON = timedelta(hours=24)
"""SLA and follow-up rules look this far back for what came due (not at a year's backlog)."""
MIN_WEEK_FOR_SILENCE = 20
"""A source needs this many mentions in the past week before its silence means anything."""

Log = Callable[[str], None]
MayRun = Callable[[], Awaitable[bool]]


def _matches(rule: AlertRule, row: Row, text: str) -> bool:
    if rule.sources and row.source not in rule.sources:
        return False
    if rule.labels and row.effective_label not in rule.labels:
        return False
    if rule.tags and not set(rule.tags) & set(row.tags):
        return False
    if rule.terms:
        lowered = text.lower()
        if not any(re.search(rf"(?<!\w){re.escape(term)}(?!\w)", lowered) for term in rule.terms):
            return False
    return True


def _who(row: Row) -> str:
    return f"{one_line(row.author, 40) or 'someone'} on {one_line(row.source, 30)}"


def _quote(text: str) -> str:
    return f"“{first_line(text, 100)}”"


def _number(value: int) -> str:
    return f"{value:,}"


@dataclass
class Evaluation:
    """One pass of the rules at ``now``; ``history`` when replaying past data."""

    store: Store
    config: Config
    now: datetime
    history: bool = False

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        return self.config.on_call.rules

    def _of(self, *kinds: str) -> list[AlertRule]:
        return [r for r in self.rules if r.when in kinds]

    def _alert(
        self, rule: AlertRule, key: str, at: datetime, title: str, why: str, **kw
    ) -> NewAlert:  # type: ignore[no-untyped-def]
        return NewAlert(
            key=f"{rule.name}:{key}",
            rule=rule.name,
            kind=rule.when,
            at=at,
            title=one_line(title, 120),
            explanation=one_line(why, 400),
            channels=rule.notify,
            **kw,
        )

    # -- mention rules ----------------------------------------------------------------------

    async def mentions(
        self,
        rows: Sequence[Row],
        reaches: dict[int, tuple[int | None, int | None]] | None = None,
    ) -> list[NewAlert]:
        """Negative and reach alerts for ``rows`` (new mentions); ``reaches``: their
        (followers, engagement) if already read."""
        rules = self._of("negative", "reach")
        if not rules or not rows:
            return []
        if reaches is None:
            reaches = await self.store.reaches([r.id for r in rows]) if self._of("reach") else {}
        out: list[NewAlert] = []
        for row in rows:
            if not self.history and self.now - row.created_at > FRESH:
                continue
            at = row.created_at if self.history else self.now
            who = quote = ""
            for rule in rules:
                if not _matches(rule, row, row.text):
                    continue
                if not who:
                    who, quote = _who(row), _quote(row.text)
                if rule.when == "negative" and row.effective_label == "negative":
                    out.append(
                        self._alert(
                            rule,
                            f"m{row.id}",
                            at,
                            f"Negative from {who}",
                            f"negative mention from {who}: {quote}",
                            mention_id=row.id,
                        )
                    )
                elif rule.when == "reach" and row.id in reaches:
                    followers, engagement = reaches[row.id]
                    parts = []
                    if followers is not None and followers >= rule.min_followers:
                        parts.append(f"{_number(followers)} followers")
                    if engagement is not None and engagement >= rule.min_followers:
                        parts.append(f"post reach {_number(engagement)}")
                    if parts:
                        out.append(
                            self._alert(
                                rule,
                                f"m{row.id}",
                                at,
                                f"Wide reach: {who}",
                                f"{' and '.join(parts)} (threshold {_number(rule.min_followers)})"
                                f" — {row.effective_label} from {who}: {quote}",
                                mention_id=row.id,
                                detail={"followers": followers, "engagement": engagement},
                            )
                        )
        return out

    # -- spikes -----------------------------------------------------------------------------

    async def spike(self, rule: AlertRule) -> NewAlert | None:
        """The rule's window ending now, against its baseline."""
        end_bucket = bucket_of(self.now) + 1
        history = await Counts.read(self.store, self.config, rule, end_bucket, end_bucket)
        return await self.spike_at(rule, history, end_bucket)

    async def spike_at(self, rule: AlertRule, history: Counts, end_bucket: int) -> NewAlert | None:
        """The rule's window ending (exclusive) at ``end_bucket``, from counts read once."""
        width = int(rule.window // 900)
        weeks = self.config.on_call.baseline.weeks
        end = end_bucket - history.start
        base = bl.baseline(
            history.counts, end, width, history.covered, weeks, history.history_start
        )
        count = bl.window_sum(history.counts, end, width)
        found = bl.spike(count, base, rule.probability, rule.min_count)
        if found is None:
            return None
        negative = rule.metric == "negative"
        window_start = datetime.fromtimestamp((end_bucket - width) * BUCKET_MS / 1000, UTC)
        words = await self._rising(rule, window_start, width, found.baseline, negative)
        label = _duration(rule.window)
        why = bl.explain(rule.metric, found, label, window_start, width, words)
        scope = ", ".join(rule.sources or rule.tags)
        title = f"Spike: {count} {'negatives' if negative else 'mentions'} in {label}"
        return self._alert(
            rule,
            f"w{end_bucket // width}",
            self.now,
            title + (f" ({scope})" if scope else ""),
            why,
            detail={
                "count": count,
                "baseline": round(found.baseline.mean, 3),
                "basis": found.baseline.basis,
                "probability": found.probability,
                "window_start": window_start.isoformat(),
                "words": [w for w, _, _ in words],
            },
        )

    async def _rising(
        self, rule: AlertRule, start: datetime, width: int, base: bl.Baseline, negative: bool
    ) -> list[tuple[str, int, float]]:
        span = timedelta(minutes=15 * width)
        now_texts = await self.store.texts_between(start, start + span, negative=negative)
        step = timedelta(days=7) if "weeks" in base.basis else timedelta(days=1)
        before: list[str] = []
        for k in range(1, base.samples + 1):
            before += await self.store.texts_between(
                start - k * step, start - k * step + span, negative=negative, limit=500
            )
        drop = frozenset(w for term in self.config.brand_terms for w in bl.words(term))
        return bl.rising_words(now_texts, before, before_windows=base.samples, drop=drop)

    # -- the clock --------------------------------------------------------------------------

    async def sla(self, rule: AlertRule) -> list[NewAlert]:
        due = await self.store.due_between(
            self.now - CLOCK_HORIZON, self.now + timedelta(seconds=rule.lead)
        )
        if not due:
            return []
        rows = await self.store.rows([mention_id for mention_id, _ in due])
        out = []
        for mention_id, at in due:
            row = rows.get(mention_id)
            if row is None or row.status == "done" or not _matches(rule, row, row.text):
                continue
            minutes = abs(int((at - self.now).total_seconds() // 60))
            if at > self.now:
                out.append(
                    self._alert(
                        rule,
                        f"m{mention_id}:soon",
                        self.now,
                        f"Reply due in {minutes}m: {_who(row)}",
                        f"first response due {at:%H:%M} UTC (in {minutes}m) — "
                        f"{row.effective_label} from {_who(row)}: {_quote(row.text)}",
                        mention_id=mention_id,
                    )
                )
            else:
                out.append(
                    self._alert(
                        rule,
                        f"m{mention_id}:late",
                        self.now,
                        f"Reply late: {_who(row)}",
                        f"first response was due {at:%H:%M} UTC ({minutes}m late) — "
                        f"{row.effective_label} from {_who(row)}: {_quote(row.text)}",
                        mention_id=mention_id,
                    )
                )
        return out

    async def follow_ups(self, rule: AlertRule, since: datetime | None = None) -> list[NewAlert]:
        """Follow-ups that came due from ``since`` (default ``CLOCK_HORIZON`` ago) to now;
        replayed history dates each alert when its follow-up came due."""
        start = since if since is not None else self.now - CLOCK_HORIZON
        due = await self.store.follow_ups_between(start, self.now)
        rows = await self.store.rows([mention_id for mention_id, _ in due])
        out = []
        for mention_id, at in due:
            row = rows.get(mention_id)
            if row is None or not _matches(rule, row, row.text):
                continue
            when = f"due {at:%Y-%m-%d %H:%M}" if self.history else f"was due {at:%H:%M}"
            out.append(
                self._alert(
                    rule,
                    f"m{mention_id}:{int(at.timestamp())}",
                    at if self.history else self.now,
                    f"Follow-up due: {_who(row)}",
                    f"follow-up {when} UTC — {_who(row)}: {_quote(row.text)}",
                    mention_id=mention_id,
                )
            )
        return out

    async def sources(self, rule: AlertRule) -> list[NewAlert]:
        out = []
        names = rule.sources or tuple(s.name for s in self.config.sources if s.enabled)
        states = {s.name: s for s in await self.store.source_states()}
        week_end = bucket_of(self.now) + 1
        for name in names:
            state = states.get(name)
            interval = next((s.interval for s in self.config.sources if s.name == name), 60.0)
            if (
                state is not None
                and state.last_error_at is not None
                and (state.last_success is None or state.last_error_at > state.last_success)
            ):
                since = state.last_success or state.last_error_at
                if (self.now - since).total_seconds() >= max(3 * interval, 300):
                    out.append(
                        self._alert(
                            rule,
                            f"{name}:failing:{int(since.timestamp())}",
                            self.now,
                            f"Source failing: {one_line(name, 30)}",
                            f"{one_line(name, 30)} has failed since {since:%H:%M} UTC: "
                            f"{one_line(state.last_error or 'unknown error', 200)}",
                        )
                    )
                    continue
            week = sum(await self.store.series(week_end - bl.WEEK, week_end, source=name))
            last = await self.store.last_arrival(name)
            if week < MIN_WEEK_FOR_SILENCE or last is None:
                continue
            usual = 7 * 86400 / week
            quiet = (self.now - last[1]).total_seconds()
            if quiet > rule.silence * max(usual, interval):
                out.append(
                    self._alert(
                        rule,
                        f"{name}:silent:{last[0]}",
                        self.now,
                        f"Source silent: {one_line(name, 30)}",
                        f"nothing from {one_line(name, 30)} for {_duration(quiet)}; its usual gap "
                        f"is {_duration(usual)} ({week} mentions in the past week)",
                    )
                )
        return out

    async def clock_rules(self) -> list[NewAlert]:
        out: list[NewAlert] = []
        for rule in self.rules:
            if rule.when == "spike":
                found = await self.spike(rule)
                if found is not None:
                    out.append(found)
            elif rule.when == "sla":
                out += await self.sla(rule)
            elif rule.when == "follow_up":
                out += await self.follow_ups(rule)
            elif rule.when == "source":
                out += await self.sources(rule)
        return out


@dataclass(frozen=True)
class Counts:
    """A spike rule's counts per bucket from ``start``, and which hours were gaps."""

    start: int
    counts: list[int]
    gaps: frozenset[int]
    history_start: int

    @classmethod
    async def read(
        cls, store: Store, config: Config, rule: AlertRule, first_end: int, last_end: int
    ) -> Counts:
        """Enough to judge windows ending at ``first_end`` .. ``last_end``."""
        width = int(rule.window // 900)
        start = first_end - config.on_call.baseline.weeks * bl.WEEK - width
        counts = await store.series(
            start,
            last_end,
            negative=rule.metric == "negative",
            tag=rule.tags[0] if rule.tags else None,
            sources=rule.sources,
        )
        gaps = await store.gaps(
            start * BUCKET_MS // HOUR_MS, last_end * BUCKET_MS // HOUR_MS + 1, rule.sources
        )
        first = await store.first_bucket()
        history_start = max(0, (first if first is not None else last_end) - start)
        return cls(start, counts, frozenset(gaps), history_start)

    def covered(self, start: int, stop: int) -> bool:
        """Whether buckets ``start`` .. ``stop - 1`` (indexes) fall in no gap hour."""
        first = (self.start + start) * BUCKET_MS // HOUR_MS
        last = (self.start + stop - 1) * BUCKET_MS // HOUR_MS
        return not any(hour in self.gaps for hour in range(first, last + 1))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 86400 == 0 and seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h" if rest < 60 else f"{hours}h{rest // 60:02d}m"
    return f"{max(1, seconds // 60)}m" if seconds >= 60 else f"{seconds}s"


class Alerter:
    """Evaluates the rules while this process holds the collector lease."""

    def __init__(
        self, config: Config, store: Store, log: Log, stored: Callable[[], None] | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.log = log
        self.stored = stored
        """Called after a pass that stored alerts (the deliverer's nudge)."""
        self._clock_at: datetime | None = None
        self._wake = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return bool(self.config.on_call.rules)

    def nudge(self) -> None:
        """Mentions were stored: evaluate soon."""
        self._wake.set()

    async def evaluate(self, now: datetime | None = None) -> list[int]:
        """One pass: every new mention since the stored cursor, then the clock rules (unless
        they ran less than ``CLOCK_EVERY`` seconds ago). Returns the ids of the alerts stored
        (already-stored keys are skipped)."""
        now = now or utcnow()
        pass_ = Evaluation(self.store, self.config, now)
        stored: list[int] = []
        cursor = await self.store.alert_cursor()
        upto = await self.store.max_id()
        reach = [r.min_followers for r in pass_._of("reach")]
        while cursor < upto:
            # Only the mentions a rule could fire on are read; the cursor passes the rest.
            found = await self.store.alert_candidates(
                cursor,
                upto,
                negative=bool(pass_._of("negative")),
                min_reach=min(reach) if reach else None,
                since=now - FRESH,
                limit=BATCH,
            )
            rows = [row for row, _ in found]
            reaches = {row.id: figures for row, figures in found if figures is not None}
            alerts = await pass_.mentions(rows, reaches)
            cursor = rows[-1].id if len(rows) == BATCH else upto
            stored += await self.store.add_alerts(alerts, cursor=cursor)
        if self._clock_at is None or abs((now - self._clock_at).total_seconds()) >= CLOCK_EVERY:
            self._clock_at = now
            clock = await pass_.clock_rules()
            if clock:
                stored += await self.store.add_alerts(clock)
        return stored

    async def run(self, halt: asyncio.Event, may_run: MayRun | None = None) -> None:
        """Until ``halt``: evaluate after each nudge, when mentions arrived from another
        process (checked every ``ARRIVALS_POLL`` seconds) and every ``TICK`` seconds; only
        while ``may_run`` says this process is the one to."""
        loop = asyncio.get_running_loop()
        last_pass = -TICK
        while not halt.is_set():
            try:
                due = self._wake.is_set() or loop.time() - last_pass >= TICK
                if (may_run is None or await may_run()) and (due or await self._arrived()):
                    self._wake.clear()
                    last_pass = loop.time()
                    new = await self.evaluate()
                    if new:
                        self.log(f"alerts: {len(new)} new")
                        if self.stored is not None:
                            self.stored()
            except (StoreError, ValueError) as error:
                self.log(f"alerts: evaluation failed: {error}")
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(halt.wait())]
            try:
                await asyncio.wait(
                    waits, timeout=ARRIVALS_POLL, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for task in waits:
                    task.cancel()

    async def _arrived(self) -> bool:
        """Whether mentions were stored past the evaluated cursor (another process's)."""
        return await self.store.max_id() > await self.store.alert_cursor()


async def replay(store: Store, config: Config, since: datetime, until: datetime) -> list[NewAlert]:
    """The alerts the rules would have raised over stored history, by post time: mention
    rules for each mention posted in the range, spike windows every 15 minutes, the SLA by each
    mention's due and answer times, and follow-ups as they came due. Cooldowns are left to
    delivery, as live; each alert is listed once (by key)."""
    pass_ = Evaluation(store, config, until, history=True)
    out: dict[str, NewAlert] = {}
    rows: list[Row] = []
    before: int | None = None
    while True:  # newest first, in pages (keyset on id)
        page = await store.page_before(Filter(created_since=since), before, 5000)
        rows += [r for r in page if r.created_at <= until]
        if len(page) < 5000:
            break
        before = page[-1].id
    rows.sort(key=lambda r: (r.created_at, r.id))
    for chunk in range(0, len(rows), BATCH):
        for alert in await pass_.mentions(rows[chunk : chunk + BATCH]):
            out.setdefault(alert.key, alert)
    sla_rules = [r for r in config.on_call.rules if r.when == "sla"]
    for rule in (r for r in config.on_call.rules if r.when == "spike"):
        first, last = bucket_of(since) + 1, bucket_of(until) + 1
        history = await Counts.read(store, config, rule, first, last)
        for end_bucket in range(first, last + 1):
            moment = datetime.fromtimestamp(end_bucket * BUCKET_MS / 1000, UTC)
            found = await replace(pass_, now=moment).spike_at(rule, history, end_bucket)
            if found is not None:
                out.setdefault(found.key, found)
    for rule in sla_rules:
        for row in rows:
            if row.due_at is None or not _matches(rule, row, row.text):
                continue
            answered = row.answered_at
            if (answered is None or answered > row.due_at) and row.due_at <= until:
                late = (min(answered or until, until) - row.due_at).total_seconds()
                alert = pass_._alert(
                    rule,
                    f"m{row.id}:late",
                    row.due_at,
                    f"Reply late: {_who(row)}",
                    f"first response was due {row.due_at:%Y-%m-%d %H:%M} UTC"
                    + (f", answered {_duration(late)} late" if answered else ", still open")
                    + f" — {row.effective_label} from {_who(row)}: {_quote(row.text)}",
                    mention_id=row.id,
                )
                out.setdefault(alert.key, alert)
    for rule in (r for r in config.on_call.rules if r.when == "follow_up"):
        for alert in await pass_.follow_ups(rule, since):
            out.setdefault(alert.key, alert)
    return sorted(out.values(), key=lambda a: (a.at, a.key))
