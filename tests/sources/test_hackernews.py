"""Hacker News (Algolia search_by_date): mapping, exact-term filter, incremental window."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.sources.helpers import fixture, source_config
from tests.sources.server import Reply, Request, Server
from tui.sources import Http, build_source
from tui.sources.base import load_cursor
from tui.sources.hackernews import OVERLAP_S, HackerNewsSource

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
