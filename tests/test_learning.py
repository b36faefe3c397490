"""The learned model at work, through a real SQLite store: labels gathered from overrides and
mapped tags, ``triage learn`` (stored, versioned, in charge only while it beats the lexicon),
re-scoring, ingest with the model in charge, the lease holder's retraining, import and export
of labels. Every label is made up by the tests or written through the store."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.geometry import Region

from tests.synthetic_labels import brand_slang, plain_sentiment
from tests.ui.conftest import wait_until
from tui import learning
from tui.cli import main
from tui.collector import Collector
from tui.config import Config, LearningConfig, SourceConfig, load_config
from tui.core import learn as learner
from tui.core.model import IncomingMention, Score
from tui.exchange import export, import_file
from tui.ingest import Ingestor, make_scorer
from tui.learning import (
    ModelFollower,
    Retrainer,
    TrainingFailed,
    _in_child_process,
    _scorer_options,
    describe_models,
    learn,
    rescore,
    scorer_in_charge,
    unusable,
    use_lexicon,
)
from tui.sources.base import Http, PollResult, Source
from tui.store import Store, StoreError
from tui.ui.app import TriageApp
from tui.ui.widgets.detail import DetailBody

CONFIG = Config(learning=LearningConfig(min_labels=30))


class Log(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


async def add(store: Store, texts: Sequence[str], source: str = "test") -> list[int]:
    """Store texts through ingest (scored by whatever is in charge); their ids in order."""
    ingestor = Ingestor(store, make_scorer(CONFIG))
    mentions = [
        IncomingMention(source, f"{source}-{i}", text) for i, text in enumerate(texts, start=1)
    ]
    ids = await ingestor.ingest(mentions)
    assert len(ids) == len(texts)
    return ids


async def labelled(store: Store, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Store the texts and give each its label as an operator override."""
    ids = await add(store, [t for t, _ in pairs], source="labelled")
    for mention_id, (_, label) in zip(ids, pairs, strict=True):
        await store.set_operator_label(mention_id, label)  # type: ignore[arg-type]
    return ids


