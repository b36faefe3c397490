"""JSON Lines bridge: a followed file (or standard input) in the import shape."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.helpers import FIXTURES, source_config
from tui.collector import Collector
from tui.config import Config
from tui.sources import Http, Unavailable
from tui.sources.base import load_cursor
from tui.sources.jsonl import JsonlSource
from tui.store import Store


def jsonl(path: str, stdin: io.BytesIO | None = None) -> JsonlSource:
    return JsonlSource(source_config("jsonl", "", "bridge", path=path), {}, stdin=stdin)


async def test_follows_a_file_line_by_line(tmp_path: Path, http: Http) -> None:
    path = tmp_path / "mentions.jsonl"
    path.write_bytes((FIXTURES / "import.jsonl").read_bytes())
    source = jsonl(str(path))

    first = await source.poll(http, None)
    kim, lou = first.mentions
    assert (kim.source, kim.external_id, kim.author, kim.url) == (
        "bridge",
        "tw-1",
        "@kim",
        "https://x.example/kim/1",
    )
    assert kim.text == "@acme where is my refund?"
    assert kim.created_at == datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    assert kim.language == "en"
    assert kim.raw.startswith(b'{"external_id": "tw-1"')
    assert lou.external_id == "tw-2" and lou.created_at == datetime.fromtimestamp(1741075300, UTC)
    assert load_cursor(first.cursor)["offset"] == path.stat().st_size

    with path.open("ab") as file:  # a writer in the middle of a line
        file.write(b'{"id": "tw-3", "text": "half')
    second = await source.poll(http, first.cursor)
    assert second.mentions == [] and second.cursor == first.cursor
    with path.open("ab") as file:
        file.write(b' a line"}\n')
    third = await source.poll(http, second.cursor)
    assert [m.text for m in third.mentions] == ["half a line"]


async def test_a_malformed_line_is_skipped_not_fatal(tmp_path: Path, http: Http) -> None:
    path = tmp_path / "mentions.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "fine"}\n{"id": "b", "text": \n[1, 2]\n{"id": "c", "text": "ok"}\n'
    )
    result = await jsonl(str(path)).poll(http, None)
    assert [m.external_id for m in result.mentions] == ["a", "c"]
    assert len(result.warnings) == 2
    assert "at byte 28" in result.warnings[0]
    assert load_cursor(result.cursor)["offset"] == path.stat().st_size


async def test_a_replaced_or_truncated_file_is_read_from_the_start(
    tmp_path: Path, http: Http
) -> None:
    path = tmp_path / "mentions.jsonl"
    path.write_bytes(b'{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n')
    source = jsonl(str(path))
    first = await source.poll(http, None)
    path.write_bytes(b'{"id": "c", "text": "rotated"}\n')
    second = await source.poll(http, first.cursor)
    assert [m.external_id for m in second.mentions] == ["c"]


async def test_a_missing_file_is_unavailable(tmp_path: Path, http: Http) -> None:
    with pytest.raises(Unavailable, match="cannot read"):
        await jsonl(str(tmp_path / "nope.jsonl")).poll(http, None)


async def test_reads_standard_input_until_it_ends(http: Http) -> None:
    stdin = io.BytesIO((FIXTURES / "import.jsonl").read_bytes() + b"not json\n")
    source = jsonl("-", stdin)
    first = await source.poll(http, None)
    assert [m.external_id for m in first.mentions] == ["tw-1", "tw-2"]
    assert first.cursor is None
    assert first.warnings and "stdin line 3" in first.warnings[0]
    second = await source.poll(http, None)
    assert second.mentions == []


async def test_an_edited_line_is_stored_as_a_new_version(
    tmp_path: Path, client: httpx.AsyncClient, store: Store
) -> None:
    """The bridge hands ingest the same post again with a new text: the collector stores it
    as an edit (the earlier text kept as a version, the new one scored), not a duplicate."""
    path = tmp_path / "mentions.jsonl"
    path.write_bytes(b'{"id": "tw-1", "text": "@acme thanks, lovely service"}\n')
    config = Config(sources=(source_config("jsonl", "", "bridge", path=str(path)),))
    crawler = Collector(config, store, client, holder="t@h pid 1", log=lambda _: None)
    source = crawler.sources[0]
    first = await crawler.poll(source)
    assert first is not None and first.new == 1
    with path.open("ab") as file:
        file.write(b'{"id": "tw-1", "text": "@acme edit: my refund never came, awful"}\n')
    second = await crawler.poll(source)
    assert second is not None and second.ok and second.new == 0
    (mid,) = [r[0] for r in await store._all("SELECT id FROM mentions")]
    mention = await store.mention(mid)
    assert mention is not None
    assert mention.text == "@acme edit: my refund never came, awful"
    assert [v.text for v in mention.versions] == ["@acme thanks, lovely service"]
    assert mention.score.label == "negative"
    assert [e.action for e in mention.events] == ["edited"]


async def test_a_lines_reach_is_kept_only_when_all_of_it_is_believable(
    tmp_path: Path, http: Http, client: httpx.AsyncClient, store: Store
) -> None:
    path = tmp_path / "mentions.jsonl"
    lines: list[dict[str, Any]] = [
        {"id": "ok", "text": "a", "reach": {"followers": 1204, "likes": 80, "score": 0}},
        {"id": "unknown-key", "text": "b", "reach": {"likes": 3, "[@click=app.quit]": 1}},
        {"id": "string", "text": "c", "reach": {"likes": "80"}},
        {"id": "negative", "text": "d", "reach": {"likes": -1}},
        {"id": "bool", "text": "e", "reach": {"likes": True}},
        {"id": "float", "text": "f", "reach": {"likes": 1.5}},
        {"id": "huge", "text": "g", "reach": {"followers": 10**12}},
        {"id": "list", "text": "h", "reach": [1, 2]},
        {"id": "empty", "text": "i", "reach": {}},
        {"id": "none", "text": "j"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = await jsonl(str(path)).poll(http, None)
    assert not result.warnings  # a bad reach is left out, the line is kept
    assert {m.external_id: m.reach for m in result.mentions} == {
        "ok": {"followers": 1204, "likes": 80, "score": 0},
        **{line["id"]: None for line in lines[1:]},
    }

    config = Config(sources=(source_config("jsonl", "", "bridge", path=str(path)),))
    crawler = Collector(config, store, client, holder="t@h pid 1", log=lambda _: None)
    outcome = await crawler.poll(crawler.sources[0])
    assert outcome is not None and outcome.new == len(lines)
    stored = {}
    for mention_id in [r[0] for r in await store._all("SELECT id FROM mentions")]:
        mention = await store.mention(mention_id)
        assert mention is not None
        stored[mention.external_id] = mention.reach
    assert stored["ok"] == {"followers": 1204, "likes": 80, "score": 0}
    assert all(stored[line["id"]] == {} for line in lines[1:])
