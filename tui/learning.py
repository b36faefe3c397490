"""The learned sentiment model at work: training on the team's labels, deciding who scores,
re-scoring, and retraining in the collector lease holder.

* ``learn`` is ``triage learn``: it reads every label from the store (overrides, and tags that
  ``[learning.tags]`` maps to labels), cross-validates the learner against the lexicon on
  them, stores the model with its figures as the next version, and re-scores the open
  mentions (or all, or none) with whichever scorer is now in charge.
* ``ModelFollower`` gives ingest the scorer in charge: one cheap read of the store before each
  batch, and the model loaded only when the version changes (another process may train).
* ``Retrainer`` runs in the lease holder: after enough new label changes
  (``[learning] retrain_after``) it trains in a separate process, so neither the collector's
  loop nor an app's screen waits on it.

Who scores is decided by the store, for every process alike: the newest training's model if it
beat the lexicon, otherwise the lexicon. An operator's override is a separate column and always
wins over any model.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing import resource_tracker
from typing import Any, Protocol

from tui.config import Config
from tui.core import learn as learner
from tui.core.learn import MIN_LABELS, Evaluation, LearnedModel, LearnedScorer, ModelFormatError
from tui.core.model import Score
from tui.core.sentiment import Scorer
from tui.core.text import one_line
from tui.store import Store, StoreError
from tui.store.models import Labels, StoredModel

__all__ = [
    "RESCORE_BATCH",
    "RESCORE_CHOICES",
    "LearnOutcome",
    "ModelFollower",
    "Retrainer",
    "TextScorer",
    "TrainingFailed",
    "Unusable",
    "describe_models",
    "describe_outcome",
    "learn",
    "rescore",
    "scorer_in_charge",
    "unusable",
    "use_lexicon",
]

RESCORE_BATCH = 500
"""Mentions re-scored per write transaction."""
RESCORE_CHOICES = ("open", "all", "none")
RETRAIN_CHECK = 60.0
"""Seconds between the lease holder's checks for new labels (a cheap count of events)."""

Log = Callable[[str], None]


class TextScorer(Protocol):
    """The lexicon ``Scorer`` or a ``LearnedScorer``."""

    name: str

    def score(self, text: str) -> Score: ...


def _scorer_options(config: Config) -> dict[str, Any]:
    """What ``make_scorer`` builds the lexicon from, as plain values (for a worker process)."""
    return {
        "brand_terms": tuple(config.brand_terms),
        "lexicon": dict(config.sentiment.lexicon),
        "negative_threshold": config.sentiment.negative_threshold,
        "positive_threshold": config.sentiment.positive_threshold,
    }


def _lexicon_scorer(options: Mapping[str, Any]) -> Scorer:
    thresholds = {
        key: options[key]
        for key in ("negative_threshold", "positive_threshold")
        if options.get(key) is not None
    }
    return Scorer(options["brand_terms"], options["lexicon"], **thresholds)


Trained = tuple[bytes, dict[str, Any], list[str]]
"""What a training gives back: the model's bytes, its figures, and the warnings it raised."""