async def column(store: Store, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return [r[0] for r in await store._all(sql, params)]


# --- labels -------------------------------------------------------------------------------------


async def test_labels_are_overrides_and_mapped_tags(store: Store) -> None:
    ids = await add(store, [f"text {n}" for n in range(6)])
    await store.set_operator_label(ids[0], "negative")
    await store.set_operator_label(ids[1], "unscored")  # not a sentiment: left out
    await store.add_tag(ids[2], "complaint")
    await store.add_tag(ids[3], "praise")
    await store.add_tag(ids[3], "billing")  # unmapped tags do not matter
    await store.add_tag(ids[4], "complaint")
    await store.add_tag(ids[4], "praise")  # tags disagree: left out
    await store.add_tag(ids[5], "praise")
    await store.set_operator_label(ids[5], "neutral")  # the override wins over the tag
    found = await store.labelled_mentions({"complaint": "negative", "praise": "positive"})
    by_id = {e.mention_id: (e.label, e.origin) for e in found.examples}
    assert by_id == {
        ids[0]: ("negative", "operator"),
        ids[2]: ("negative", "tag:complaint"),
        ids[3]: ("positive", "tag:praise"),
        ids[5]: ("neutral", "operator"),
    }
    assert found.conflicts == 1 and found.from_operator == 2 and found.from_tags == 2
    assert found.last_event == max(await column(store, "SELECT id FROM events"))
    events = await store.label_events_since(0, ["complaint", "praise"])
    assert events == 8  # 3 overrides + 5 mapped tags; the billing tag is not counted


# --- triage learn, as a function --------------------------------------------------------------


async def test_learn_stores_a_versioned_model_that_takes_over(store: Store) -> None:
    ids = await labelled(store, brand_slang())
    open_ids = await add(store, ["my locker got zorbled", "flimpy pickup today"], "stream")
    done = (await add(store, ["another zorbled return"], "old"))[0]
    await store.set_status(done, "done")

    outcome = await learn(store, CONFIG, in_process=True)

    assert outcome.skipped is None and outcome.stored is not None
    assert outcome.stored.version == 1 and outcome.stored.name == "learned-1"
    assert outcome.stored.in_charge and outcome.in_charge == "learned-1"
    assert outcome.evaluation is not None and outcome.evaluation.beats_lexicon
    assert outcome.seconds > 0
    (row,) = await store.models()
    assert row.labels == len(ids) and row.trained_by == "tester"
    assert row.figures["learned"]["macro_f1"] > row.figures["lexicon"]["macro_f1"]
    # Open mentions are re-scored with the model; a done one keeps its lexicon score.
    assert outcome.rescored == len(ids) + 2
    zorbled = await store.mention(open_ids[0])
    flimpy = await store.mention(open_ids[1])
    old = await store.mention(done)
    assert zorbled is not None and flimpy is not None and old is not None
    assert (zorbled.score.label, zorbled.score.model) == ("negative", "learned-1")
    assert (flimpy.score.label, flimpy.score.model) == ("positive", "learned-1")
    assert "zorbled" in {r.term for r in zorbled.score.reasons}
    assert old.score.model == "lexicon"
    # The operator's labels are untouched, and still win.
    first = await store.mention(ids[0])
    assert first is not None and first.operator_label == brand_slang()[0][1]
    learn_events = [e for e in await store.events() if e.action == "learn"]
    assert len(learn_events) == 1 and json.loads(learn_events[0].detail)["model"] == "learned-1"

    again = await learn(store, CONFIG, in_process=True, rescore_scope="all")
    assert again.stored is not None and again.stored.version == 2
    old = await store.mention(done)
    assert old is not None and old.score.model == "learned-2"


async def test_a_model_that_does_not_beat_the_lexicon_is_kept_out(store: Store) -> None:
    await labelled(store, plain_sentiment())
    outcome = await learn(store, CONFIG, in_process=True)
    assert outcome.stored is not None and not outcome.stored.in_charge
    assert outcome.evaluation is not None and not outcome.evaluation.beats_lexicon
    assert outcome.in_charge == "lexicon"
    assert await store.in_charge_version() is None
    assert (await scorer_in_charge(store, make_scorer(CONFIG))).name == "lexicon"
    (row,) = await store.models()
    assert row.has_model and not row.in_charge  # stored with its figures all the same


async def test_too_few_labels_trains_nothing_and_says_why(store: Store) -> None:
    await labelled(store, brand_slang(per_class=4))
    outcome = await learn(store, CONFIG, in_process=True)
    assert outcome.stored is None and outcome.evaluation is None
    assert outcome.skipped is not None and "at least 30" in outcome.skipped
    assert "the label key (o)" in outcome.skipped
    assert await store.models() == []


async def test_labels_without_a_class_keep_the_lexicon_in_charge(store: Store) -> None:
    # Tags alone (complaint, praise) give no neutral labels: a model trained on them beats
    # the lexicon on those labels, and would call every question negative or positive.
    pairs = [(t, label) for t, label in brand_slang() if label != "neutral"]
    ids = await add(store, [t for t, _ in pairs], source="tagged")
    for mention_id, (_, label) in zip(ids, pairs, strict=True):
        await store.add_tag(mention_id, "complaint" if label == "negative" else "praise")
    question = (await add(store, ["does the depot open at nine"], "stream"))[0]
    outcome = await learn(store, CONFIG, in_process=True)
    assert outcome.evaluation is not None and outcome.evaluation.beats_lexicon
    assert outcome.evaluation.thin == ["neutral"]
    assert outcome.stored is not None and not outcome.stored.in_charge
    assert outcome.in_charge == "lexicon" and await store.in_charge_version() is None
    assert "the labels hold no neutral (at least 10 of each" in outcome.evaluation.verdict()
    listing = describe_models(await store.models(), "lexicon")
    assert listing.splitlines()[1].endswith("  too few neutral")
    mention = await store.mention(question)
    assert mention is not None and mention.score.model == "lexicon"
    assert mention.score.label == "neutral"


async def test_handing_back_to_the_lexicon(store: Store) -> None:
    await labelled(store, brand_slang())
    await learn(store, CONFIG, in_process=True)
    assert await store.in_charge_version() == 1
    rescored = await use_lexicon(store, CONFIG, rescore_scope="all")
    assert rescored == 120
    assert await store.in_charge_version() is None
    models = await store.models()
    assert [m.name for m in models] == ["lexicon", "learned-1"]
    assert set(await column(store, "SELECT model FROM mention_models")) == set()


async def test_stored_models_are_append_only(store: Store) -> None:
    await labelled(store, brand_slang())
    await learn(store, CONFIG, in_process=True)
    with pytest.raises(Exception, match="append-only"):
        await store._db.execute("UPDATE sentiment_models SET in_charge = 0")
    with pytest.raises(Exception, match="append-only"):
        await store._db.execute("DELETE FROM sentiment_models")


# --- who scores arriving mentions ---------------------------------------------------------------


async def test_ingest_follows_the_model_another_process_trained(db_path: Path) -> None:
    collector_side = await Store.open(db_path, "collector")
    operator_side = await Store.open(db_path, "ana")
    try:
        ingestor = Ingestor(collector_side, make_scorer(CONFIG))
        await ingestor.ingest([IncomingMention("s", "1", "the van zorbled my box")])
        await labelled(operator_side, brand_slang())
        await learn(operator_side, CONFIG, in_process=True, rescore_scope="none")
        (new_id,) = await ingestor.ingest([IncomingMention("s", "2", "the van zorbled my box")])
        mention = await collector_side.mention(new_id)
        assert mention is not None
        assert (mention.score.label, mention.score.model) == ("negative", "learned-1")
        assert await column(collector_side, "SELECT model FROM mention_models") == ["learned-1"]
        # An edit of that post is scored again, by whoever is in charge then.
        await use_lexicon(operator_side, CONFIG, rescore_scope="none")
        await ingestor.ingest([IncomingMention("s", "2", "the van zorbled my box twice")])
        mention = await collector_side.mention(new_id)
        assert mention is not None and mention.score.model == "lexicon"
        assert await column(collector_side, "SELECT model FROM mention_models") == []
    finally:
        await collector_side.close()
        await operator_side.close()


async def test_follower_reads_the_version_once_per_batch(store: Store) -> None:
    follower = ModelFollower(make_scorer(CONFIG))
    first = await follower.scorer(store)
    assert first.name == "lexicon"
    await labelled(store, brand_slang())
    await learn(store, CONFIG, in_process=True, rescore_scope="none")
    learned = await follower.scorer(store)
    assert learned.name == "learned-1"
    assert await follower.scorer(store) is learned  # same version: not loaded again


async def test_rescore_walks_every_mention_in_batches(store: Store) -> None:
    ids = await add(store, [f"the box {n} arrived" for n in range(1203)])
    done, changed = await rescore(store, make_scorer(CONFIG), open_only=False)
    assert done == len(ids) and changed == 0


# --- the lease holder retrains --------------------------------------------------------------------


class StaticSource(Source):
    """A source that returns the same mentions on every poll (no network)."""

    kind = "jsonl"

    def __init__(self, mentions: Sequence[IncomingMention]) -> None:
        super().__init__(SourceConfig("jsonl", "static", ""))
        self.mentions = list(mentions)

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        return PollResult(self.mentions, cursor="done")

    async def check(self, http: Http) -> str:
        return "ok"


async def test_retrainer_waits_for_enough_new_labels(store: Store) -> None:
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=50))
    log = Log()
    retrainer = Retrainer(config, store, log)
    ids = await labelled(store, brand_slang(per_class=10))  # 30 label events
    assert await retrainer.check() is None  # fewer than 50 new
    pairs = brand_slang(per_class=10, seed=99)
    for mention_id, (_, label) in zip(ids[:20], pairs, strict=False):
        await store.set_operator_label(mention_id, label)  # type: ignore[arg-type]
    outcome = await retrainer.check()
    assert outcome is not None and outcome.stored is not None
    assert any("learning: trained learned-1" in line for line in log)
    assert await retrainer.check() is None  # nothing new since


