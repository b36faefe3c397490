"""Mastodon against a loopback server serving the recorded responses in shared/fixtures/api."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.helpers import shared_json, source_config, stored_reach
from tests.sources.server import Reply, Request, Server
from tui.config import ConfigError
from tui.sources import Http, NeedsCredentials, PollResult, build_source
from tui.sources.base import load_cursor
from tui.sources.mastodon import PAGE, MastodonSource
from tui.store import Store

TOKEN = "mastodon-user-token-0123456789"
ENV = {"MASTODON_TOKEN": TOKEN}
TAG_PATH = "/api/v1/timelines/tag/hoot"


def mastodon(server: Server, env: dict[str, str] | None = None, **options: Any) -> MastodonSource:
    source = build_source(source_config("mastodon", server.url, "masto", **options), env or {})
    assert isinstance(source, MastodonSource)
    return source


def recorded(shared_dir: Path, name: str) -> Reply:
    """The first interaction of a cassette as a reply (body and selected headers unchanged)."""
    response = shared_json(shared_dir, name)["interactions"][-1]["response"]
    headers = {k: v[0] for k, v in response["headers"].items() if k != "content-type"}
    return Reply.json(response["body"], response["status"]["code"], headers=headers)


def status_like(template: dict[str, Any], status_id: int, text: str) -> dict[str, Any]:
    status = json.loads(json.dumps(template))
    status.update(
        id=str(status_id), content=f"<p>{text}</p>", uri=f"https://x.example/s/{status_id}"
    )
    status["url"] = f"https://x.example/@someone/{status_id}"
    return status


class Timeline:
    """A hashtag timeline that pages like Mastodon's: ``min_id`` returns the ``limit`` statuses
    just above it, newest first, with a ``Link`` header pointing forward."""

    def __init__(self, server: Server, statuses: list[dict[str, Any]]) -> None:
        self.server = server
        self.statuses = sorted(statuses, key=lambda s: int(s["id"]))

    def __call__(self, request: Request) -> Reply:
        limit = int(request.query.get("limit", "20"))
        if "min_id" in request.query:
            above = [s for s in self.statuses if int(s["id"]) > int(request.query["min_id"])]
            page = above[:limit]
        else:
            page = self.statuses[-limit:]
        page = list(reversed(page))
        headers = {}
        if page:
            # Real servers put their own public host here; the adapter must only take the id.
            base = "http://localhost:3000" + request.path
            headers["Link"] = (
                f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                f'<{base}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return Reply.json(page, headers=headers)


async def test_recorded_hashtag_timeline_is_mapped(
    server: Server, http: Http, shared_dir: Path
) -> None:
    server.route(TAG_PATH, recorded(shared_dir, "cassette_localhost_timelines_tag.json"))
    result = await mastodon(server, hashtags=["#hoot"]).poll(http, None)
    (mention,) = result.mentions
    assert mention.source == "masto"
    assert mention.external_id == "117020593741189701"
    assert mention.author == "mastodonpy_test_2"
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"
    assert mention.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert mention.language == "ja"
    assert json.loads(mention.raw)["id"] == "117020593741189701"
    assert load_cursor(result.cursor) == {"tag:hoot": "117020593741189701"}
    assert result.rate is not None and result.rate.remaining == "299"
    (request,) = server.to(TAG_PATH)
    assert request.query == {"limit": str(PAGE)}  # first poll: the newest page, no history


def test_status_html_becomes_clean_text(shared_dir: Path) -> None:
    status = shared_json(shared_dir, "docs_status_entity_example.json")
    source = MastodonSource(source_config("mastodon", "http://unused", hashtags=["x"]), {})
    mention = source.mention(status)
    assert mention.text == (
        '"I lost my inheritance with one wrong digit on my sort code"\n\n'
        "https://www.theguardian.com/money/2019/dec/07/"
        "i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    )
    assert "<" not in mention.text and "&quot;" not in mention.text
    assert mention.author == "Gargron"
    assert mention.language == "en"


async def test_pages_forward_with_min_id_and_never_repeats(
    server: Server, http: Http, shared_dir: Path
) -> None:
    template = shared_json(shared_dir, "docs_status_entity_example.json")
    statuses = [status_like(template, 110_000_000_000_000_000 + n, f"post {n}") for n in range(100)]
    server.route(TAG_PATH, Timeline(server, statuses))
    source = mastodon(server, hashtags=["hoot"])
    start = json.dumps({"tag:hoot": statuses[10]["id"]})

    result = await source.poll(http, start)
    ids = [m.external_id for m in result.mentions]
    assert ids == [s["id"] for s in statuses[11:]]  # all 89, oldest first, none twice
    assert [r.query["min_id"] for r in server.to(TAG_PATH)] == [
        statuses[10]["id"],
        statuses[50]["id"],
        statuses[90]["id"],
    ]
    assert load_cursor(result.cursor) == {"tag:hoot": statuses[-1]["id"]}

    again = await source.poll(http, result.cursor)
    assert again.mentions == []
    assert again.cursor == result.cursor


async def test_search_sends_the_token_and_keeps_its_own_position(
    server: Server, http: Http, shared_dir: Path
) -> None:
    template = shared_json(shared_dir, "docs_status_entity_example.json")
    server.route(TAG_PATH, recorded(shared_dir, "cassette_localhost_timelines_tag.json"))
    found = [status_like(template, 117_000_000_000_000_005, "acme is down again")]
    server.route("/api/v2/search", Reply.json({"accounts": [], "statuses": found, "hashtags": []}))
    source = mastodon(server, ENV, hashtags=["hoot"], search="acme", token_env="MASTODON_TOKEN")
    result = await source.poll(http, None)
    # Oldest first across timelines (the search hit is from 2019).
    assert [m.text for m in result.mentions] == ["acme is down again", "#hoot (hashtag toot)"]
    (search,) = server.to("/api/v2/search")
    assert search.query["type"] == "statuses" and search.query["q"] == "acme"
    assert search.headers["authorization"] == f"Bearer {TOKEN}"
    cursor = load_cursor(result.cursor)
    assert cursor == {"tag:hoot": "117020593741189701", "search": "117000000000000005"}


async def test_recorded_empty_search_keeps_the_position(
    server: Server, http: Http, shared_dir: Path
) -> None:
    server.route("/api/v2/search", recorded(shared_dir, "cassette_localhost_search_v2.json"))
    source = mastodon(server, ENV, search="mastodonpy_test", token_env="MASTODON_TOKEN")
    result = await source.poll(http, json.dumps({"search": "42"}))
    assert result.mentions == []
    assert load_cursor(result.cursor) == {"search": "42"}


def test_search_and_stream_need_a_token_in_the_config() -> None:
    with pytest.raises(ConfigError, match="search: needs an access token"):
        MastodonSource(source_config("mastodon", "http://x", search="acme"), {})
    with pytest.raises(ConfigError, match="stream: needs an access token"):
        MastodonSource(source_config("mastodon", "http://x", hashtags=["a"], stream=True), {})
    with pytest.raises(ConfigError, match="nothing to follow"):
        MastodonSource(source_config("mastodon", "http://x"), {})


async def test_unset_token_variable_needs_credentials(server: Server, http: Http) -> None:
    source = mastodon(server, {}, search="acme", token_env="MASTODON_TOKEN")
    with pytest.raises(NeedsCredentials, match="MASTODON_TOKEN"):
        await source.poll(http, None)
    assert server.requests == []


# -- streaming ------------------------------------------------------------------------------


def hashtag_events(shared_dir: Path) -> list[bytes]:
    """The docs' example events for ``GET /api/v1/streaming/hashtag``, each as sent."""
    text = (shared_dir / "fixtures" / "api" / "streaming_sse_examples_from_docs.txt").read_text()
    blocks = text.split("\n\n")
    return [
        (block.split("\n", 1)[1] + "\n\n").encode()
        for block in blocks
        if block.startswith(": --- section")
        and block.split("\n", 1)[0].endswith("streaming/hashtag")
    ]


