"""Work moves between databases: export, then import restores follow-ups, notes and
assignment (with tags, status and labels), each as an event by the importing user naming the
original author and time; notes reach the evidence folder too."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from tui.core.model import Filter, IncomingMention, utcnow
from tui.core.sentiment import Scorer
from tui.evidence import write_evidence
from tui.exchange import export, import_file
from tui.ingest import Ingestor
from tui.store import Store


async def _worked_on(path: Path) -> tuple[int, str]:
    """A database where alice tagged, labelled, set a follow-up, noted and took a mention;
    returns its id and the export."""
    store = await Store.open(path, "alice")
    try:
        (mention_id,) = await Ingestor(store, Scorer()).ingest(
            [IncomingMention("mastodon", "m-1", "my order is late again", "ann")]
        )
        await store.add_tag(mention_id, "billing")
        await store.set_operator_label(mention_id, "negative")
        await store.set_follow_up(mention_id, utcnow() + timedelta(hours=3), "check refund")
        await store.add_note(mention_id, "Spoke to logistics; parcel found")
        await store.claim(mention_id)
        out = io.StringIO()
        await export(store, out)
        return mention_id, out.getvalue()
    finally:
        await store.close()


async def test_export_carries_assignment_and_notes(tmp_path: Path) -> None:
    _, data = await _worked_on(tmp_path / "a.db")
    record = json.loads(data)
    assert record["assigned_to"] == "alice"
    assert [(n["text"], n["by"]) for n in record["notes"]] == [
        ("Spoke to logistics; parcel found", "alice")
    ]
    assert record["notes"][0]["at"].endswith("Z")


async def test_import_restores_the_work_as_events_naming_the_original(tmp_path: Path) -> None:
    _, data = await _worked_on(tmp_path / "a.db")
    record = json.loads(data)
    moved = tmp_path / "work.jsonl"
    moved.write_text(data, encoding="utf-8")
    target = await Store.open(tmp_path / "b.db", "bob")
    try:
        report = await import_file(Ingestor(target, Scorer()), moved)
        assert report.restored.tags == 1 and report.restored.labels == 1
        assert (report.restored.follow_ups, report.restored.notes) == (1, 1)
        assert report.restored.assignments == 1
        (mention_id,) = await target.mention_ids(Filter())
        mention = await target.mention(mention_id)
        assert mention is not None
        assert mention.assigned_to == "alice"
        assert mention.follow_up is not None and mention.follow_up.note == "check refund"
        assert [(n.text, n.by) for n in mention.notes] == [
            ("Spoke to logistics; parcel found", "alice")
        ]
        assert mention.tags == ("billing",) and mention.operator_label == "negative"
        restored = {e.action: e for e in mention.events}
        for action in ("follow_up", "note", "assign"):
            event = restored[action]
            assert event.by == "bob"  # the importing user
            original = json.loads(event.detail)["original"]
            assert original["by"] == "alice"
        named = json.loads(restored["imported"].detail)["original"]
        assert restored["imported"].by == "bob"
        assert {(n["action"], n["detail"], n["by"]) for n in named} == {
            ("label", "negative", "alice"),
            ("tag", "billing", "alice"),
        }
        assert restored["label"].detail == "negative"  # the label's own event stays plain
        claim = next(h for h in record["history"] if h["action"] == "claim")
        assert json.loads(restored["assign"].detail)["original"]["at"] == claim["at"]
        assert json.loads(restored["note"].detail)["original"]["at"] == record["notes"][0]["at"]
        # importing the same file again restores nothing more
        events = len(mention.events)
        again = await import_file(Ingestor(target, Scorer()), moved)
        assert again.restored.notes == again.restored.follow_ups == 0
        assert again.restored.assignments == 0
        assert len((await target.mention(mention_id)).events) == events  # type: ignore[union-attr]
        folder = await write_evidence(target, mention_id, tmp_path / "evidence")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["notes"][0]["text"] == "Spoke to logistics; parcel found"
        assert manifest["assigned_to"] == "alice"
    finally:
        await target.close()
