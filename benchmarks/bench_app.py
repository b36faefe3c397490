"""The app at 1,000,000 stored mentions, each figure against the same figure at 1,000.

Run by hand (not by pytest)::

    python benchmarks/bench_app.py [--rows 1000000] [--small 1000]

Measures, in one run, at the small (baseline) and the large size:

* time to first paint of the list (``App.run_test(size=(120, 40))`` until a frame shows rows);
* keypress to refreshed screen, p50 and p95, for cursor moves (``j``/``k`` across page loads,
  at the newest and at the oldest end), page moves, the negatives filter (``n``) and a search;
* store queries behind the list, per filter (for diagnosis);
* ingest throughput (``Ingestor.ingest`` into a fresh database) against bare VADER;
* the app's peak RSS (a subprocess runs it headless and presses keys).

Keypress timing: the key is sent the way the terminal driver sends it (``driver.send_message``
of a ``Key`` event), and the clock stops at the first frame the screen hands to the terminal
(``App._display``) after the list has applied the key (``MentionList._changed``) and repainted
its lines (``render_line``). Headless apps skip building the terminal output; the probe builds
it (``render_segments``) so that cost is counted too. The next key follows ``--gap-ms`` after
a ``j``/``k`` frame (key repeat, so the detail pane's delayed update competes with it) and
``--slow-gap-ms`` after other frames (the detail pane has settled, as between deliberate keys).

The databases are built once and cached under /tmp (see ``bench_fill.py``); later runs reuse
them. ``--rebuild`` builds them again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_fill

TARGET_RATIO = 1.5
TARGET_P95_MS = 50.0
TARGET_INGEST = 0.8
TARGET_RSS_MB = 200.0
SEARCH_TERMS = ("delivery", "refund", "charged twice", "passport", "lockers")
PREFIXES = ("p", "pa", "par", "d", "de")
"""What a type-ahead search sends while "parcel" or "delivery" is being typed."""


# -- probing the screen ----------------------------------------------------------------------


class Probe:
    """Times from an input to the first frame that shows its effect on the list."""

    current: Probe | None = None

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_paint: float | None = None
        self.first_paint_event = asyncio.Event()
        self.painted_rows = False
        self.armed = False
        self.changed = False
        self.painted = False
        self.t_press = 0.0
        self.t_changed = 0.0
        self.t_frame = 0.0
        self.frame_event = asyncio.Event()

    def arm(self) -> None:
        self.armed, self.changed, self.painted = True, False, False
        self.frame_event.clear()
        self.t_press = time.perf_counter()

    def on_changed(self) -> None:
        if self.armed:
            self.changed, self.painted = True, False
            self.t_changed = time.perf_counter()

    def on_render_line(self, has_rows: bool) -> None:
        self.painted_rows = self.painted_rows or has_rows
        if self.armed and self.changed:
            self.painted = True

    def on_frame(self) -> None:
        now = time.perf_counter()
        if self.first_paint is None and self.painted_rows:
            self.first_paint = now - self.started
            self.first_paint_event.set()
        if self.armed and self.changed and self.painted:
            self.armed = False
            self.t_frame = now
            self.frame_event.set()


def install_hooks() -> None:
    """Wrap MentionList (in this process only) so the probe sees state changes and painting."""
    from tui.ui.widgets.mention_list import MentionList

    if getattr(MentionList, "_bench_hooked", False):
        return
    changed, render_line = MentionList._changed, MentionList.render_line

    def _changed(self: MentionList) -> None:
        changed(self)
        if Probe.current is not None:
            Probe.current.on_changed()

    def _render_line(self: MentionList, y: int):  # type: ignore[no-untyped-def]
        if Probe.current is not None:
            Probe.current.on_render_line(bool(self.rows))
        return render_line(self, y)

    MentionList._changed = _changed  # type: ignore[method-assign]
    MentionList.render_line = _render_line  # type: ignore[method-assign]
    MentionList._bench_hooked = True  # type: ignore[attr-defined]


def hook_display(app: object, probe: Probe) -> None:
    from textual._compositor import CompositorUpdate

    original = app._display  # type: ignore[attr-defined]

    def display(screen: object, renderable: object) -> None:
        original(screen, renderable)
        if renderable is None or app._batch_count:  # type: ignore[attr-defined]
            return
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)  # type: ignore[attr-defined]
        probe.on_frame()

    app._display = display  # type: ignore[attr-defined]


def make_app(db: Path):  # type: ignore[no-untyped-def]
    from tui.ui.app import TriageApp

    return TriageApp(bench_fill.bench_config(), db, "bench", collect=False)


# -- keypress latency ---------------------------------------------------------------------------


@dataclass
class Samples:
    frame_ms: dict[str, list[float]] = field(default_factory=dict)
    handler_ms: dict[str, list[float]] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    first_paint_ms: list[float] = field(default_factory=list)
    window_max: int = 0

    def add(self, kind: str, frame: float, handler: float) -> None:
        self.frame_ms.setdefault(kind, []).append(frame)
        self.handler_ms.setdefault(kind, []).append(handler)


_CHARS = {"j": "j", "k": "k", "n": "n", "g": "g", "G": "G"}


async def _timed(
    app, probe: Probe, samples: Samples, kind: str, trigger: Callable[[], None], gap: float
) -> None:  # type: ignore[no-untyped-def]
    probe.arm()
    trigger()
    try:
        await asyncio.wait_for(probe.frame_event.wait(), 10.0)
    except TimeoutError:
        probe.armed = False
        samples.timeouts[kind] = samples.timeouts.get(kind, 0) + 1
    else:
        samples.add(
            kind, (probe.t_frame - probe.t_press) * 1000, (probe.t_changed - probe.t_press) * 1000
        )
    samples.window_max = max(samples.window_max, len(app.mentions.rows))
    await asyncio.sleep(gap)


async def first_paint(db: Path) -> float:
    """ms from starting the app to the first frame that shows rows in the list."""
    install_hooks()
    app = make_app(db)
    probe = Probe()
    Probe.current = probe
    hook_display(app, probe)
    probe.started = time.perf_counter()
    async with app.run_test(size=(120, 40)):
        await asyncio.wait_for(probe.first_paint_event.wait(), 60)
    Probe.current = None
    assert probe.first_paint is not None
    return probe.first_paint * 1000


async def run_keys(
    db: Path,
    samples: Samples,
    *,
    gap: float,
    slow_gap: float,
    moves: int,
    pages: int,
    filters: int,
) -> None:
    from textual import events

    from tui.core.model import Filter

    install_hooks()
    app = make_app(db)
    probe = Probe()
    Probe.current = probe
    hook_display(app, probe)
    probe.started = time.perf_counter()
    async with app.run_test(size=(120, 40)):
        await asyncio.wait_for(probe.first_paint_event.wait(), 60)
        await asyncio.sleep(0.5)

        def key(name: str) -> Callable[[], None]:
            return lambda: app._driver.send_message(events.Key(name, _CHARS.get(name)))

        async def press(kind: str, name: str, times: int = 1, pause: float = slow_gap) -> None:
            for _ in range(times):
                await _timed(app, probe, samples, kind, key(name), pause)

        async def search(kind: str, text: str | None) -> None:
            filt = replace(Filter(), search=text)
            await _timed(
                app, probe, samples, kind, lambda: app.call_later(app._apply_filter, filt), slow_gap
            )

        # Cursor moves from the newest row down, crossing page loads (page_before).
        await press("cursor j/k", "j", moves, gap)
        # Jump to the oldest end, then up across page loads (page_after).
        await press("jump g/G", "G")
        await press("cursor j/k", "k", moves, gap)
        await press("jump g/G", "g")
        # Page moves from the top.
        for _ in range(3):
            await press("page down/up", "pagedown", pages)
            await press("page down/up", "pageup", pages)
        # The negatives filter, on and off.
        for _ in range(filters):
            await press("filter n", "n", 2)
        # Search through the store filter (typing in the search box adds a deliberate 150 ms
        # debounce on top). Whole words, then the short prefixes a type-ahead search issues.
        for _ in range(filters // 5):
            for term in SEARCH_TERMS:
                await search("search", term)
                await search("search cleared", None)
        for _ in range(max(1, filters // 25)):
            for term in PREFIXES:
                await search("search prefix", term)
                await search("search cleared", None)
        for _ in range(5):
            await press("jump g/G", "G")
            await press("jump g/G", "g")
    Probe.current = None


# -- store queries ----------------------------------------------------------------------------


async def store_queries(db: Path, repeats: int = 5) -> dict[str, float]:
    """Median ms per store call the list makes, per filter, at the newest and deep pages."""
    from tui.core.model import Filter
    from tui.store import Store

    store = await Store.open(db, "bench")
    top = await store.max_id()
    deep = max(1, top // 10)
    filters = {
        "all": Filter(),
        "negative": Filter(negative_only=True),
        "negative+new": Filter(negative_only=True, status="new"),
        "tag complaint": Filter(tag="complaint"),
        f"tag {bench_fill.RARE_TAG}": Filter(tag=bench_fill.RARE_TAG),
        "source hackernews": Filter(source="hackernews"),
        "follow-ups due": Filter(follow_ups_due=True),
        "search refund": Filter(search="refund"),
        "search parcel": Filter(search="parcel"),
        "search p": Filter(search="p"),
        "search lockers+negative": Filter(search="lockers", negative_only=True),
    }
    out: dict[str, float] = {}

    async def timed(name: str, call: Callable[[], object]) -> None:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            await call()  # type: ignore[misc]
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)

    for name, filt in filters.items():
        await timed(f"page_before newest · {name}", lambda f=filt: store.page_before(f, None, 100))
        await timed(f"page_before deep · {name}", lambda f=filt: store.page_before(f, deep, 100))
        await timed(f"count_newer · {name}", lambda f=filt: store.count_newer(f, deep))
    await timed("counts()", store.counts)
    await timed("sources()", store.sources)
    await timed("mention(id)", lambda: store.mention(top - 3))
    await store.close()
    return out


# -- ingest -----------------------------------------------------------------------------------


def ingest_mentions(count: int, seed: int):  # type: ignore[no-untyped-def]
    from tui.core.model import utcnow
    from tui.demo import DemoStream

    stream = DemoStream(seed)
    now = utcnow()
    return [stream.next_mention(now - timedelta(seconds=count - i)) for i in range(count)]


async def ingest_rate(mentions, batch: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(mentions/s through Ingestor.ingest, /s scoring only, /s storing only), fresh databases."""
    from tui.ingest import Ingestor, analyze, make_scorer
    from tui.store import Store

    scorer = make_scorer(bench_fill.bench_config())
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "ingest.db", "bench")
        ingestor = Ingestor(store, scorer)
        started = time.perf_counter()
        for start in range(0, len(mentions), batch):
            await ingestor.ingest(mentions[start : start + batch])
        full = len(mentions) / (time.perf_counter() - started)
        await store.close()

        started = time.perf_counter()
        scored = analyze(scorer, mentions)
        score_only = len(mentions) / (time.perf_counter() - started)

        store = await Store.open(Path(tmp) / "store.db", "bench")
        started = time.perf_counter()
        for start in range(0, len(scored), batch):
            part = scored[start : start + batch]
            await store.add_mentions([m for m, _ in part], [s for _, s in part])
        store_only = len(scored) / (time.perf_counter() - started)
        await store.close()
    return full, score_only, store_only