async def _store_model(store: Store, data: bytes, pairs: Sequence[tuple[str, str]]) -> None:
    """Store ``data`` as the model in charge, trained up to the latest event (no new labels)."""
    last = (await column(store, "SELECT max(id) FROM events"))[0]
    await store.save_model(data, figures={}, labels=len(pairs), last_event=last, in_charge=True)


async def test_a_model_an_upgrade_cannot_read_is_retrained_at_once(store: Store) -> None:
    # A model made by an older featurizer stops scoring when the program is upgraded; the
    # lease holder retrains on the labels there are, without waiting for new ones.
    pairs = brand_slang(per_class=20)
    await labelled(store, pairs)
    model = learner.train(make_scorer(CONFIG), [t for t, _ in pairs], [label for _, label in pairs])
    old = replace(model, features_version=learner.FEATURES_VERSION - 1)
    await _store_model(store, old.to_bytes(), pairs)
    lexicon = make_scorer(CONFIG)
    assert await scorer_in_charge(store, lexicon) is lexicon  # learned-1 cannot score
    (stored,) = await store.models()
    listing = describe_models([stored], "lexicon", await unusable(store, stored))
    assert listing.splitlines()[-1] == (
        "(learned-1 was made by an older version of the program and no longer scores: the "
        "collector lease holder retrains within a minute, or run `triage learn`)"
    )
    off = describe_models([stored], "lexicon", await unusable(store, stored), retrains=False)
    assert off.splitlines()[-1].endswith(": run `triage learn`; [learning] retrain_after = 0)")
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=500))
    log = Log()
    retrainer = Retrainer(config, store, log)
    outcome = await retrainer.check()
    assert outcome is not None and outcome.stored is not None and outcome.stored.version == 2
    assert any("learned-1 was made by an older version of the program" in line for line in log)
    assert await retrainer.check() is None  # learned-2 reads as this program does
    assert await Retrainer(config, store, log).check() is None


