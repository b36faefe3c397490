"""The learned sentiment model: features, training, scoring, storage as data, and judging it
against the lexicon. Every label here is made up by the tests (``tests.synthetic_labels``)."""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import replace
from typing import Any

import pytest
from pytest import approx

from tests.synthetic_labels import brand_slang, plain_sentiment
from tui.core.learn import (
    FEATURES_VERSION,
    LEXICON_SCALE,
    MIN_LABELS,
    REGULARIZATION,
    Evaluation,
    Featurizer,
    Figures,
    LearnedModel,
    LearnedScorer,
    ModelFormatError,
    _Design,
    _folds,
    _lexicon_term,
    _prepare,
    _Trainer,
    choose_biases,
    learn,
    train,
)
from tui.core.sentiment import BOOSTERS, QUESTION_PRAISE, Scorer, complaint_patterns


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(brand_terms=["Parcelly"])


@pytest.fixture(scope="module")
def slang() -> list[tuple[str, str]]:
    return brand_slang()


@pytest.fixture(scope="module")
def trained(scorer: Scorer, slang: list[tuple[str, str]]) -> LearnedScorer:
    model = train(scorer, [t for t, _ in slang], [label for _, label in slang])
    return LearnedScorer(scorer, replace(model, version=3))


# --- features -------------------------------------------------------------------------------


def test_features_read_text_as_the_lexicon_does(scorer: Scorer) -> None:
    found = Featurizer(scorer).features(
        "@parcelly Parcelly was NOT late, 45 minutes early! https://t.co/x #GreatService"
    )
    assert found is not None
    names = set(found.names)
    assert "parcelly" not in names  # brand term and handle removed
    assert "~late" in names and "not ~late" in names  # negation marks what follows
    assert "0" in names and "minutes" in names  # numbers folded
    assert "great" in names and "service" in names  # hashtag split into its words
    assert "(shares a link)" in names and "t" not in names  # the URL itself is not read
    assert "!" in names
    assert 0 < found.positive < 3 and found.negative <= 0


def test_a_stretched_word_is_read_as_its_short_form(scorer: Scorer) -> None:
    found = Featurizer(scorer).features("sooooo slooooow today")
    assert found is not None
    assert {"soo", "sloow", "soo sloow"} <= set(found.names)
    assert Featurizer(scorer).features("soooo slooow today") == found
    # The complaint patterns read it shortened too: "stilllll no" is "still no".
    assert _sums(scorer, "stilllll no bag") == _sums(scorer, "still no bag")
    assert _sums(scorer, "cannnnot check in")[1] < 0


def test_negation_ends_at_the_clause(scorer: Scorer) -> None:
    found = Featurizer(scorer).features("not late, but rude")
    assert found is not None
    assert "~late" in found.names and "rude" in found.names and "~rude" not in found.names


def _sums(scorer: Scorer, text: str) -> tuple[float, float]:
    """The two lexicon features of ``text``, back on VADER's scale of summed word weights."""
    found = Featurizer(scorer).features(text)
    assert found is not None
    return _unsquash(found.positive / LEXICON_SCALE), _unsquash(found.negative / LEXICON_SCALE)


def _unsquash(value: float) -> float:
    return round(value * math.sqrt(15.0 / (1.0 - value * value)), 6)


def test_a_phrase_counts_once_and_is_negated_as_its_first_word_was(scorer: Scorer) -> None:
    lexicon = scorer.lexicon
    assert _sums(scorer, "thank you") == (lexicon["thank_you"], 0.0)  # not "thank" as well
    assert _sums(scorer, "not impressed") == (0.0, lexicon["not_impressed"])  # no praise
    # The negation inside a phrase is spent on it: "great" and "rude" are not negated.
    assert _sums(scorer, "no problem great flight") == approx(
        (lexicon["no_problem"] + lexicon["great"], 0)
    )
    assert _sums(scorer, "not impressed by rude staff") == approx(
        (0.0, lexicon["not_impressed"] + lexicon["rude"])
    )
    # A word that ends one phrase starts no other ("was told", not "told me").
    assert _sums(scorer, "was told me rude") == approx((0.0, lexicon["was_told"] + lexicon["rude"]))


def test_lexicon_weights_are_negated_as_vader_reads_negation(scorer: Scorer) -> None:
    rude = scorer.lexicon["rude"]
    assert _sums(scorer, "not rude") == (0.0, 0.0)  # a problem negated is not praise
    assert _sums(scorer, "never that rude at all") == (0.0, 0.0)
    assert _sums(scorer, "I did not need a rude reply") == (0.0, 0.0)  # the third word on
    assert _sums(scorer, "I did not need the extra rude reply") == (0.0, rude)  # the fourth
    assert _sums(scorer, "not cheap, rude") == (0.0, rude)  # the clause ended
    found = Featurizer(scorer).features("I did not need the extra rude reply")
    assert found is not None and "~rude" in found.names  # the names still mark the clause


