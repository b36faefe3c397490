"""Measuring the sentiment scorer against human labels: loading, metrics, thresholds.

Pure Python, no third-party imports, shared by ``benchmarks/sentiment_eval.py`` and the quality
test. The labelled data itself never ships with the project; callers pass a path.

* ``load_labelled_csv`` reads a CSV with a text column, a label column and a brand column.
* ``load_brand_sets`` reads the brand-mention development file (several public sets in one
  CSV) into one list of examples per set, with the brand terms a team would configure.
* ``brand_terms_from_names`` turns brand names into the ``brand_terms`` a team would configure.
* ``Metrics.of`` gives the confusion matrix, per-class precision/recall/F1 and macro-F1.
* ``choose_thresholds`` picks the negative/positive cut-offs on compound scores.
* ``cross_validate`` chooses thresholds on k-1 folds and evaluates on the held-out fold.
"""

from __future__ import annotations

import bisect
import csv
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CLASSES",
    "PREDICTED",
    "BrandSet",
    "CrossValidation",
    "Example",
    "Metrics",
    "brand_terms_from_names",
    "choose_thresholds",
    "classify",
    "cross_validate",
    "load_brand_sets",
    "load_labelled_csv",
]

CLASSES = ("negative", "neutral", "positive")
"""The human labels; macro-F1 averages over these three."""
PREDICTED = (*CLASSES, "unscored")
"""What a scorer can answer; "unscored" is wrong for every human label."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    brand: str


def load_labelled_csv(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "airline_sentiment",
    brand_column: str = "airline",
) -> list[Example]:
    """Rows of a labelled CSV as examples; raises ``ValueError`` naming a missing column."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in fields:
                raise ValueError(f"{path}: no column {column!r} (columns: {', '.join(fields)})")
        examples = []
        for row in reader:
            label = row[label_column].strip().lower()
            if label not in CLASSES:
                raise ValueError(f"{path}: unknown label {label!r} on line {reader.line_num}")
            examples.append(Example(row[text_column], label, row.get(brand_column) or ""))
    return examples


@dataclass(frozen=True, slots=True)
class BrandSet:
    """One public set of labelled brand mentions, and the brand terms a team would give."""

    name: str
    examples: tuple[Example, ...]
    brand_terms: tuple[str, ...]


BRAND_SET_TERMS: dict[str, tuple[str, ...]] = {
    "sxsw-brands": ("Apple", "Google", "iPad", "iPhone", "Android"),
    "apple": ("Apple",),
}
"""The brands each set is about, as a team watching them would configure ``brand_terms``
(sets not listed: the distinct values of their ``target`` column, each a search term)."""

LINK_PLACEHOLDER = "{link}"
"""Some sets replaced every URL with this; loading puts a URL back, as the post had one."""


