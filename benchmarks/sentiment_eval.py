"""Sentiment quality and speed: plain VADER against the project's Scorer, side by side, and
the learned model's learning curve.

    python benchmarks/sentiment_eval.py [CSV] [--folds K] [--rounds N] [--brands CSV]
    python benchmarks/sentiment_eval.py --learning-curve [--seeds S] [--sizes 250,500,...]

CSV defaults to ../shared/data/airline_tweets_dev.csv relative to the repository root (or
$TRIAGE_SHARED_DIR/data/airline_tweets_dev.csv). It needs the columns text, airline_sentiment
(negative/neutral/positive) and airline. --brands defaults to brand_mentions_dev.csv beside it
(columns set, text, label, target).

Printed for both: confusion matrix, per-class precision and recall, macro-F1, k-fold
cross-validated figures (thresholds chosen on the training folds, evaluated on the held-out
fold), the unscored rate, and throughput in texts per second with the ratio. The Scorer gets the
brand terms a team would configure for the brands in the airline column (names as written and
run together, e.g. "US Airways" and "USAirways"); @handles are removed by cleaning anyway.
Then the same for each brand set ("beyond airlines", brand terms from
``tui.core.sentiment_eval.load_brand_sets``), and the learned model's scoring throughput.

--learning-curve simulates N operator corrections (N = 250, 500, 1,000, 2,000) drawn at random
from each set, trains the learned model on them (``tui.core.learn``), and scores the rest of the
set: macro-F1 and negative precision/recall of the learned model, of the lexicon Scorer and of
plain VADER on the same unseen remainder, averaged over --seeds draws. A set too small for an N
(the remainder must keep a fifth of the set) gets one point at 80% of its size instead.
"deployed" is what the app would use: the learned model where its cross-validated macro-F1 on
the N corrections beat the lexicon's on them, else the lexicon. It ends with the training time
for 10,000 labels (cross-validation, class shifts and the model), on one core.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from tui.core.learn import LearnedScorer, learn, train  # noqa: E402
from tui.core.sentiment import (  # noqa: E402
    DEFAULT_NEGATIVE_THRESHOLD,
    DEFAULT_POSITIVE_THRESHOLD,
    Scorer,
)
from tui.core.sentiment_eval import (  # noqa: E402
    CrossValidation,
    Example,
    Metrics,
    brand_terms_from_names,
    classify,
    cross_validate,
    load_brand_sets,
    load_labelled_csv,
)

VADER_NEGATIVE, VADER_POSITIVE = -0.05, 0.05
"""VADER's standard thresholds."""


def default_csv(name: str = "airline_tweets_dev.csv") -> Path:
    shared = os.environ.get("TRIAGE_SHARED_DIR")
    base = Path(shared) if shared else ROOT.parent / "shared"
    return base / "data" / name


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


def vader_label(vader: SentimentIntensityAnalyzer, text: str) -> str:
    return classify(vader.polarity_scores(text)["compound"], VADER_NEGATIVE, VADER_POSITIVE)


