"""The scorer meets its quality targets on the labelled customer-service tweets.

The labelled development set lives outside the repository (``shared/data``): set
``TRIAGE_SHARED_DIR`` or keep ``shared/`` beside the checkout. A missing file fails the test
rather than skipping it, so a broken setup cannot pass silently.

Targets, in-sample (default thresholds) and 5-fold cross-validated (thresholds chosen on the
training folds): macro-F1 >= 0.65, negative recall >= 0.75 at negative precision >= 0.85, and
fewer than 1% of these English tweets unscored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.core.sentiment import Scorer
from tui.core.sentiment_eval import (
    CrossValidation,
    Example,
    Metrics,
    brand_terms_from_names,
    cross_validate,
    load_labelled_csv,
)

DATA_FILE = "airline_tweets_dev.csv"
MIN_MACRO_F1 = 0.65
MIN_NEGATIVE_RECALL = 0.75
MIN_NEGATIVE_PRECISION = 0.85
MAX_UNSCORED = 0.01


def shared_dir() -> Path:
    configured = os.environ.get("TRIAGE_SHARED_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    path = shared_dir() / "data" / DATA_FILE
    if not path.is_file():
        pytest.fail(
            f"labelled data not found at {path}: set TRIAGE_SHARED_DIR to the shared/ "
            f"directory that holds data/{DATA_FILE}",
            pytrace=False,
        )
    return load_labelled_csv(path)


@pytest.fixture(scope="module")
def scored(examples: list[Example]) -> tuple[list[str], list[float | None], Metrics]:
    scorer = Scorer(brand_terms_from_names(sorted({e.brand for e in examples if e.brand})))
    scores = [scorer.score(e.text) for e in examples]
    gold = [e.label for e in examples]
    return gold, [s.compound for s in scores], Metrics.of(gold, [s.label for s in scores])


@pytest.fixture(scope="module")
def cross_validated(scored: tuple[list[str], list[float | None], Metrics]) -> CrossValidation:
    gold, compounds, _ = scored
    return cross_validate(compounds, gold, folds=5)


def check(metrics: Metrics, what: str) -> None:
    failures = []
    if metrics.macro_f1 < MIN_MACRO_F1:
        failures.append(f"macro-F1 {metrics.macro_f1:.3f} < {MIN_MACRO_F1}")
    if metrics.recall("negative") < MIN_NEGATIVE_RECALL:
        failures.append(f"negative recall {metrics.recall('negative'):.3f} < {MIN_NEGATIVE_RECALL}")
    if metrics.precision("negative") < MIN_NEGATIVE_PRECISION:
        failures.append(
            f"negative precision {metrics.precision('negative'):.3f} < {MIN_NEGATIVE_PRECISION}"
        )
    if metrics.unscored_rate >= MAX_UNSCORED:
        failures.append(f"unscored {metrics.unscored_rate:.2%} >= {MAX_UNSCORED:.0%}")
    assert not failures, f"{what}: " + "; ".join(failures) + "\n" + metrics.table()


def test_in_sample_with_default_thresholds(scored) -> None:
    _, _, metrics = scored
    check(metrics, "in-sample")


def test_five_fold_cross_validated(cross_validated: CrossValidation) -> None:
    check(cross_validated.metrics, "5-fold cross-validation")


def test_few_english_tweets_are_unscored(scored) -> None:
    _, compounds, _ = scored
    unscored = sum(c is None for c in compounds) / len(compounds)
    assert unscored < MAX_UNSCORED