def load_brand_sets(path: str | Path) -> dict[str, BrandSet]:
    """The brand-mention file (columns ``set, text, label, target``) as one ``BrandSet`` per
    value of ``set``, in file order."""
    rows: dict[str, list[Example]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        for column in ("set", "text", "label"):
            if column not in fields:
                raise ValueError(f"{path}: no column {column!r} (columns: {', '.join(fields)})")
        for row in reader:
            label = row["label"].strip().lower()
            if label not in CLASSES:
                raise ValueError(f"{path}: unknown label {label!r} on line {reader.line_num}")
            text = row["text"].replace(LINK_PLACEHOLDER, "https://link.invalid/")
            rows.setdefault(row["set"], []).append(Example(text, label, row.get("target") or ""))
    sets = {}
    for name, examples in rows.items():
        terms = BRAND_SET_TERMS.get(name) or tuple(
            sorted({e.brand for e in examples if e.brand.strip()})
        )
        sets[name] = BrandSet(name, tuple(examples), tuple(brand_terms_from_names(terms)))
    return sets


def brand_terms_from_names(names: Iterable[str]) -> list[str]:
    """The brand terms a team would configure for these brand names.

    Each name as written ("US Airways") and run together as in a handle or hashtag
    ("USAirways"). The words of a multi-word name are not added on their own: "US" or
    "American" alone are ordinary words.
    """
    terms: dict[str, None] = {}
    for name in names:
        name = " ".join(name.split())
        if not name:
            continue
        terms[name] = None
        joined = re.sub(r"\s+", "", name)
        terms[joined] = None
    return list(terms)


def classify(compound: float | None, negative: float, positive: float) -> str:
    """Label for a compound score: ``<= negative`` negative, ``>= positive`` positive."""
    if compound is None:
        return "unscored"
    if compound <= negative:
        return "negative"
    if compound >= positive:
        return "positive"
    return "neutral"


@dataclass(frozen=True, slots=True)
class Metrics:
    """Confusion matrix (gold label -> predicted label -> count) and the figures derived."""

    confusion: dict[str, dict[str, int]]

    @classmethod
    def of(cls, gold: Sequence[str], predicted: Sequence[str]) -> Metrics:
        if len(gold) != len(predicted):
            raise ValueError("gold and predicted differ in length")
        confusion = {g: dict.fromkeys(PREDICTED, 0) for g in CLASSES}
        for g, p in zip(gold, predicted, strict=True):
            confusion[g][p] += 1
        return cls(confusion)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    def precision(self, label: str) -> float:
        predicted = sum(row[label] for row in self.confusion.values())
        return self.confusion[label][label] / predicted if predicted else 0.0

    def recall(self, label: str) -> float:
        actual = sum(self.confusion[label].values())
        return self.confusion[label][label] / actual if actual else 0.0

    def f1(self, label: str) -> float:
        p, r = self.precision(label), self.recall(label)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def macro_f1(self) -> float:
        """The mean F1 of the classes that were labelled or predicted (scikit-learn's
        convention): a class neither in the labels nor in the answers counts for nothing,
        where a 0 for it would hold every scorer under two thirds."""
        present = [
            label
            for label in CLASSES
            if sum(self.confusion[label].values()) or any(r[label] for r in self.confusion.values())
        ]
        return sum(self.f1(label) for label in present) / len(present) if present else 0.0

    @property
    def accuracy(self) -> float:
        right = sum(self.confusion[label][label] for label in CLASSES)
        return right / self.total if self.total else 0.0

    @property
    def unscored_rate(self) -> float:
        unscored = sum(row["unscored"] for row in self.confusion.values())
        return unscored / self.total if self.total else 0.0

    def table(self) -> str:
        """The confusion matrix and per-class figures as aligned text."""
        head = "gold \\ predicted " + "".join(f"{p:>10}" for p in PREDICTED)
        lines = [head]
        for g in CLASSES:
            lines.append(f"{g:<17}" + "".join(f"{self.confusion[g][p]:>10}" for p in PREDICTED))
        lines.append("")
        lines.append(f"{'class':<17}{'precision':>10}{'recall':>10}{'F1':>10}")
        for label in CLASSES:
            lines.append(
                f"{label:<17}{self.precision(label):>10.3f}{self.recall(label):>10.3f}"
                f"{self.f1(label):>10.3f}"
            )
        lines.append(
            f"macro-F1 {self.macro_f1:.3f}   accuracy {self.accuracy:.3f}   "
            f"unscored {self.unscored_rate:.2%}"
        )
        return "\n".join(lines)


def _grid(start: float, stop: float, step: float) -> list[float]:
    count = round((stop - start) / step)
    return [round(start + i * step, 4) for i in range(count + 1)]


NEGATIVE_GRID = _grid(-0.60, -0.01, 0.01)
POSITIVE_GRID = _grid(0.01, 0.80, 0.01)


def choose_thresholds(
    compounds: Sequence[float | None],
    gold: Sequence[str],
    *,
    min_negative_precision: float = 0.87,
) -> tuple[float, float]:
    """Thresholds that maximize macro-F1 while negative precision stays at the floor.

    The negative threshold is searched in [-0.60, -0.01] and the positive one in [0.01, 0.80],
    so a text with no sentiment at all (compound 0) is always neutral. If no pair reaches the
    precision floor, the pair with the best macro-F1 is returned.
    """
    scored = sorted((c, g) for c, g in zip(compounds, gold, strict=True) if c is not None)
    values = [c for c, _ in scored]
    unscored = {label: 0 for label in CLASSES}
    for c, g in zip(compounds, gold, strict=True):
        if c is None:
            unscored[g] += 1
    # prefix[label][i] = how many of the i lowest scores carry that gold label
    prefix = {label: [0] * (len(scored) + 1) for label in CLASSES}
    for i, (_, g) in enumerate(scored):
        for label in CLASSES:
            prefix[label][i + 1] = prefix[label][i] + (g == label)
    totals = {label: prefix[label][-1] + unscored[label] for label in CLASSES}

    def f1(tp: int, predicted: int, actual: int) -> float:
        return 2 * tp / (predicted + actual) if predicted + actual else 0.0

    best: tuple[bool, float, float, float] | None = None
    for neg in NEGATIVE_GRID:
        n_end = bisect.bisect_right(values, neg)  # scores <= neg
        neg_counts = {label: prefix[label][n_end] for label in CLASSES}
        neg_predicted = n_end
        neg_precision = neg_counts["negative"] / neg_predicted if neg_predicted else 0.0
        ok = neg_precision >= min_negative_precision
        neg_f1 = f1(neg_counts["negative"], neg_predicted, totals["negative"])
        for pos in POSITIVE_GRID:
            p_start = bisect.bisect_left(values, pos)  # scores >= pos
            pos_tp = prefix["positive"][-1] - prefix["positive"][p_start]
            pos_predicted = len(values) - p_start
            neu_tp = prefix["neutral"][p_start] - prefix["neutral"][n_end]
            neu_predicted = p_start - n_end
            macro = (
                neg_f1
                + f1(neu_tp, neu_predicted, totals["neutral"])
                + f1(pos_tp, pos_predicted, totals["positive"])
            ) / 3
            candidate = (ok, macro, neg, pos)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    assert best is not None
    return best[2], best[3]


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Held-out predictions pooled over the folds, and the thresholds each fold chose."""

    metrics: Metrics
    fold_metrics: tuple[Metrics, ...]
    thresholds: tuple[tuple[float, float], ...]


def cross_validate(
    compounds: Sequence[float | None],
    gold: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 2015,
    min_negative_precision: float = 0.87,
) -> CrossValidation:
    """k-fold cross-validation of the threshold choice.

    For each fold, thresholds are chosen on the other folds and applied to this one; the
    held-out predictions of all folds are pooled into one confusion matrix.
    """
    order = list(range(len(gold)))
    random.Random(seed).shuffle(order)
    parts = [order[i::folds] for i in range(folds)]
    predicted: list[str] = [""] * len(gold)
    fold_metrics = []
    chosen = []
    for k, held_out in enumerate(parts):
        train = [i for j, part in enumerate(parts) if j != k for i in part]
        neg, pos = choose_thresholds(
            [compounds[i] for i in train],
            [gold[i] for i in train],
            min_negative_precision=min_negative_precision,
        )
        chosen.append((neg, pos))
        for i in held_out:
            predicted[i] = classify(compounds[i], neg, pos)
        fold_metrics.append(
            Metrics.of([gold[i] for i in held_out], [predicted[i] for i in held_out])
        )
    return CrossValidation(Metrics.of(gold, predicted), tuple(fold_metrics), tuple(chosen))
