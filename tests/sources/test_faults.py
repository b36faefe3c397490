"""Every HTTP adapter survives the same misbehaving server: errors, timeouts, truncated and
malformed bodies. A poll either recovers by retrying or fails with a ``SourceError`` that names
the fault; it never returns a partial or empty result in place of an error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sources.helpers import FIXTURES, fixture, shared_json, source_config
from tests.sources.server import Reply, Server
from tui.sources import BadResponse, Http, RateLimited, Source, Unavailable, build_source


@dataclass(frozen=True)
class Case:
    kind: str
    path: str
    options: dict[str, object]

    def body(self, shared_dir: Path) -> bytes:
        if self.kind == "feed":
            return (FIXTURES / "reviews_rss.xml").read_bytes()
        data = {
            "mastodon": lambda: shared_json(shared_dir, "cassette_localhost_timelines_tag.json")[
                "interactions"
            ][0]["response"]["body"],
            "bluesky": lambda: fixture("bluesky_search_posts.json"),
            "hackernews": lambda: fixture("hn_search_by_date.json"),
            "reddit": lambda: fixture("reddit_search.json"),
        }[self.kind]()
        return Reply.json(data).body

    def source(self, server: Server) -> Source:
        options = dict(self.options)
        if self.kind == "feed":
            options["url"] = server.url + self.path
        return build_source(source_config(self.kind, server.url, **options), {})


CASES = [
    Case("mastodon", "/api/v1/timelines/tag/acme", {"hashtags": ["acme"]}),
    Case("bluesky", "/xrpc/app.bsky.feed.searchPosts", {"query": "acme"}),
    Case("hackernews", "/api/v1/search_by_date", {"query": "acme"}),
    Case("reddit", "/search.json", {"query": "acme"}),
    Case("feed", "/feed.xml", {}),
]


@pytest.fixture(params=CASES, ids=[c.kind for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


async def test_recovers_from_500_timeout_and_truncated_body(
    case: Case, server: Server, http: Http, shared_dir: Path
) -> None:
    good = Reply(200, case.body(shared_dir), {"Content-Type": "application/json"})
    flaky = [
        Reply.json({"error": "Internal Server Error"}, 500),
        Reply(200, good.body, good.headers, truncate=True),
        good,
    ]
    server.route(case.path, *flaky)
    result = await case.source(server).poll(http, None)
    assert result.mentions
    assert len(server.to(case.path)) == 3


async def test_a_slow_server_is_retried_after_the_timeout(
    case: Case, server: Server, http: Http, shared_dir: Path
) -> None:
    good = Reply(200, case.body(shared_dir), {"Content-Type": "application/json"})
    server.route(case.path, Reply(200, good.body, good.headers, delay=1.0), good)
    result = await case.source(server).poll(http, None)
    assert result.mentions


async def test_a_malformed_body_fails_the_poll(case: Case, server: Server, http: Http) -> None:
    body = b"<html>oops" if case.kind == "feed" else b'{"posts": [{"uri": '
    server.route(case.path, Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(BadResponse):
        await case.source(server).poll(http, None)
    assert len(server.to(case.path)) == 1  # not retried: the same answer would come back


async def test_a_wrong_shape_fails_the_poll(case: Case, server: Server, http: Http) -> None:
    server.route(case.path, Reply.json({"unexpected": True}))
    with pytest.raises(BadResponse):
        await case.source(server).poll(http, None)


async def test_rate_limited_and_forbidden(case: Case, server: Server, http: Http) -> None:
    server.route(case.path, Reply.json({"error": "Too many requests"}, 429))
    with pytest.raises(RateLimited):
        await case.source(server).poll(http, None)
    server.route(case.path, Reply.json({"error": "Forbidden"}, 403))
    with pytest.raises(Unavailable, match="Forbidden"):
        await case.source(server).poll(http, None)
