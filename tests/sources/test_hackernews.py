"""Hacker News (Algolia search_by_date): mapping, exact-term filter, incremental window."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.sources.helpers import fixture, source_config
from tests.sources.server import Reply, Request, Server
from tui.config import Config
from tui.core.model import Filter
from tui.exchange import export, import_file
from tui.ingest import Ingestor, make_scorer
from tui.sources import Http, build_source
from tui.sources.base import load_cursor
from tui.sources.hackernews import OVERLAP_S, HackerNewsSource
from tui.store import Store

SEARCH = "/api/v1/search_by_date"


def hackernews(server: Server, query: str = "acme") -> HackerNewsSource:
    source = build_source(source_config("hackernews", server.url, "hn", query=query), {})
    assert isinstance(source, HackerNewsSource)
    return source


class Algolia:
    """``search_by_date`` over a list of hits: newest first, ``created_at_i>=`` filter, pages."""

    def __init__(self, hits: list[dict[str, Any]]) -> None:
        self.hits = hits

    def __call__(self, request: Request) -> Reply:
        hits = sorted(self.hits, key=lambda h: -h["created_at_i"])
        bound = request.query.get("numericFilters", "created_at_i>=0").split(">=")[1]
        hits = [h for h in hits if h["created_at_i"] >= int(bound)]
        size, page = int(request.query["hitsPerPage"]), int(request.query.get("page", "0"))
        pages = max(1, -(-len(hits) // size))
        chunk = hits[page * size : (page + 1) * size]
        return Reply.json({"hits": chunk, "nbHits": len(hits), "page": page, "nbPages": pages})


async def test_hits_are_mapped_and_filtered_to_the_exact_term(server: Server, http: Http) -> None:
    server.route(SEARCH, Reply.json(fixture("hn_search_by_date.json")))
    result = await hackernews(server).poll(http, None)
    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {"43250017", "43250001", "43249800"}  # not "The Acmeist poets"
    comment = by_id["43250017"]
    assert comment.text == (
        'Acme\'s checkout has been down for an hour. Their status page says "all good".\n'
        "See https://status.acme.example/"
    )
    assert comment.author == "pg_fan"
    assert comment.url == "https://news.ycombinator.com/item?id=43250017"
    assert comment.created_at == datetime(2025, 3, 4, 10, 15, 30, tzinfo=UTC)
    assert comment.language is None
    assert json.loads(comment.raw)["story_id"] == 43250001
    assert by_id["43250001"].text == (
        "Ask HN: Is Acme down for anyone else?\n\n"
        "Getting 502s from the Acme API since 10:00 UTC.\nAnyone else?"
    )
    assert by_id["43249800"].text == "Show HN: A faster Acme CLI"
    assert [m.external_id for m in result.mentions] == ["43249800", "43250001", "43250017"]
    (request,) = server.requests
    assert request.query == {
        "query": "acme",
        "tags": "(story,comment)",
        "hitsPerPage": "100",
        "page": "0",
    }
    assert load_cursor(result.cursor) == {"since": 1741083330, "seen": ["43250017"]}


def test_exact_term_check_wants_every_word_whole() -> None:
    source = HackerNewsSource(source_config("hackernews", "http://x", query="acme cloud"), {})
    assert source.matches("Acme's cloud is down")
    assert not source.matches("acmeist cloud")
    assert not source.matches("acme clouds")


async def test_polls_overlap_by_a_window_and_never_repeat(server: Server, http: Http) -> None:
    hits = fixture("hn_search_by_date.json")["hits"]
    algolia = Algolia(hits[:])
    server.route(SEARCH, algolia)
    source = hackernews(server)
    first = await source.poll(http, None)
    newest = hits[0]["created_at_i"]
    # A comment indexed late, dated within the overlap window, and one truly new.
    late = dict(hits[0], objectID="43250016", created_at_i=newest - 30)
    new = dict(hits[0], objectID="43250020", created_at_i=newest + 60)
    algolia.hits += [late, new]
    second = await source.poll(http, first.cursor)
    assert [m.external_id for m in second.mentions] == ["43250016", "43250020"]
    assert server.requests[-1].query["numericFilters"] == f"created_at_i>={newest - OVERLAP_S}"
    third = await source.poll(http, second.cursor)
    assert third.mentions == []
    assert load_cursor(third.cursor)["since"] == newest + 60


async def test_pages_through_a_burst(server: Server, http: Http) -> None:
    template = fixture("hn_search_by_date.json")["hits"][0]
    burst = [
        dict(template, objectID=str(50_000 + n), created_at_i=1741090000 + n) for n in range(250)
    ]
    server.route(SEARCH, Algolia(burst))
    cursor = json.dumps({"since": 1741080000, "seen": []})
    result = await hackernews(server).poll(http, cursor)
    assert len(result.mentions) == 250
    assert [r.query["page"] for r in server.requests] == ["0", "1", "2"]


def _story(object_id: str, title: str, url: str | None, at: int) -> dict[str, Any]:
    return {
        "objectID": object_id,
        "title": title,
        "url": url,
        "author": "linker",
        "story_text": None,
        "comment_text": None,
        "created_at_i": at,
        "_tags": ["story", f"story_{object_id}"],
    }


async def test_a_story_linking_to_the_brand_is_a_mention_with_its_link(
    server: Server, http: Http, tmp_path: Path
) -> None:
    """The title never names the brand; the story's link does. It is kept, stored, exported
    with its link, and imported again with it."""
    at = 1741083000
    link = "https://www.acme.example/blog/we-are-down?utm=hn"
    comment = dict(_story("9003", "", None, at + 2), comment_text="Nice launch!")
    comment.update(story_url="https://acme.example/launch", _tags=["comment"])
    hits = [
        _story("9001", "Postmortem of yesterday's outage", link, at),
        _story("9002", "Unrelated: a faster CLI", "https://tools.example/acmeist", at + 1),
        comment,  # its story's link is not something the comment says
        _story("9004", "Ask HN: anyone else down?", None, at + 3),
    ]
    server.route(SEARCH, Algolia(hits))
    result = await hackernews(server).poll(http, None)
    (mention,) = result.mentions
    assert mention.external_id == "9001"
    assert mention.text == "Postmortem of yesterday's outage"
    assert mention.link == link
    assert mention.url == "https://news.ycombinator.com/item?id=9001"

    store = await Store.open(tmp_path / "a.db", "tester")
    ingestor = Ingestor(store, make_scorer(Config()))
    (stored,) = await ingestor.ingest(result.mentions)
    shown = await store.mention(stored)
    assert shown is not None and shown.link == link
    out = io.StringIO()
    await export(store, out)
    await store.close()
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["link"] == link and record["url"] == mention.url

    exported = tmp_path / "export.jsonl"
    exported.write_text(out.getvalue(), encoding="utf-8")
    other = await Store.open(tmp_path / "b.db", "tester")
    report = await import_file(Ingestor(other, make_scorer(Config())), exported)
    assert report.added == 1
    (imported_id,) = await other.mention_ids(Filter())
    imported = await other.mention(imported_id)
    await other.close()
    assert imported is not None and imported.link == link


def test_a_link_match_wants_every_word_whole() -> None:
    source = HackerNewsSource(source_config("hackernews", "http://x", query="acme cloud"), {})
    with_link = _story("1", "Status page", "https://cloud.acme.example/status", 0)
    assert source.matches_mention(source.mention(with_link))
    only_brand = _story("2", "Status page", "https://acme.example/status", 0)
    assert not source.matches_mention(source.mention(only_brand))
    prefix = _story("3", "Cloud status", "https://acmeist.example/", 0)
    assert not source.matches_mention(source.mention(prefix))
    title_and_link = _story("4", "Cloud status", "https://acme.example/", 0)
    assert source.matches_mention(source.mention(title_and_link))
    ask = _story("5", "Ask HN: acme cloud?", "javascript:alert(1)", 0)
    assert source.mention(ask).link is None  # only web addresses are kept


# -- reach ------------------------------------------------------------------------------------


async def test_reach_is_the_points_and_the_comments(server: Server, http: Http) -> None:
    server.route(SEARCH, Reply.json(fixture("hn_search_by_date.json")))
    result = await hackernews(server).poll(http, None)
    by_id = {m.external_id: m for m in result.mentions}
    assert by_id["43250001"].reach == {"points": 12, "comments": 3}
    assert by_id["43249800"].reach == {"points": 40, "comments": 7}
    assert by_id["43250017"].reach is None  # a comment: null points and comments


def test_garbage_reach_figures_are_dropped() -> None:
    source = HackerNewsSource(source_config("hackernews", "http://x", query="acme"), {})
    story = _story("1", "Acme", None, 0)
    assert source.mention(dict(story, points="12", num_comments=-1)).reach is None
    assert source.mention(dict(story, points=3.0, num_comments=False)).reach is None
    assert source.mention(dict(story, points=10**12, num_comments=0)).reach == {"comments": 0}


async def test_reach_of_a_story_is_stored(server: Server, http: Http, store: Store) -> None:
    story = dict(_story("9001", "Acme is down", None, 1741083000), points=1204, num_comments=31)
    server.route(SEARCH, Algolia([story]))
    result = await hackernews(server).poll(http, None)
    (stored_id,) = await Ingestor(store, make_scorer(Config())).ingest(result.mentions)
    stored = await store.mention(stored_id)
    assert stored is not None and stored.reach == {"points": 1204, "comments": 31}
