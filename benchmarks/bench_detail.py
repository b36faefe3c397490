"""The detail pane's drawing: ``render_mention`` laid out into lines, against the same text
drawn as plain lines, in the same run.

Run by hand (not by pytest)::

    python benchmarks/bench_detail.py [--repeats 2000] [--width 78]

The pane lays each labelled field out with a hanging indent (``Hanging``) and the reasons as a
flow (``Flow``), so that no value wraps to the labels' column and no reason's term is split
from its weight. The baseline is the cost the pane cannot avoid: the same lines, already cut
to the width, drawn as one ``Text`` each. The ratio is what the layout adds; the pane is drawn
once per selection that settles (after 30 ms) and on each redraw of the ages, so a figure
well under a frame (16 ms) keeps the keys as fast as before.

Three mentions: a short one (a few fields), a typical one (eight reasons, a tag, six history
events) and a long one (a 2,000-character text, a long author name and URL that wrap, twelve
reasons, notes and drafts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console, Group
from rich.text import Text

from tui.core.model import Draft, Event, Mention, Note, Reason, Score, utcnow
from tui.ui.widgets.detail import render_mention


def mentions() -> dict[str, Mention]:
    now = utcnow()

    def mention(text: str, author: str, url: str | None, reasons: int, **more: object) -> Mention:
        score = Score(
            -0.7,
            "negative",
            tuple(Reason(f"reason word {n}", -1.5 + n / 10) for n in range(reasons)),
        )
        return Mention(
            1, "mastodon", "x1", url, author, text, now - timedelta(minutes=9), now, "en",
            score, None, ("complaint",), "new", None, None, b"", **more,  # type: ignore[arg-type]
        )  # fmt: skip

    events = tuple(Event(i, 1, now, "sam", "tag", '"billing"', "sbrown") for i in range(6))
    notes = tuple(Note("Called them back, refund sent. " * 4, now, "kim") for _ in range(2))
    drafts = (Draft(1, "Hi Ann,\n\nSorry about the delay.\n\nThanks,\nKim", now, "kim"),)
    return {
        "short": mention("Parcel late again", "ann", None, 1),
        "typical": mention(
            "My parcel is three days late and support won't answer. " * 2,
            "ann",
            "https://social.example/@ann/1",
            8,
            events=events,
        ),
        "long": mention(
            "The parcel never came. " * 90,
            "support-team-official " + "x" * 60,
            "https://example.com/" + "a" * 120,
            12,
            events=events,
            notes=notes,
            drafts=drafts,
        ),
    }


def timed(draw: Callable[[], object], repeats: int) -> float:
    """Median microseconds of ``draw`` over five rounds of ``repeats`` calls."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeats):
            draw()
        rounds.append((time.perf_counter() - started) / repeats * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--width", type=int, default=78)
    args = parser.parse_args()
    console = Console(width=200, color_system="truecolor", force_terminal=True)
    options = console.options.update(width=args.width, height=None, highlight=False)
    print(f"detail pane at {args.width} columns; median of 5 rounds of {args.repeats} draws")
    print(f"{'mention':<9}{'lines':>6}{'pane (us)':>11}{'plain (us)':>12}{'ratio':>7}")
    for name, mention in mentions().items():
        pane = render_mention(mention)
        lines = console.render_lines(pane, options, pad=True)
        plain = Group(*(Text("".join(s.text for s in line)) for line in lines))

        def draw_pane(pane: Group = pane) -> object:
            return console.render_lines(pane, options, pad=True)

        def draw_plain(plain: Group = plain) -> object:
            return console.render_lines(plain, options, pad=True)

        both = []
        for _ in range(2):  # interleaved, so that the machine's load falls on both alike
            both.append((timed(draw_pane, args.repeats), timed(draw_plain, args.repeats)))
        pane_us = statistics.mean(p for p, _ in both)
        plain_us = statistics.mean(q for _, q in both)
        print(
            f"{name:<9}{len(lines):>6}{pane_us:>11.0f}{plain_us:>12.0f}{pane_us / plain_us:>7.2f}"
        )


if __name__ == "__main__":
    main()