async def test_a_failed_retraining_of_an_outdated_model_is_tried_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = brand_slang(per_class=20)
    await labelled(store, pairs)
    model = learner.train(make_scorer(CONFIG), [t for t, _ in pairs], [label for _, label in pairs])
    await _store_model(store, replace(model, features_version=1).to_bytes(), pairs)
    real = learning.learn
    calls: list[int] = []

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise TrainingFailed("the training process ended without a result")
        return await real(*args, **kwargs)

    monkeypatch.setattr(learning, "learn", fails_once)
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=500))
    retrainer = Retrainer(config, store, Log())
    with pytest.raises(TrainingFailed):
        await retrainer.check()
    outcome = await retrainer.check()  # the next check tries again
    assert outcome is not None and outcome.stored is not None and outcome.stored.version == 2
    assert len(calls) == 2


async def test_an_unreadable_model_is_retrained_and_a_newer_programs_is_left_alone(
    store: Store,
) -> None:
    pairs = brand_slang(per_class=20)
    await labelled(store, pairs)
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=500))
    log = Log()
    await _store_model(store, b"garbage", pairs)
    outcome = await Retrainer(config, store, log).check()
    assert outcome is not None and outcome.stored is not None and outcome.stored.version == 2
    assert any("learned-1 cannot be read (stored model cannot be read" in line for line in log)
    # A model made by a newer version of the program (sharing the database): this one cannot
    # score with it, and leaves the retraining to that one instead of fighting over it.
    model = learner.train(make_scorer(CONFIG), [t for t, _ in pairs], [label for _, label in pairs])
    newer = replace(model, features_version=learner.FEATURES_VERSION + 1)
    await _store_model(store, newer.to_bytes(), pairs)
    assert await Retrainer(config, store, log).check() is None
    assert [m.version for m in await store.models()] == [3, 2, 1]


async def test_lease_holder_retrains_after_a_poll(store: Store) -> None:
    await labelled(store, brand_slang())
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=100))
    log = Log()
    async with httpx.AsyncClient() as client:
        collector = Collector(
            config,
            store,
            client,
            holder="tester@host pid 1",
            log=log,
            sources=[StaticSource([IncomingMention("static", "1", "my box got zorbled")])],
        )
        outcomes = await collector.run_once()
    assert outcomes is not None and all(o.ok for o in outcomes)
    assert await store.in_charge_version() == 1
    (new,) = await column(store, "SELECT id FROM mentions WHERE source = 'static'")
    mention = await store.mention(new)
    assert mention is not None and mention.score.model == "learned-1"  # re-scored: open
    assert any(line.startswith("learning: trained learned-1 on 120 labels") for line in log)