def beyond_airlines(brands_csv: Path, vader: SentimentIntensityAnalyzer) -> None:
    """Plain VADER and the Scorer, out of the box (no labels), on each brand set."""
    section("beyond airlines: each brand set, no labels (Scorer with the set's brand terms)")
    print(f"data: {brands_csv}")
    print(
        f"{'set':20}{'n':>6}  {'VADER F1':>9}{'neg P/R':>12}  {'Scorer F1':>9}{'neg P/R':>12}  gain"
    )
    for brand_set in load_brand_sets(brands_csv).values():
        gold = [e.label for e in brand_set.examples]
        scorer = Scorer(brand_set.brand_terms)
        plain = Metrics.of(gold, [vader_label(vader, e.text) for e in brand_set.examples])
        ours = Metrics.of(gold, [scorer.score(e.text).label for e in brand_set.examples])
        print(
            f"{brand_set.name:20}{len(gold):>6}  {plain.macro_f1:>9.3f}"
            f"{plain.precision('negative'):>7.3f}/{plain.recall('negative'):.3f}"
            f"  {ours.macro_f1:>9.3f}{ours.precision('negative'):>7.3f}/"
            f"{ours.recall('negative'):.3f}  {ours.macro_f1 - plain.macro_f1:+.3f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, default=default_csv())
    parser.add_argument("--brands", type=Path, default=default_csv("brand_mentions_dev.csv"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best is kept)")
    parser.add_argument(
        "--learning-curve", action="store_true", help="the learned model's learning curve"
    )
    parser.add_argument("--seeds", type=int, default=6, help="draws per N (learning curve)")
    parser.add_argument(
        "--sizes", default="250,500,1000,2000", help="numbers of corrections (learning curve)"
    )
    args = parser.parse_args(argv)
    for path in (args.csv, args.brands):
        if not path.is_file():
            print(f"error: no labelled data at {path}; pass the CSV path", file=sys.stderr)
            return 2
    if args.learning_curve:
        sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
        return learning_curve(args.csv, args.brands, sizes, args.seeds, args.folds)

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

    beyond_airlines(args.brands, vader)

    section("throughput of the learned model (trained on every text of the CSV)")
    model = train(scorer, texts, gold)
    learned = LearnedScorer(scorer, model)
    vader_rate_2, learned_rate = throughput(
        [vader.polarity_scores, learned.score], texts, rounds=args.rounds
    )
    print(
        f"plain VADER {vader_rate_2:,.0f} texts/s; learned model ({len(model.weights):,} "
        f"features) {learned_rate:,.0f} texts/s; ratio {learned_rate / vader_rate_2:.2f}"
    )

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
    print(f"{'speed ratio (learned / VADER)':32}{'':>10}{learned_rate / vader_rate_2:>10.2f}")
    return 0


def curve_sizes(total: int, sizes: Sequence[int]) -> list[int]:
    """The Ns that leave at least a fifth of the set unseen; when some do not, one point at
    80% of the set instead of them."""
    limit = total * 4 // 5
    chosen = [n for n in sizes if n <= limit]
    if len(chosen) < len(sizes) and limit not in chosen:
        chosen.append(limit)
    return chosen


def _figures(metrics: Metrics) -> tuple[float, float, float]:
    return metrics.macro_f1, metrics.precision("negative"), metrics.recall("negative")


def _mean(rows: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    return (
        statistics.fmean(r[0] for r in rows),
        statistics.fmean(r[1] for r in rows),
        statistics.fmean(r[2] for r in rows),
    )


def _cell(figures: tuple[float, float, float]) -> str:
    return f"{figures[0]:.3f} ({figures[1]:.3f}/{figures[2]:.3f})"


def learning_curve(
    airline_csv: Path, brands_csv: Path, sizes: Sequence[int], seeds: int, folds: int
) -> int:
    """Print the learning curve of every set, then the training time for 10,000 labels."""
    airline = load_labelled_csv(airline_csv)
    sets: list[tuple[str, Sequence[Example], Sequence[str]]] = [
        ("airline", airline, brand_terms_from_names(sorted({e.brand for e in airline}))),
    ]
    for brand_set in load_brand_sets(brands_csv).values():
        sets.append((brand_set.name, brand_set.examples, brand_set.brand_terms))
    vader = SentimentIntensityAnalyzer()
    section(
        f"learning curve: N corrections drawn at random, the rest scored ({seeds} draws each;"
        " macro-F1 (negative precision/recall))"
    )
    head = (
        f"{'set':18}{'N':>6}  {'learned':<21}{'lexicon Scorer':<21}{'plain VADER':<21}"
        f"{'deployed':<21}{'learned used':>12}  {'gain vs lexicon'}"
    )
    print(head)
    for name, examples, terms in sets:
        texts = [e.text for e in examples]
        gold = [e.label for e in examples]
        scorer = Scorer(terms)
        lexicon_labels = [scorer.score(t).label for t in texts]
        vader_labels = [vader_label(vader, t) for t in texts]
        for n in curve_sizes(len(texts), sizes):
            learned_rows, lexicon_rows, vader_rows, deployed_rows = [], [], [], []
            used = 0
            spread = []
            for seed in range(seeds):
                order = list(range(len(texts)))
                random.Random(1000 + seed).shuffle(order)
                seen, unseen = order[:n], order[n:]
                model, evaluation = learn(
                    scorer, [texts[i] for i in seen], [gold[i] for i in seen], folds=folds
                )
                learned = LearnedScorer(scorer, model)
                truth = [gold[i] for i in unseen]
                predicted = [learned.score(texts[i]).label for i in unseen]
                learned_rows.append(_figures(Metrics.of(truth, predicted)))
                lexicon_metrics = Metrics.of(truth, [lexicon_labels[i] for i in unseen])
                lexicon_rows.append(_figures(lexicon_metrics))
                vader_rows.append(_figures(Metrics.of(truth, [vader_labels[i] for i in unseen])))
                if evaluation.takes_over:
                    used += 1
                    deployed_rows.append(learned_rows[-1])
                else:
                    deployed_rows.append(lexicon_rows[-1])
                spread.append(learned_rows[-1][0])
            learned_mean, lexicon_mean = _mean(learned_rows), _mean(lexicon_rows)
            size = f"{n:,}" if n in sizes else f"{n:,}*"
            print(
                f"{name:18}{size:>6}  {_cell(learned_mean):<21}{_cell(lexicon_mean):<21}"
                f"{_cell(_mean(vader_rows)):<21}{_cell(_mean(deployed_rows)):<21}"
                f"{used:>9}/{seeds:<2}  {learned_mean[0] - lexicon_mean[0]:+.3f}"
                f"  (learned {min(spread):.3f}..{max(spread):.3f})"
            )
    print("* 80% of a set too small for the requested N")
    training_time(airline, sets, folds)
    return 0


def training_time(
    airline: Sequence[Example],
    sets: Sequence[tuple[str, Sequence[Example], Sequence[str]]],
    folds: int,
) -> None:
    """Time ``learn`` (k-fold cross-validation, class shifts and the model) on 10,000 labels,
    pinned to one core: every text of every set, topped up with texts made of two of them."""
    examples = [e for _, set_examples, _ in sets for e in set_examples]
    rng = random.Random(7)
    while len(examples) < 10_000:
        first, second = rng.sample(examples[:8000], 2)
        examples.append(Example(f"{first.text} {second.text}", first.label, first.brand))
    examples = examples[:10_000]
    scorer = Scorer(brand_terms_from_names(sorted({e.brand for e in airline})))
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity:
        os.sched_setaffinity(0, {min(affinity)})
    try:
        started = time.perf_counter()
        model, evaluation = learn(
            scorer, [e.text for e in examples], [e.label for e in examples], folds=folds
        )
        seconds = time.perf_counter() - started
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)
    section("training time")
    print(
        f"10,000 labels, {folds}-fold cross-validation, shifts and the model, one core: "
        f"{seconds:.1f} s ({len(model.weights):,} features kept; cross-validated macro-F1 "
        f"{evaluation.learned.macro_f1:.3f})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