def test_but_questions_and_boosters_weigh_as_in_the_lexicon_scorer(scorer: Scorer) -> None:
    lexicon = scorer.lexicon
    great, rude, good = lexicon["great"], lexicon["rude"], lexicon["good"]
    assert _sums(scorer, "great but rude") == (great * 0.5, rude * 1.5)
    assert _sums(scorer, "rude but great") == (great * 1.5, rude * 0.5)
    assert _sums(scorer, "great. But rude") == (great, rude * 1.5)  # within the sentence
    assert _sums(scorer, "great but rude but good") == approx(
        (great * 0.5 + good * 1.5, rude * 1.5)
    )
    assert _sums(scorer, "great crew\nbut rude") == (great, rude * 1.5)  # a line ends it too
    assert _sums(scorer, "any good seats left?") == (good * QUESTION_PRAISE, 0.0)
    assert _sums(scorer, "good!?") == (good * QUESTION_PRAISE, 0.0)  # the last mark asks
    assert _sums(scorer, "good?!") == (good, 0.0)
    assert _sums(scorer, "good? great") == approx((good * QUESTION_PRAISE + great, 0.0))
    assert _sums(scorer, "very rude") == (0.0, round(rude - BOOSTERS["very"], 6))


def test_complaint_patterns_beyond_bigrams_count_as_negative_words(scorer: Scorer) -> None:
    assert _sums(scorer, "my parcel is in Ohio") == (0.0, 0.0)
    why = [weight for name, weight in complaint_patterns("why is my parcel in ohio", {"why"})]
    assert _sums(scorer, "Why is my parcel in Ohio") == (0.0, why[0])
    # A duration of time lost is a bigram ("0 hours") the model reads for itself.
    assert complaint_patterns("waited 3 hours", {"waited", "3", "hours"})
    assert not complaint_patterns("waited 3 hours", {"waited", "3", "hours"}, beyond_bigrams=True)
    assert _sums(scorer, "3 hours") == (0.0, 0.0)


def test_emoji_are_tokens_with_their_lexicon_weight(scorer: Scorer) -> None:
    found = Featurizer(scorer).features("the box 🤡🤡")
    assert found is not None
    assert "🤡" in found.names and found.negative < 0


def test_text_the_lexicon_leaves_unscored_has_no_features(
    scorer: Scorer, trained: LearnedScorer
) -> None:
    french = "Mon colis est en retard de trois jours, personne ne répond au service client."
    assert scorer.score(french).label == "unscored"
    assert Featurizer(scorer).features(french) is None
    assert Featurizer(scorer).features("   ") is None
    score = trained.score(french)
    assert score.label == "unscored" and score.compound is None and score.model == "learned-3"


# --- training and scoring ---------------------------------------------------------------------


def test_model_learns_the_brands_own_words(trained: LearnedScorer, scorer: Scorer) -> None:
    unseen = {
        "the courier zorbled my parcel": "negative",
        "flimpy handling this week": "positive",
        "which depot keeps a parcel overnight": "neutral",
    }
    for text, label in unseen.items():
        assert scorer.score(text).label != label or label == "neutral"
        score = trained.score(text)
        assert score.label == label, (text, score)
        assert score.model == "learned-3"
    negative = trained.score("the courier zorbled my parcel")
    positive = trained.score("flimpy handling this week")
    assert negative.compound is not None and negative.compound < -0.3
    assert positive.compound is not None and positive.compound > 0.3


def test_reasons_name_the_words_that_moved_the_score(
    scorer: Scorer, slang: list[tuple[str, str]]
) -> None:
    pairs = slang + [(f"the {item} was not flimpy at all", "negative") for item in "abcdefgh"]
    model = train(scorer, [t for t, _ in pairs], [label for _, label in pairs])
    score = LearnedScorer(scorer, model).score("the courier zorbled my parcel, not flimpy")
    assert score.label == "negative"
    weights = {r.term: r.weight for r in score.reasons}
    assert weights["zorbled"] < 0
    assert weights["not: flimpy"] < 0  # a negated word is shown as such, and counts against
    # The lexicon's two features name the words in them, not "the lexicon's words".
    both = LearnedScorer(scorer, model).score("thank you, but why is the courier so rude")
    terms = {r.term for r in both.reasons}
    assert "lexicon: thank you" in terms, terms
    assert "lexicon: rude, rhetorical 'why'" in terms, terms
    many = Featurizer(scorer).features("third time on hold, charged twice, rude and broken")
    assert many is not None
    assert _lexicon_term(many.negative_words) == "lexicon: charged twice, rude, broken and 2 more"
    assert len(score.reasons) <= 8
    strengths = [abs(r.weight) for r in score.reasons]
    assert strengths == sorted(strengths, reverse=True)