async def test_stopping_ends_a_training_under_way(store: Store) -> None:
    await labelled(store, brand_slang())
    config = Config(learning=LearningConfig(min_labels=30, retrain_after=10))
    log = Log()
    retrainer = Retrainer(config, store, log)
    halt = asyncio.Event()
    running = asyncio.create_task(retrainer.run(halt))
    retrainer.nudge()
    await asyncio.sleep(0.5)  # the training process is starting (it imports scikit-learn)
    started = time.monotonic()
    halt.set()
    await asyncio.wait_for(running, timeout=10)
    assert time.monotonic() - started < 5
    assert await store.models() == []  # nothing half-stored
    assert not [p for p in multiprocessing.active_children() if p.name == "triage-learn"]


async def test_a_failed_training_process_is_reported() -> None:
    with pytest.raises(TrainingFailed, match="ValueError"):
        await _in_child_process(_scorer_options(CONFIG), ["a", "b"], ["negative", "bad"], 2)


TRAIN_INSIDE_AN_APP = """
import asyncio, sys
from textual.app import App
from tests.synthetic_labels import brand_slang
from tui.learning import _in_child_process, _scorer_options
from tui.config import Config

class Trains(App[str]):
    async def on_mount(self) -> None:
        pairs = brand_slang()
        try:
            data, figures, warned = await _in_child_process(
                _scorer_options(Config()), [t for t, _ in pairs], [l for _, l in pairs], 3
            )
            self.exit(f"trained {figures['labels']} labels, {len(warned)} warnings")
        except Exception as error:
            self.exit(f"failed: {error}")

async def main() -> None:
    app = Trains()
    async with app.run_test():
        for _ in range(600):  # a minute at most
            if app.return_value is not None:
                break
            await asyncio.sleep(0.1)
    print(app.return_value)

asyncio.run(main())
"""


def test_an_app_can_start_the_training_process(tmp_path: Path) -> None:
    # Textual's stderr capture has no file number (fileno() is -1); multiprocessing passed it
    # on to the resource tracker it starts with the first process, and every retraining in an
    # app holding the lease failed with "bad value(s) in fds_to_keep". A fresh interpreter:
    # the tracker starts only once per process.
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_INSIDE_AN_APP],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"trained {len(brand_slang())} labels, 0 warnings", done.stdout


async def test_retraining_can_be_turned_off(store: Store) -> None:
    await labelled(store, brand_slang())
    config = Config(learning=LearningConfig(retrain_after=0))
    assert not Retrainer(config, store, Log()).enabled
    assert await Retrainer(config, store, Log()).check() is None


async def test_the_detail_pane_names_the_model_and_its_words_and_an_override_wins(
    store: Store, db_path: Path
) -> None:
    await labelled(store, brand_slang())
    await learn(store, CONFIG, in_process=True, rescore_scope="open")
    (fresh,) = await add(store, ["the van zorbled my parcel again"], source="fresh")
    app = TriageApp(CONFIG, db_path, "tester", collect=False)

    def body() -> str:
        pane = app.query_one(DetailBody)
        strips = pane.render_lines(Region(0, 0, pane.size.width, pane.size.height))
        return "\n".join(strip.text.rstrip() for strip in strips)

    async with app.run_test(size=(150, 40)) as pilot:  # wide: the pane is beside the list
        await wait_until(lambda: app.mentions.current is not None and "scored by" in body(), pilot)
        assert app.mentions.current is not None and app.mentions.current.id == fresh
        shown = body()
        assert "negative  scored by learned-1" in shown
        assert "zorbled -" in shown  # the brand's own word that moved it, with its pull
        await pilot.press("o")  # the operator says otherwise
        await wait_until(lambda: "(operator; machine said negative)" in body(), pilot)
        assert "(operator; machine said negative)" in body()
        assert "scored by learned-1" in body()


# --- export and import of labels ------------------------------------------------------------------


