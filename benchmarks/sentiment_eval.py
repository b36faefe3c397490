"""Sentiment quality and speed: plain VADER against the project's Scorer, side by side.

    python benchmarks/sentiment_eval.py [CSV] [--folds K] [--rounds N]

CSV defaults to ../shared/data/airline_tweets_dev.csv relative to the repository root (or
$TRIAGE_SHARED_DIR/data/airline_tweets_dev.csv). It needs the columns text, airline_sentiment
(negative/neutral/positive) and airline.

Printed for both: confusion matrix, per-class precision and recall, macro-F1, k-fold
cross-validated figures (thresholds chosen on the training folds, evaluated on the held-out
fold), the unscored rate, and throughput in texts per second with the ratio. The Scorer gets the
brand terms a team would configure for the brands in the airline column (names as written and
run together, e.g. "US Airways" and "USAirways"); @handles are removed by cleaning anyway.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from tui.core.sentiment import (  # noqa: E402
    DEFAULT_NEGATIVE_THRESHOLD,
    DEFAULT_POSITIVE_THRESHOLD,
    Scorer,
)
from tui.core.sentiment_eval import (  # noqa: E402
    CrossValidation,
    Metrics,
    brand_terms_from_names,
    classify,
    cross_validate,
    load_labelled_csv,
)

VADER_NEGATIVE, VADER_POSITIVE = -0.05, 0.05
"""VADER's standard thresholds."""


def default_csv() -> Path:
    shared = os.environ.get("TRIAGE_SHARED_DIR")
    base = Path(shared) if shared else ROOT.parent / "shared"
    return base / "data" / "airline_tweets_dev.csv"


def throughput(
    functions: Sequence[Callable[[str], object]],
    texts: Sequence[str],
    *,
    rounds: int = 5,
    chunk: int = 250,
) -> list[float]:
    """Texts per second of each function on the same texts.

    The texts are timed in chunks, the functions taking turns chunk by chunk, and each chunk
    keeps its best time over the rounds: a burst of load from another process then spoils one
    sample, not the whole comparison.
    """
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    best = [[float("inf")] * len(chunks) for _ in functions]
    for _ in range(rounds):
        for c, part in enumerate(chunks):
            for f, function in enumerate(functions):
                start = time.perf_counter()
                for text in part:
                    function(text)
                best[f][c] = min(best[f][c], time.perf_counter() - start)
    return [len(texts) / sum(times) for times in best]


def section(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * max(0, 80 - len(title))}")


def show_cv(name: str, cv: CrossValidation) -> None:
    chosen = ", ".join(f"({n:+.2f}, {p:+.2f})" for n, p in cv.thresholds)
    print(f"{name}: thresholds chosen per fold (negative, positive): {chosen}")
    print(cv.metrics.table())
    macro = [m.macro_f1 for m in cv.fold_metrics]
    recall = [m.recall("negative") for m in cv.fold_metrics]
    precision = [m.precision("negative") for m in cv.fold_metrics]
    print(
        f"per fold: macro-F1 {min(macro):.3f}..{max(macro):.3f}, negative recall "
        f"{min(recall):.3f}..{max(recall):.3f}, negative precision "
        f"{min(precision):.3f}..{max(precision):.3f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, default=default_csv())
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best is kept)")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"error: no labelled data at {args.csv}; pass the CSV path", file=sys.stderr)
        return 2

    examples = load_labelled_csv(args.csv)
    texts = [e.text for e in examples]
    gold = [e.label for e in examples]
    brands = brand_terms_from_names(sorted({e.brand for e in examples if e.brand}))
    counts = {label: gold.count(label) for label in ("negative", "neutral", "positive")}
    print(f"data: {args.csv} ({len(texts):,} texts: {counts})")
    print(f"brand terms given to the Scorer: {brands}")

    vader = SentimentIntensityAnalyzer()
    scorer = Scorer(brands)
    vader_compounds: list[float | None] = [vader.polarity_scores(t)["compound"] for t in texts]
    scores = [scorer.score(t) for t in texts]
    scorer_compounds = [s.compound for s in scores]

    vader_in = Metrics.of(
        gold, [classify(c, VADER_NEGATIVE, VADER_POSITIVE) for c in vader_compounds]
    )
    scorer_in = Metrics.of(gold, [s.label for s in scores])
    section(f"plain VADER, raw text, standard thresholds ({VADER_NEGATIVE}, {VADER_POSITIVE})")
    print(vader_in.table())
    section(
        f"Scorer, default thresholds ({DEFAULT_NEGATIVE_THRESHOLD}, {DEFAULT_POSITIVE_THRESHOLD})"
    )
    print(scorer_in.table())

    section(f"{args.folds}-fold cross-validation (thresholds chosen on the training folds)")
    vader_cv = cross_validate(vader_compounds, gold, folds=args.folds)
    scorer_cv = cross_validate(scorer_compounds, gold, folds=args.folds)
    show_cv("plain VADER", vader_cv)
    print()
    show_cv("Scorer", scorer_cv)

    section("throughput on the raw texts (cleaning and language check included)")
    vader_rate, scorer_rate = throughput(
        [vader.polarity_scores, scorer.score], texts, rounds=args.rounds
    )
    print(f"plain VADER {vader_rate:,.0f} texts/s; Scorer {scorer_rate:,.0f} texts/s")

    section("summary")
    rows = [
        ("macro-F1, in-sample", vader_in.macro_f1, scorer_in.macro_f1),
        (f"macro-F1, {args.folds}-fold CV", vader_cv.metrics.macro_f1, scorer_cv.metrics.macro_f1),
        ("negative recall, in-sample", vader_in.recall("negative"), scorer_in.recall("negative")),
        (
            "negative precision, in-sample",
            vader_in.precision("negative"),
            scorer_in.precision("negative"),
        ),
        (
            "negative recall, CV",
            vader_cv.metrics.recall("negative"),
            scorer_cv.metrics.recall("negative"),
        ),
        (
            "negative precision, CV",
            vader_cv.metrics.precision("negative"),
            scorer_cv.metrics.precision("negative"),
        ),
        ("accuracy, in-sample", vader_in.accuracy, scorer_in.accuracy),
        ("unscored rate", vader_in.unscored_rate, scorer_in.unscored_rate),
    ]
    print(f"{'':32}{'VADER':>10}{'Scorer':>10}")
    for name, left, right in rows:
        print(f"{name:32}{left:>10.3f}{right:>10.3f}")
    print(f"{'texts/s':32}{vader_rate:>10,.0f}{scorer_rate:>10,.0f}")
    print(f"{'speed ratio (Scorer / VADER)':32}{'':>10}{scorer_rate / vader_rate:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