def vader_rate(texts: Sequence[str]) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return len(texts) / (time.perf_counter() - started)


# -- peak RSS in a subprocess ------------------------------------------------------------------


async def rss_child(db: Path) -> None:
    from textual import events

    from tui.core.model import Filter
    from tui.ui.widgets.mention_list import MentionList

    app = make_app(db)
    async with app.run_test(size=(120, 40)):
        for _ in range(1200):
            found = app.query(MentionList)
            if found and found.first().rows:
                break
            await asyncio.sleep(0.05)
        keys = ["j"] * 300 + ["G"] + ["k"] * 300 + ["g"] + ["pagedown"] * 20 + ["pageup"] * 20
        for name in [*keys, "n", "n"]:
            app._driver.send_message(events.Key(name, _CHARS.get(name)))
            await asyncio.sleep(0.01)
        for term in (*SEARCH_TERMS, None):
            app.call_later(app._apply_filter, replace(Filter(), search=term))
            await asyncio.sleep(0.05)
        await asyncio.sleep(4.5)  # the header's counts refresh every 2 s
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    print(
        json.dumps(
            {
                "vm_hwm_kb": int(fields["VmHWM"].split()[0]),
                "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def peak_rss_mb(db: Path) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(db)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["vm_hwm_kb"] / 1024, data["ru_maxrss_kb"] / 1024


# -- report -----------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Line:
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str
    verdict: str


def table(lines: Sequence[Line], markdown: bool = False) -> str:
    head = Line("figure", "large", "baseline", "ratio", "target", "result")
    rows = [head, *lines]
    cols = list(
        zip(
            *[(r.figure, r.value, r.baseline, r.ratio, r.target, r.verdict) for r in rows],
            strict=True,
        )
    )
    widths = [max(len(c) for c in col) for col in cols]
    out = []
    for index, r in enumerate(rows):
        cells = [r.figure, r.value, r.baseline, r.ratio, r.target, r.verdict]
        if markdown:
            out.append("| " + " | ".join(cells) + " |")
            if index == 0:
                out.append("|" + "|".join("---" for _ in cells) + "|")
        else:
            out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="large database size")
    parser.add_argument("--small", type=int, default=1000, help="baseline database size")
    parser.add_argument("--rounds", type=int, default=2, help="app runs per size (interleaved)")
    parser.add_argument("--launches", type=int, default=5, help="app starts per size")
    parser.add_argument("--moves", type=int, default=250, help="j presses, then k presses")
    parser.add_argument("--pages", type=int, default=20, help="pagedown presses per cycle")
    parser.add_argument("--filters", type=int, default=50, help="n on/off pairs (searches: /5)")
    parser.add_argument(
        "--gap-ms", type=float, default=40.0, help="pause after each j/k frame (key repeat)"
    )
    parser.add_argument(
        "--slow-gap-ms",
        type=float,
        default=150.0,
        help="pause after other keys (the detail pane settles first)",
    )
    parser.add_argument("--ingest", type=int, default=6000, help="mentions ingested per round")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        asyncio.run(rss_child(args.rss_child))
        return 0

    import textual

    started = time.perf_counter()
    sizes = {"small": args.small, "large": args.rows}
    built = {}
    for name, rows in sizes.items():
        b = bench_fill.build(rows, rebuild=args.rebuild)
        built[name] = b
        how = "cached, reused" if b.cached else "built now"
        print(f"database {rows:,} rows: {b.path} ({how}; build took {b.seconds:.1f} s)", flush=True)
    info = built["large"].info
    print(
        f"  large: {info.get('size_mb')} MB, new {info['new']:,}, negative {info['negative']:,},"
        f" tagged {info['tagged']:,}, follow-ups {info['follow_ups']:,},"
        f" distinct texts {info['distinct_texts']:,}",
        flush=True,
    )

    # Warm up imports, CSS and caches once so the first measured run is not penalised.
    warm = Samples()
    asyncio.run(
        run_keys(built["small"].path, warm, gap=0, slow_gap=0, moves=5, pages=2, filters=10)
    )

    samples = {name: Samples() for name in sizes}
    for round_ in range(args.launches):
        for name in ("small", "large") if round_ % 2 == 0 else ("large", "small"):
            samples[name].first_paint_ms.append(asyncio.run(first_paint(built[name].path)))
    print("first paint done", flush=True)
    for round_ in range(args.rounds):
        for name in ("small", "large") if round_ % 2 == 0 else ("large", "small"):
            t = time.perf_counter()
            asyncio.run(
                run_keys(
                    built[name].path,
                    samples[name],
                    gap=args.gap_ms / 1000,
                    slow_gap=args.slow_gap_ms / 1000,
                    moves=args.moves,
                    pages=args.pages,
                    filters=args.filters,
                )
            )
            print(
                f"keys: round {round_ + 1} {name} done in {time.perf_counter() - t:.0f} s",
                flush=True,
            )

    queries = {name: asyncio.run(store_queries(built[name].path)) for name in sizes}
    print("store queries done", flush=True)

    mentions = ingest_mentions(args.ingest, seed=99)
    texts = [m.text for m in mentions]
    rates: dict[str, list[float]] = {"vader": [], "ingest": [], "score": [], "store": []}
    vader_rate(texts[:500])
    for _ in range(3):
        rates["vader"].append(vader_rate(texts))
        full, score_only, store_only = asyncio.run(ingest_rate(mentions, 500))
        rates["ingest"].append(full)
        rates["score"].append(score_only)
        rates["store"].append(store_only)
    rate = {k: statistics.median(v) for k, v in rates.items()}
    print("ingest done", flush=True)

    rss: dict[str, tuple[float, float]] = {}
    if not args.skip_rss:
        for name in sizes:
            rss[name] = peak_rss_mb(built[name].path)
        print("rss done", flush=True)

    # -- figures
    small, large = samples["small"], samples["large"]
    lines: list[Line] = []
    ok_all = True
    fp_s = statistics.median(small.first_paint_ms)
    fp_l = statistics.median(large.first_paint_ms)
    lines.append(
        Line(
            f"first paint of the list (median of {len(large.first_paint_ms)})",
            f"{fp_l:.0f} ms",
            f"{fp_s:.0f} ms",
            f"{fp_l / fp_s:.2f}x",
            "none given",
            "-",
        )
    )
    targeted = ("cursor j/k", "page down/up", "filter n", "search")
    for kind in (
        "cursor j/k",
        "page down/up",
        "filter n",
        "search",
        "search cleared",
        "search prefix",
        "jump g/G",
    ):
        s, l_ = small.frame_ms.get(kind, []), large.frame_ms.get(kind, [])
        if not s or not l_:
            continue
        for q, label in ((0.5, "p50"), (0.95, "p95")):
            vs, vl = pct(s, q), pct(l_, q)
            ratio = vl / vs
            if kind in targeted:
                target = f"<= {TARGET_RATIO}x" + (
                    f", < {TARGET_P95_MS:.0f} ms" if q == 0.95 else ""
                )
                ok = ratio <= TARGET_RATIO and (q != 0.95 or vl < TARGET_P95_MS)
                ok_all &= ok
                result = verdict(ok)
            else:
                target, result = "none given", "-"
            lines.append(
                Line(
                    f"key to screen, {kind} {label} (n={len(l_)})",
                    f"{vl:.1f} ms",
                    f"{vs:.1f} ms",
                    f"{ratio:.2f}x",
                    target,
                    result,
                )
            )
    ratio = rate["ingest"] / rate["vader"]
    ok = ratio >= TARGET_INGEST
    ok_all &= ok
    lines.append(
        Line(
            "ingest, scored+stored (Ingestor.ingest, 500/batch)",
            f"{rate['ingest']:,.0f}/s",
            f"{rate['vader']:,.0f}/s (bare VADER)",
            f"{ratio:.2f}x",
            f">= {TARGET_INGEST}x",
            verdict(ok),
        )
    )
    lines.append(
        Line(
            "  of which: scoring only (analyze)",
            f"{rate['score']:,.0f}/s",
            f"{rate['vader']:,.0f}/s",
            f"{rate['score'] / rate['vader']:.2f}x",
            "-",
            "-",
        )
    )
    lines.append(
        Line(
            "  of which: storing only (add_mentions)",
            f"{rate['store']:,.0f}/s",
            f"{rate['vader']:,.0f}/s",
            f"{rate['store'] / rate['vader']:.2f}x",
            "-",
            "-",
        )
    )
    if rss:
        hwm_l, hwm_s = rss["large"][0], rss["small"][0]
        ok = hwm_l < TARGET_RSS_MB
        ok_all &= ok
        lines.append(
            Line(
                "app peak RSS (VmHWM)",
                f"{hwm_l:.0f} MB",
                f"{hwm_s:.0f} MB",
                f"{hwm_l / hwm_s:.2f}x",
                f"< {TARGET_RSS_MB:.0f} MB",
                verdict(ok),
            )
        )

    print()
    print(
        f"large = {args.rows:,} stored mentions, baseline = {args.small:,}; "
        f"{args.rounds} app runs per size; next key {args.gap_ms:.0f} ms after a j/k frame, "
        f"{args.slow_gap_ms:.0f} ms after other frames"
    )
    print(table(lines))
    timeouts = {k: v for n in sizes for k, v in samples[n].timeouts.items()}
    if timeouts:
        print(f"timeouts (no frame within 10 s): {timeouts}")
    print(f"largest window held by the list: {large.window_max} rows")

    print("\nwhere the time goes: key to state change (handler) vs key to frame, p95 ms")
    for kind in large.frame_ms:
        print(
            f"  {kind:14} large handler {pct(large.handler_ms[kind], 0.95):6.1f} "
            f"frame {pct(large.frame_ms[kind], 0.95):6.1f} | baseline handler "
            f"{pct(small.handler_ms[kind], 0.95):6.1f} frame {pct(small.frame_ms[kind], 0.95):6.1f}"
        )
    print("\nstore calls, median ms (large vs baseline)")
    for name, value in queries["large"].items():
        base = queries["small"][name]
        print(f"  {name:48} {value:8.2f}  {base:7.2f}")

    print(
        f"\nmachine: nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"Textual {textual.__version__}, SQLite {__import__('sqlite3').sqlite_version}"
    )
    print(f"overall: {'PASS' if ok_all else 'FAIL'} ({time.perf_counter() - started:.0f} s)")

    md = Path(tempfile.gettempdir()) / "bench_app_last.md"
    md.write_text(table(lines, markdown=True) + "\n")
    print(f"markdown table: {md}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