async def test_export_names_the_model_and_import_restores_labels(
    store: Store, tmp_path: Path, db_path: Path
) -> None:
    ids = await labelled(store, brand_slang(per_class=12))
    await store.add_tag(ids[0], "complaint")
    await store.set_status(ids[1], "done")
    await learn(store, CONFIG, in_process=True, rescore_scope="all")
    path = tmp_path / "out.jsonl"
    with path.open("w", encoding="utf-8") as out:
        await export(store, out)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert {r["sentiment"]["model"] for r in records} == {"learned-1"}
    csv_path = tmp_path / "out.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        await export(store, out, fmt="csv")
    header = csv_path.read_text().splitlines()[0]
    assert '"sentiment_model"' in header

    other = await Store.open(tmp_path / "other.db", "importer")
    try:
        ingestor = Ingestor(other, make_scorer(CONFIG))
        report = await import_file(ingestor, path)
        assert report.added == len(ids) and not report.problems
        assert report.restored.labels == len(ids)
        assert report.restored.tags == 1 and report.restored.statuses == 1
        labels = await other.labelled_mentions({})
        assert sorted(e.label for e in labels.examples) == sorted(
            label for _, label in brand_slang(per_class=12)
        )
        events = await other.events()
        restored = [e for e in events if e.action in ("label", "tag", "status")]
        assert len(restored) == len(ids) + 2
        assert {e.by for e in restored} == {"importer"}
        again = await import_file(ingestor, path)
        assert again.restored.labels == again.restored.tags == again.restored.statuses == 0
        assert len(await other.events()) == len(events)  # nothing twice
    finally:
        await other.close()