def test_a_class_never_labelled_is_never_predicted(scorer: Scorer) -> None:
    pairs = [(t, label) for t, label in brand_slang() if label != "positive"]
    model = train(scorer, [t for t, _ in pairs], [label for _, label in pairs])
    assert model.classes == ("negative", "neutral")
    learned = LearnedScorer(scorer, model)
    for text in ("flimpy flimpy, love it", "great, wonderful, excellent", "the box zorbled"):
        assert learned.score(text).label in ("negative", "neutral")


def test_training_needs_two_classes(scorer: Scorer) -> None:
    with pytest.raises(ValueError, match="two classes"):
        train(scorer, ["a zorbled box", "zorbled again"], ["negative", "negative"])
    with pytest.raises(ValueError, match="unknown label"):
        train(scorer, ["a box", "another box"], ["negative", "angry"])


# --- the model as data ------------------------------------------------------------------------


def test_model_round_trips_as_compressed_json(trained: LearnedScorer, scorer: Scorer) -> None:
    data = trained.model.to_bytes()
    document = json.loads(zlib.decompress(data))  # data, not a pickle
    assert document["features_version"] == FEATURES_VERSION
    again = LearnedScorer(scorer, LearnedModel.from_bytes(data, version=3))
    for text in ("my parcel got zorbled", "so flimpy", "which hub opens sunday"):
        first, second = trained.score(text), again.score(text)
        assert first.label == second.label
        assert first.compound == pytest.approx(second.compound, abs=1e-3)


@pytest.mark.parametrize(
    "data",
    [
        b"not zlib at all",
        zlib.compress(b"[1, 2, 3]"),
        zlib.compress(json.dumps({"format": 9}).encode()),
        zlib.compress(json.dumps({"format": 1, "classes": ["negative"]}).encode()),
        zlib.compress(
            b'{"format": 1, "classes": [], "weights": {}, "intercept": [], '
            b'"lexicon_positive": [], "lexicon_negative": [], "features_version": 1e999}'
        ),
        zlib.compress(b"[" * 100_000 + b"]" * 100_000),
    ],
    ids=["not-zlib", "a-list", "format-9", "no-weights", "huge-number", "deep-nesting"],
)
def test_unreadable_model_is_refused(data: bytes) -> None:
    with pytest.raises(ModelFormatError):
        LearnedModel.from_bytes(data)


def test_model_of_another_featurizer_is_not_used(trained: LearnedScorer, scorer: Scorer) -> None:
    old = replace(trained.model, features_version=FEATURES_VERSION + 1)
    with pytest.raises(ModelFormatError, match="retrain"):
        LearnedScorer(scorer, old)


# --- judging it against the lexicon -------------------------------------------------------------


def test_learn_beats_the_lexicon_on_the_brands_words(
    scorer: Scorer, slang: list[tuple[str, str]]
) -> None:
    model, evaluation = learn(scorer, [t for t, _ in slang], [label for _, label in slang])
    assert evaluation.labels == len(slang) and evaluation.folds == 5
    assert evaluation.counts == {"negative": 40, "neutral": 40, "positive": 40}
    assert evaluation.learned.macro_f1 > 0.9
    assert evaluation.lexicon.macro_f1 < 0.7
    assert evaluation.beats_lexicon
    assert "learned model scores from now on" in evaluation.verdict()
    assert model.labels == len(slang)
    assert json.loads(json.dumps(evaluation.to_json())) == evaluation.to_json()


def test_lexicon_stays_in_charge_when_it_cannot_be_beaten(scorer: Scorer) -> None:
    pairs = plain_sentiment()
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    assert [scorer.score(t).label for t in texts] == labels  # the lexicon is perfect here
    _, evaluation = learn(scorer, texts, labels)
    assert evaluation.lexicon.macro_f1 == 1.0
    assert not evaluation.beats_lexicon
    verdict = evaluation.verdict()
    assert "lexicon stays in charge" in verdict and "does not beat" in verdict


def test_a_class_with_few_labels_keeps_the_lexicon_in_charge() -> None:
    good, poor = Figures(0.9, 0.9, 0.9, 0.9), Figures(0.5, 0.5, 0.5, 0.5)
    few = Evaluation(60, {"negative": 30, "neutral": 9, "positive": 21}, 5, good, poor)
    assert few.beats_lexicon and few.thin == ["neutral"] and not few.takes_over
    assert "the labels hold only 9 neutral (at least 10 of each" in few.verdict()
    enough = Evaluation(60, {"negative": 30, "neutral": 10, "positive": 20}, 5, good, poor)
    assert enough.takes_over and "scores from now on" in enough.verdict()
    two = Evaluation(60, {"negative": 58, "positive": 2}, 5, good, poor)
    assert "no neutral and only 2 positive" in two.verdict()
    assert "label 10 more neutral and 8 more positive and run" in two.verdict()