async def test_stream_handles_update_delete_and_edit_and_reconnects_after_a_drop(
    server: Server, http: Http, shared_dir: Path
) -> None:
    update, delete, edit = hashtag_events(shared_dir)
    first = json.loads(update.decode().split("data: ", 1)[1])
    edited = dict(first, content="<p>#test edited</p>", edited_at="2022-08-30T23:40:00.000Z")
    second = dict(first, id="108914430312582099", content="<p>second #test</p>")
    server.route(
        "/api/v2/instance",
        Reply.json({"configuration": {"urls": {"streaming": server.url.replace("http", "ws")}}}),
    )
    server.route(
        "/api/v1/streaming/hashtag",
        # The first connection drops in the middle of an event, which must be discarded.
        Reply.stream([b":thump\n\n", update, delete, edit, b'event: update\ndata: {"id":"1', b"2"]),
        Reply.stream(
            [
                b":thump\n\n",
                f"event: status.update\ndata: {json.dumps(edited)}\n\n".encode(),
                f"event: update\ndata: {json.dumps(second)}\n\n".encode(),
            ],
            gap=0.01,
        ),
        Reply.stream([b":thump\n\n"], gap=0.2),
    )
    source = mastodon(server, ENV, hashtags=["test"], stream=True, token_env="MASTODON_TOKEN")
    queue: asyncio.Queue[PollResult] = asyncio.Queue()
    task = asyncio.create_task(source.stream(http, queue))
    results = [await asyncio.wait_for(queue.get(), 5) for _ in range(5)]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    added = [m for r in results for m in r.mentions]
    edits = [m for r in results for m in r.edits]
    deleted = [d for r in results for d in r.deletions]
    assert [m.external_id for m in added] == ["108914430312582020", "108914430312582099"]
    assert added[0].text == "#test" and added[0].author == first["account"]["acct"]
    assert added[0].raw == update.decode().split("data: ", 1)[1].strip().encode()
    assert deleted == ["108914430312582020"]
    assert [m.external_id for m in edits] == ["109348684737626801", "108914430312582020"]
    assert edits[1].text == "#test edited"
    requests = server.to("/api/v1/streaming/hashtag")
    assert len(requests) >= 2
    assert all(r.query == {"tag": "test"} for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)