def train_job(
    options: Mapping[str, Any], texts: Sequence[str], labels: Sequence[str], folds: int
) -> Trained:
    """Cross-validate and train (in whatever process runs it, on the calling thread: the
    warnings a library raises, such as a solver that did not converge, are caught for the
    whole process while it trains, so nothing else may run meanwhile). They are returned,
    each once, one line each, for the caller to show: printed as Python prints them they
    would break an app's screen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, evaluation = learner.learn(_lexicon_scorer(options), texts, labels, folds=folds)
    said = (f"{w.category.__name__}: {one_line(str(w.message), 300)}" for w in caught)
    return model.to_bytes(), evaluation.to_json(), list(dict.fromkeys(said))


@dataclass(frozen=True, slots=True)
class LearnOutcome:
    """What one ``learn`` did."""

    labels: Labels
    evaluation: Evaluation | None
    """None when it did not train (``skipped`` says why)."""
    stored: StoredModel | None
    in_charge: str
    """The name of the scorer in charge afterwards (``lexicon`` or ``learned-N``)."""
    rescored: int = 0
    changed: int = 0
    """Re-scored mentions whose machine label changed."""
    seconds: float = 0.0
    """Time spent training (cross-validation included)."""
    skipped: str | None = None


async def _train(
    config: Config,
    labels: Labels,
    folds: int,
    *,
    in_process: bool,
) -> Trained:
    texts = [e.text for e in labels.examples]
    gold = [e.label for e in labels.examples]
    options = _scorer_options(config)
    if in_process:  # (``triage learn``: the command has nothing else to do meanwhile)
        return train_job(options, texts, gold, folds)
    return await _in_child_process(options, texts, gold, folds)


class TrainingFailed(RuntimeError):
    """The training process failed or stopped; the message says how."""


def _child(connection: Any, args: tuple[Any, ...]) -> None:
    """Runs in the training process: train, send the result (or the error) back.

    The process inherits the terminal as its stdout and stderr, and an app may be drawing on
    it: a library's warning printed there would break the screen. Everything it has to say
    goes back through ``connection``."""
    with open(os.devnull, "w") as quiet:
        os.dup2(quiet.fileno(), 1)
        os.dup2(quiet.fileno(), 2)
    try:
        connection.send(("ok", train_job(*args)))
    except BaseException as error:  # everything goes back to the parent as a message
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def _receive(connection: Any) -> tuple[str, Any]:
    try:
        return connection.recv()  # type: ignore[no-any-return]
    except EOFError:
        return ("error", "the training process ended without a result")


async def _in_child_process(
    options: Mapping[str, Any], texts: Sequence[str], labels: Sequence[str], folds: int
) -> Trained:
    """``train_job`` in a fresh interpreter (spawn, not fork: this process has threads), so
    training holds neither this process's GIL nor its event loop; cancelling ends it."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sending, (dict(options), list(texts), list(labels), folds)),
        name="triage-learn",
        daemon=True,
    )
    # A Textual app replaces sys.stderr with a capture whose fileno() is -1, and
    # multiprocessing hands stderr's file number to the resource tracker it starts with the
    # first process ("bad value(s) in fds_to_keep"). Started while stderr has no file number,
    # it is given none (it still inherits the real descriptor 2); once it runs, starting a
    # process does not touch stderr, so the swap lasts only as long as the tracker's start.
    with contextlib.redirect_stderr(io.StringIO()):
        resource_tracker.ensure_running()
    process.start()
    sending.close()
    try:
        kind, value = await asyncio.to_thread(_receive, receiving)
    except asyncio.CancelledError:
        process.terminate()
        raise
    finally:
        receiving.close()
        await asyncio.to_thread(process.join, 5)
    if kind != "ok":
        ended = process.exitcode
        raise TrainingFailed(f"{value} (exit code {ended})" if ended else str(value))
    data, figures, warned = value
    return data, figures, warned


def too_few(labels: Labels, config: Config) -> str | None:
    """Why these labels cannot be trained on, or None if they can."""
    least = max(MIN_LABELS, config.learning.min_labels)
    classes = {e.label for e in labels.examples}
    tags = ", ".join(f"{t} = {label}" for t, label in config.learning.tags.items()) or "none"
    if len(labels.examples) < least:
        key = one_line(config.keys.get("override_label", "o"))
        return (
            f"{len(labels.examples)} labelled mentions; at least {least} are needed: correct "
            f"scores with the label key ({key}) or tag mentions (tags counted as labels: {tags})"
        )
    if len(classes) < 2:
        return (
            f"every label is {next(iter(classes))}; the model needs labels of at least two "
            "classes to learn from"
        )
    return None


async def learn(
    store: Store,
    config: Config,
    *,
    rescore_scope: str = "open",
    folds: int | None = None,
    in_process: bool = False,
    log: Log | None = None,
) -> LearnOutcome:
    """Train on every label in the store, store the model, and re-score (``open``, ``all`` or
    ``none``) with whichever scorer is in charge afterwards. Never raises for too few labels:
    the outcome's ``skipped`` says why, and nothing is stored. ``in_process`` trains on this
    thread, holding up the event loop (what a command wants); otherwise training runs in a
    process of its own and neither the loop nor the screen waits."""
    if rescore_scope not in RESCORE_CHOICES:
        raise ValueError(f"rescore must be one of {', '.join(RESCORE_CHOICES)}")
    folds = folds or config.learning.folds
    labels = await store.labelled_mentions(config.learning.tags)
    reason = too_few(labels, config)
    lexicon = _lexicon_scorer(_scorer_options(config))
    if reason is not None:
        current = await scorer_in_charge(store, lexicon)
        return LearnOutcome(labels, None, None, current.name, skipped=reason)
    if log:
        log(f"learning: training on {len(labels.examples)} labels ({folds}-fold cross-validation)")
    started = time.perf_counter()
    data, figures, warned = await _train(config, labels, folds, in_process=in_process)
    seconds = time.perf_counter() - started
    if log:
        for warning in warned:
            log(f"learning: warning: {warning}")
    evaluation = Evaluation.from_json(figures)
    stored = await store.save_model(
        data,
        figures=figures,
        labels=len(labels.examples),
        last_event=labels.last_event,
        in_charge=evaluation.takes_over,
    )
    scorer = await scorer_in_charge(store, lexicon)
    rescored = changed = 0
    if rescore_scope != "none":
        rescored, changed = await rescore(store, scorer, open_only=rescore_scope == "open")
    return LearnOutcome(labels, evaluation, stored, scorer.name, rescored, changed, seconds=seconds)