async def test_import_reports_a_bad_label_and_keeps_the_mention(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    lines = [
        {"source": "x", "external_id": "1", "text": "a", "sentiment": {"operator_label": "meh"}},
        {"source": "x", "external_id": "2", "text": "b", "tags": ["ok", 3]},
        {"source": "x", "external_id": "3", "text": "c", "status": "closed"},
        {"source": "x", "external_id": "4", "text": "d", "tags": "complaint;praise"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    report = await import_file(Ingestor(store, make_scorer(CONFIG)), path)
    assert report.added == 4
    assert len(report.problems) == 3
    assert "operator_label 'meh'" in report.problems[0] and ":1:" in report.problems[0]
    assert "tags must be" in report.problems[1]
    assert "status 'closed'" in report.problems[2]
    assert report.restored.tags == 2


# --- the command line ---------------------------------------------------------------------------


def write_config(tmp_path: Path, body: str = "[learning]\nmin_labels = 30\n") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def seed_file(tmp_path: Path, pairs: Sequence[tuple[str, str]]) -> Path:
    path = tmp_path / "labels.jsonl"
    rows = [
        {
            "source": "seed",
            "external_id": str(n),
            "text": text,
            "sentiment": {"operator_label": label},
        }
        for n, (text, label) in enumerate(pairs)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_triage_learn_reports_figures_and_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = write_config(tmp_path), tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]
    assert main(["import", str(seed_file(tmp_path, brand_slang())), *common]) == 0
    assert "restored 120 labels" in capsys.readouterr().err
    assert main(["learn", *common]) == 0
    out = capsys.readouterr().out
    assert "labels: 120 (negative 40, neutral 40, positive 40): 120 operator overrides" in out
    assert "5-fold cross-validation" in out and "learned model" in out and "lexicon" in out
    assert "stored as learned-1" in out
    assert "the learned model scores from now on" in out
    assert "re-scored 120 open mentions with learned-1" in out
    assert main(["learn", "--list", *common]) == 0
    listing = capsys.readouterr().out
    assert "learned-1" in listing and "in charge" in listing
    assert main(["learn", "--lexicon", "--rescore", "none", *common]) == 0
    out = capsys.readouterr().out
    assert out == "the lexicon scores from now on; nothing re-scored (--rescore none)\n"
    assert main(["learn", "--list", *common]) == 0
    listing = capsys.readouterr().out
    assert "lexicon scores now" in listing
    assert re.search(r"^\(to lexicon\) +\d{4}-\d\d-\d\d ", listing, re.MULTILINE), listing
    assert main(["learn", "--lexicon", "--rescore", "none", *common]) == 0
    capsys.readouterr()
    assert main(["learn", "--list", *common]) == 0
    rows = capsys.readouterr().out.splitlines()[1:4]
    # Only the newest training is in charge; the earlier hand-over is history.
    assert rows[0].startswith("(to lexicon)") and rows[0].endswith("  in charge"), rows
    assert rows[1].startswith("(to lexicon)") and rows[1].endswith("  -"), rows
    assert rows[2].startswith("learned-1") and rows[2].endswith("  beat lexicon"), rows


def test_a_warning_raised_in_training_is_one_line_and_the_model_is_still_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A solver stopped short warns (scikit-learn's ConvergenceWarning). The warning is said
    once, on one line of stderr, and is not printed as Python prints warnings (file, line and
    source over several lines), which in an app would break the screen."""
    config, db = write_config(tmp_path), tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]
    assert main(["import", str(seed_file(tmp_path, brand_slang())), *common]) == 0
    capsys.readouterr()
    monkeypatch.setattr(learner, "MAX_ITERATIONS", 1)
    assert main(["learn", *common]) == 0
    out, err = capsys.readouterr()
    assert "stored as learned-1" in out
    warned = [line for line in err.splitlines() if "warning" in line]
    assert len(warned) == 1, err
    assert warned[0].startswith("learning: warning: ConvergenceWarning: lbfgs failed to converge")
    assert "warnings.warn" not in err and ".py:" not in err


def test_triage_learn_shows_a_hostile_operator_name_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = 'operator = "ev\\u001b[2J\\u202eil\\nfake"\n[learning]\nmin_labels = 30\n'
    config, db = write_config(tmp_path, hostile), tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]
    assert main(["import", str(seed_file(tmp_path, brand_slang())), *common]) == 0
    capsys.readouterr()
    assert main(["learn", "--rescore", "none", *common]) == 0
    out = capsys.readouterr().out
    (stored,) = [line for line in out.splitlines() if line.startswith("stored as learned-1")]
    assert "by ev␛il fake, trained in" in stored  # the escape shown, its sequence and bidi gone
    assert main(["learn", "--list", *common]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 3 and listing[1].startswith("learned-1 ")  # header, row, footer
    assert not any(c in "\x1b\u202e" for line in listing for c in line)


def test_triage_learn_with_too_few_labels_fails_and_says_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = write_config(tmp_path), tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]
    assert main(["import", str(seed_file(tmp_path, brand_slang(per_class=3))), *common]) == 0
    capsys.readouterr()
    assert main(["learn", *common]) == 1
    out = capsys.readouterr().out
    assert "not trained: 9 labelled mentions; at least 30 are needed" in out
    assert "lexicon scores, as before" in out
    assert main(["learn", "--folds", "1", *common]) == 2
    assert "--folds must be between 2 and 20" in capsys.readouterr().err


def test_triage_learn_says_why_the_lexicon_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = write_config(tmp_path), tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]
    assert main(["import", str(seed_file(tmp_path, plain_sentiment())), *common]) == 0
    assert main(["learn", *common]) == 0
    out = capsys.readouterr().out
    assert "the lexicon stays in charge" in out and "does not beat" in out
    assert "re-scored 90 open mentions with lexicon" in out


# --- configuration -------------------------------------------------------------------------------


def test_learning_config_defaults_and_values(tmp_path: Path) -> None:
    assert Config().learning.tags == {"complaint": "negative", "praise": "positive"}
    path = write_config(
        tmp_path,
        "[learning]\nretrain_after = 0\nfolds = 10\n\n[learning.tags]\n"
        '"#Refund" = "negative"\nkudos = "positive"\n',
    )
    learning = load_config(path).learning
    assert learning.retrain_after == 0 and learning.folds == 10
    assert learning.tags == {"refund": "negative", "kudos": "positive"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[learning]\nfolds = 1\n", ":2: learning.folds: 1 is out of range"),
        ("[learning]\nmin_labels = 5\n", ":2: learning.min_labels: 5 is out of range"),
        ("[learning]\nretrain_after = true\n", ":2: learning.retrain_after: expected a number"),
        ("[learning]\nretrain = 5\n", ":2: learning.retrain: unknown key"),
        ('[learning.tags]\ncomplaint = "bad"\n', ":2: learning.tags.complaint: unknown label"),
        ("[learning.tags]\ncomplaint = 1\n", ":2: learning.tags.complaint: expected a string"),
    ],
)
def test_learning_config_errors_name_key_and_line(tmp_path: Path, body: str, message: str) -> None:
    from tui.config import ConfigError

    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_config(write_config(tmp_path, body))


async def test_a_database_without_models_scores_with_the_lexicon(store: Store) -> None:
    assert await store.in_charge_version() is None
    assert await store.latest_model() is None
    (mention_id,) = await store.add_mentions(
        [IncomingMention("demo", "1", "late again", "ann")], [Score(-0.5, "negative", ())]
    )
    mention = await store.mention(mention_id)
    assert mention is not None and mention.score.model == "lexicon"
    with pytest.raises(StoreError):
        await store._one("SELECT nope FROM sentiment_models")