def test_learn_refuses_too_few_labels(scorer: Scorer) -> None:
    pairs = brand_slang(per_class=3)
    with pytest.raises(ValueError, match=f"at least {MIN_LABELS}"):
        learn(scorer, [t for t, _ in pairs], [label for _, label in pairs])


def test_class_shifts_trade_negative_recall_for_precision() -> None:
    # Held-out scores where the model calls too much negative: 10 true negatives at a
    # clear margin, 10 neutrals just on the negative side.
    scores = [(1.0, 0.0, -1.0)] * 10 + [(0.2, 0.0, -1.0)] * 10
    labels = ["negative"] * 10 + ["neutral"] * 10
    b_neg, b_neu, _ = choose_biases(scores, labels)
    assert b_neu == 0.0
    assert -1.0 < b_neg < -0.2  # moves the neutrals back without losing the negatives
    unshifted = choose_biases([(1.0, 0.0, -1.0)] * 4, ["negative"] * 4)
    assert unshifted == (0.0, 0.0, 0.0)  # nothing to gain: the smallest shift wins


def test_each_fold_is_fitted_from_scratch(scorer: Scorer) -> None:
    # A fit warm-started from the previous fold's weights keeps what that fold learned of the
    # texts now held out, and the cross-validated figures (which decide whether the model
    # scores) look better than the model is. A fit must not depend on what was fitted before.
    pairs = brand_slang()
    design = _Design(_prepare(scorer, [t for t, _ in pairs], [label for _, label in pairs]))
    half = len(design.scored) // 2
    first, second = design.scored[:half], design.scored[half:]
    trainer = _Trainer(design, REGULARIZATION)
    trainer.fit(first)
    after_another = trainer.fit(second)
    fresh = _Trainer(design, REGULARIZATION).fit(second)
    assert after_another.classes == fresh.classes
    assert after_another.coef.tolist() == fresh.coef.tolist()
    assert after_another.intercept.tolist() == fresh.intercept.tolist()


def _columns(model: LearnedModel) -> dict[str, tuple[float, ...]]:
    return {
        **model.weights,
        "(lexicon +)": model.lexicon_positive,
        "(lexicon -)": model.lexicon_negative,
    }


def _fit_columns(design: _Design, coef: Any) -> dict[str, tuple[float, ...]]:
    rows = coef.T.tolist()
    named = {name: tuple(rows[column]) for name, column in design.vocabulary.items()}
    return {**named, "(lexicon +)": tuple(rows[0]), "(lexicon -)": tuple(rows[1])}


def _same(model: LearnedModel, expected: dict[str, tuple[float, ...]]) -> bool:
    found = _columns(model)
    kept = {name for name, values in expected.items() if max(map(abs, values)) >= 1e-4}
    return set(found) == kept and all(
        found[name] == pytest.approx(expected[name], abs=1e-9) for name in kept
    )


def test_the_model_is_the_mean_of_the_fold_models(scorer: Scorer) -> None:
    # The class shifts are chosen on the fold models' held-out scores, so the model they are
    # added to is the mean of those models, not a sixth fit on every label (more confident
    # than any of them, which the shifts were not chosen for).
    pairs = brand_slang()
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    model, _ = learn(scorer, texts, labels, folds=4, seed=5)
    design = _Design(_prepare(scorer, texts, labels))
    trainer = _Trainer(design, REGULARIZATION)
    fits = []
    for held_out in _folds(labels, 4, 5):
        inside = set(held_out)
        fits.append(trainer.fit([i for i in design.scored if i not in inside]))
    mean = sum(fit.coef for fit in fits) / len(fits)
    assert _same(model, _fit_columns(design, mean))
    assert not _same(model, _fit_columns(design, trainer.fit(design.scored).coef))


def test_a_class_some_fold_lacks_gets_the_model_fitted_on_every_label(scorer: Scorer) -> None:
    # One positive label: the folds trained without it have two classes, the others three,
    # and their mean would be no model of the three; the model is fitted on every label.
    pairs = [(t, label) for t, label in brand_slang() if label != "positive"]
    pairs.append(("the parcel came flimpy today", "positive"))
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    model, _ = learn(scorer, texts, labels, folds=4, seed=5)
    assert model.classes == ("negative", "neutral", "positive")
    design = _Design(_prepare(scorer, texts, labels))
    whole = _Trainer(design, REGULARIZATION).fit(design.scored)
    assert _same(model, _fit_columns(design, whole.coef))