async def use_lexicon(store: Store, config: Config, *, rescore_scope: str = "open") -> int:
    """Hand scoring back to the lexicon (until the next training) and re-score; returns how
    many mentions were re-scored."""
    labels = await store.labelled_mentions(config.learning.tags)
    await store.save_model(
        None,
        figures={},
        labels=len(labels.examples),
        last_event=labels.last_event,
        in_charge=False,
    )
    if rescore_scope == "none":
        return 0
    scorer = _lexicon_scorer(_scorer_options(config))
    rescored, _ = await rescore(store, scorer, open_only=rescore_scope == "open")
    return rescored


async def scorer_in_charge(store: Store, lexicon: Scorer) -> TextScorer:
    """The learned model in charge, reading text as ``lexicon`` does; or ``lexicon`` itself
    when no model beat it (or the stored one cannot be read by this version)."""
    version = await store.in_charge_version()
    if version is None:
        return lexicon
    data = await store.model_data(version)
    if data is None:
        return lexicon
    try:
        model = LearnedModel.from_bytes(data, version)
        return await asyncio.to_thread(LearnedScorer, lexicon, model)
    except ModelFormatError:
        return lexicon


async def rescore(
    store: Store, scorer: TextScorer, *, open_only: bool, log: Log | None = None
) -> tuple[int, int]:
    """Score stored mentions again with ``scorer``, in id order and batches of
    ``RESCORE_BATCH`` (each its own short transaction): (re-scored, changed label)."""
    after = 0
    done = changed = 0
    while True:
        batch = await store.texts_after(after, RESCORE_BATCH, open_only=open_only)
        if not batch:
            return done, changed
        scored = await asyncio.to_thread(_score_all, scorer, batch)
        changed += await store.set_scores(scored)
        done += len(batch)
        after = batch[-1][0]
        if log and done % (RESCORE_BATCH * 20) == 0:
            log(f"re-scored {done} mentions")


def _score_all(scorer: TextScorer, batch: Sequence[tuple[int, str]]) -> list[tuple[int, Score]]:
    return [(mention_id, scorer.score(text)) for mention_id, text in batch]


class ModelFollower:
    """The scorer in charge for ingest: checks the store's model version before each batch
    (one cheap read) and loads a model only when the version changed."""

    def __init__(self, lexicon: Scorer) -> None:
        self.lexicon = lexicon
        self._version: int | None = None
        self._scorer: TextScorer = lexicon

    async def scorer(self, store: Store) -> TextScorer:
        try:
            version = await store.in_charge_version()
        except StoreError:
            return self._scorer  # a database from before learned models, or a busy moment
        if version != self._version:
            self._scorer = await scorer_in_charge(store, self.lexicon)
            self._version = version
        return self._scorer


@dataclass(frozen=True, slots=True)
class Unusable:
    """Why this program cannot score with a stored model."""

    why: str
    newer: bool = False
    """Made by a newer version of the program (which retrains it), not an older one."""


async def unusable(store: Store, model: StoredModel) -> Unusable | None:
    """Why this program cannot score with ``model``: made by another version of the program
    (one that read text differently), or unreadable; None when it can."""
    name = f"learned-{model.version}"
    data = await store.model_data(model.version)
    if data is None:
        return Unusable(f"{name} has no model stored")
    try:
        learned = LearnedModel.from_bytes(data, model.version)
    except ModelFormatError as error:
        return Unusable(f"{name} cannot be read ({error})")
    if learned.features_version < learner.FEATURES_VERSION:
        return Unusable(f"{name} was made by an older version of the program and no longer scores")
    if learned.features_version > learner.FEATURES_VERSION:
        return Unusable(f"{name} was made by a newer version of the program", newer=True)
    return None