# -- reach ------------------------------------------------------------------------------------


def test_reach_comes_from_the_status_and_its_author(shared_dir: Path) -> None:
    status = shared_json(shared_dir, "docs_status_entity_example.json")
    source = MastodonSource(source_config("mastodon", "http://unused", hashtags=["x"]), {})
    assert source.mention(status).reach == {
        "followers": 322930,
        "reposts": 6,
        "likes": 11,
        "replies": 5,
    }
    # A boost is the boosted post: its figures and its author's followers, not the booster's.
    boost = dict(status, id="1", reblogs_count=0, favourites_count=0, reblog=status)
    boost["account"] = dict(status["account"], followers_count=3)
    assert source.mention(boost).reach == source.mention(status).reach


def test_garbage_reach_figures_are_dropped_never_an_error(shared_dir: Path) -> None:
    status = shared_json(shared_dir, "docs_status_entity_example.json")
    source = MastodonSource(source_config("mastodon", "http://unused", hashtags=["x"]), {})
    status.update(reblogs_count="6", favourites_count=None, replies_count=-1)
    status["account"] = dict(status["account"], followers_count=True)
    assert source.mention(status).reach is None
    status.update(reblogs_count=2.5, favourites_count=10**12, replies_count=[1])
    status["account"] = dict(status["account"], followers_count=12)
    assert source.mention(status).reach == {"followers": 12}
    status["account"] = "not an account"
    mention = source.mention(status)
    assert mention.reach is None and mention.author == ""


def test_a_streamed_status_carries_its_reach(shared_dir: Path) -> None:
    update, _, _ = hashtag_events(shared_dir)
    name, data = (line.split(": ", 1)[1] for line in update.decode().strip().split("\n"))
    source = MastodonSource(source_config("mastodon", "http://unused", hashtags=["x"]), {})
    result = source._event(name, data)
    assert result is not None
    (mention,) = result.mentions
    assert mention.reach == {"followers": 2520, "reposts": 0, "likes": 0, "replies": 0}
    hostile = dict(json.loads(data), reblogs_count={"x": 1}, favourites_count="9" * 40)
    result = source._event("update", json.dumps(hostile))
    assert result is not None
    assert result.mentions[0].reach == {"followers": 2520, "replies": 0}


async def test_reach_of_a_polled_status_is_stored(
    server: Server, client: httpx.AsyncClient, store: Store, shared_dir: Path
) -> None:
    template = shared_json(shared_dir, "docs_status_entity_example.json")
    status = status_like(template, 117_000_000_000_000_001, "acme ate my parcel")
    status.update(reblogs_count=31, favourites_count=80, replies_count=4)
    status["account"] = dict(status["account"], followers_count=1204)
    server.route(TAG_PATH, Reply.json([status]))
    source = mastodon(server, hashtags=["hoot"])
    assert await stored_reach(store, client, source) == {
        "followers": 1204,
        "reposts": 31,
        "likes": 80,
        "replies": 4,
    }