class Retrainer:
    """Retrains in the collector lease holder after ``[learning] retrain_after`` new label
    changes. ``nudge`` after a batch is stored; ``run`` checks on nudges and every
    ``RETRAIN_CHECK`` seconds; ``check`` is one check (``collect --once``)."""

    def __init__(self, config: Config, store: Store, log: Log) -> None:
        self.config = config
        self.store = store
        self.log = log
        self._wake = asyncio.Event()
        self._waiting_for: int | None = None
        """After a check found too few labels: the event id up to which it looked."""
        self._read: int | None = None
        """The version of the model in charge found to score, or retrained for already."""

    @property
    def enabled(self) -> bool:
        return self.config.learning.retrain_after > 0

    def nudge(self) -> None:
        self._wake.set()

    async def check(self) -> LearnOutcome | None:
        """Train if enough labels changed since the last training; the outcome, or None."""
        if not self.enabled:
            return None
        latest = await self.store.latest_model()
        since = latest.last_event if latest else 0
        if self._waiting_for is not None:
            since = max(since, self._waiting_for)
        tags = list(self.config.learning.tags)
        fresh = await self.store.label_events_since(since, tags)
        outdated = await self._outdated(latest)
        if fresh < self.config.learning.retrain_after and outdated is None:
            return None
        if outdated is not None:
            self.log(f"learning: {outdated}; retraining on the labels there are")
        outcome = await learn(self.store, self.config, in_process=False, log=self.log)
        if latest is not None:
            self._read = latest.version  # (had learn raised, the next check would try again)
        if outcome.skipped:
            self._waiting_for = outcome.labels.last_event
            self.log(f"learning: not retrained: {outcome.skipped}")
            return outcome
        self._waiting_for = None
        assert outcome.evaluation is not None and outcome.stored is not None
        self.log(
            f"learning: trained {outcome.stored.name} on {outcome.evaluation.labels} labels in "
            f"{outcome.seconds:.1f}s: learned {outcome.evaluation.learned.describe()}; "
            f"lexicon {outcome.evaluation.lexicon.describe()}; {outcome.in_charge} scores; "
            f"re-scored {outcome.rescored} open mentions ({outcome.changed} changed label)"
        )
        return outcome

    async def _outdated(self, latest: StoredModel | None) -> str | None:
        """Why the model in charge cannot score and is to be retrained now, whatever the
        number of new labels: it was made by an older version of the program (an upgrade
        changed how text is read), or cannot be read. None when it scores, when a newer
        version made it (that version retrains), or once it was retrained for."""
        if latest is None or not latest.in_charge or latest.version == self._read:
            return None
        problem = await unusable(self.store, latest)
        if problem is None or problem.newer:
            self._read = latest.version
            return None
        return problem.why

    async def run(self, halt: asyncio.Event) -> None:
        """Until ``halt``: check when nudged or every ``RETRAIN_CHECK`` seconds."""
        while not halt.is_set():
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(halt.wait())
            try:
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=RETRAIN_CHECK,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
                stopper.cancel()
            if halt.is_set():
                return
            self._wake.clear()
            checking = asyncio.ensure_future(self.check())
            stopper = asyncio.ensure_future(halt.wait())
            try:
                await asyncio.wait({checking, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopper.cancel()
            if not checking.done():
                checking.cancel()  # stopping: a training under way is ended, nothing stored
                await asyncio.wait({checking})
                return
            error = checking.exception()
            if isinstance(error, StoreError | ValueError | TrainingFailed | OSError):
                self.log(f"learning: retraining failed: {error}")
            elif error is not None:
                raise error


# -- reports ----------------------------------------------------------------------------------


def _figures_table(evaluation: Evaluation) -> list[str]:
    rows = [("learned model", evaluation.learned), ("lexicon", evaluation.lexicon)]
    lines = [f"  {'':16}{'macro-F1':>10}{'neg precision':>15}{'neg recall':>12}{'accuracy':>10}"]
    for name, figures in rows:
        lines.append(
            f"  {name:16}{figures.macro_f1:>10.3f}{figures.negative_precision:>15.3f}"
            f"{figures.negative_recall:>12.3f}{figures.accuracy:>10.3f}"
        )
    return lines


def describe_outcome(outcome: LearnOutcome, config: Config, rescore_scope: str) -> str:
    """What ``triage learn`` prints: the labels, the figures side by side, the verdict."""
    labels = outcome.labels
    counts = {label: 0 for label in ("negative", "neutral", "positive")}
    for example in labels.examples:
        counts[example.label] += 1
    tags = ", ".join(f"{t} = {label}" for t, label in config.learning.tags.items()) or "none"
    lines = [
        f"labels: {len(labels.examples)} ("
        + ", ".join(f"{label} {n}" for label, n in counts.items())
        + f"): {labels.from_operator} operator overrides, {labels.from_tags} from tags"
        f" ({tags})"
        + (f"; {labels.conflicts} left out (their tags disagree)" if labels.conflicts else "")
    ]
    if outcome.skipped or outcome.evaluation is None or outcome.stored is None:
        lines.append(f"not trained: {outcome.skipped}")
        lines.append(f"{outcome.in_charge} scores, as before")
        return "\n".join(lines)
    evaluation = outcome.evaluation
    lines.append(f"{evaluation.folds}-fold cross-validation on these labels:")
    lines.extend(_figures_table(evaluation))
    stamp = outcome.stored.trained_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines.append(
        f"stored as {outcome.stored.name} ({stamp}, by {one_line(outcome.stored.trained_by, 60)}, "
        f"trained in {outcome.seconds:.1f}s)"
    )
    lines.append(evaluation.verdict())
    if rescore_scope == "none":
        lines.append("nothing re-scored (--rescore none)")
    else:
        what = "open mentions" if rescore_scope == "open" else "mentions"
        lines.append(
            f"re-scored {outcome.rescored} {what} with {outcome.in_charge} "
            f"({outcome.changed} changed label)"
        )
    return "\n".join(lines)


def describe_models(
    models: Sequence[StoredModel],
    in_charge: str,
    problem: Unusable | None = None,
    *,
    retrains: bool = True,
) -> str:
    """What ``triage learn --list`` prints: every training, newest first; ``problem``: why
    the newest model, which beat the lexicon, does not score here; ``retrains``: whether the
    lease holder retrains on its own (``retrain_after`` above 0)."""
    if not models:
        return "no model trained yet; the lexicon scores (run `triage learn`)"
    names = [model.name if model.has_model else f"({LEXICON_ROW})" for model in models]
    width = max(len("model"), *map(len, names)) + 2  # a column of names, never run together
    lines = [
        f"{'model':<{width}}{'trained (UTC)':<21}{'by':<12}{'labels':>7}{'learned F1':>12}"
        f"{'lexicon F1':>12}  used"
    ]
    for index, (model, name) in enumerate(zip(models, names, strict=True)):
        learned = model.figures.get("learned") or {}
        lexicon = model.figures.get("lexicon") or {}
        lines.append(
            f"{name:<{width}}{model.trained_at.strftime('%Y-%m-%d %H:%M:%S'):<21}"
            f"{one_line(model.trained_by, 40)[:11]:<12}{model.labels:>7}"
            f"{_number(learned.get('macro_f1')):>12}{_number(lexicon.get('macro_f1')):>12}  "
            f"{_used(model, newest=index == 0, in_charge=in_charge)}"
        )
    lines.append(f"{in_charge} scores now")
    if problem is not None and problem.newer:
        lines.append(f"({problem.why}, which this one cannot score with: the lexicon scores here)")
    elif problem is not None and retrains:
        lines.append(
            f"({problem.why}: the collector lease holder retrains within a minute, or run "
            "`triage learn`)"
        )
    elif problem is not None:
        lines.append(f"({problem.why}: run `triage learn`; [learning] retrain_after = 0)")
    return "\n".join(lines)


def _used(model: StoredModel, *, newest: bool, in_charge: str) -> str:
    """The list's last column: only the newest training can be in charge."""
    if newest and model.name == in_charge:
        return "in charge"
    if model.in_charge:
        return "beat lexicon"
    try:
        thin = Evaluation.from_json(model.figures).thin if model.has_model else []
    except (KeyError, TypeError, ValueError):
        thin = []
    return f"too few {', '.join(thin)}" if thin else "-"


LEXICON_ROW = "to lexicon"


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"
