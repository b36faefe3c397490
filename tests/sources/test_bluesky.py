"""Bluesky searchPosts: session handling, mapping, incremental ``since``, 403 as unavailable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.sources.helpers import fixture, source_config, stored_reach
from tests.sources.server import Reply, Request, Server
from tui.sources import Http, NeedsCredentials, Unavailable, build_source
from tui.sources.base import load_cursor
from tui.sources.bluesky import BlueskySource
from tui.store import Store

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
PASSWORD = "abcd-efgh-ijkl-mnop"
ENV = {"BSKY_HANDLE": "monitor.bsky.social", "BSKY_PASSWORD": PASSWORD}


def bluesky(server: Server, env: dict[str, str] | None = ENV) -> BlueskySource:
    options: dict[str, Any] = {"query": "acme"}
    if env:
        options.update(handle_env="BSKY_HANDLE", password_env="BSKY_PASSWORD")
    source = build_source(source_config("bluesky", server.url, "sky", **options), env or {})
    assert isinstance(source, BlueskySource)
    return source


def session(n: int = 1) -> Reply:
    body = fixture("bluesky_session.json")
    body["accessJwt"] = body["accessJwt"].replace("one", str(n))
    body["refreshJwt"] = body["refreshJwt"].replace("one", str(n))
    return Reply.json(body)


async def test_posts_are_mapped_with_a_logged_in_session(server: Server, http: Http) -> None:
    server.route(LOGIN, session(), method="POST")
    server.route(SEARCH, Reply.json(fixture("bluesky_search_posts.json")))
    result = await bluesky(server).poll(http, None)

    (login,) = server.to(LOGIN)
    assert json.loads(login.body) == {"identifier": "monitor.bsky.social", "password": PASSWORD}
    (search,) = server.to(SEARCH)
    assert search.headers["authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.access-1.sig"
    assert search.query == {"q": "acme", "sort": "latest", "limit": "100"}

    by_rkey = {m.external_id.rsplit("/", 1)[1]: m for m in result.mentions}
    late = by_rkey["3lk2xyzlate"]
    assert late.external_id == "at://did:plc:aaa111/app.bsky.feed.post/3lk2xyzlate"
    assert late.author == "jo.bsky.social"
    assert late.text.startswith("@acme.com my order is 5 days late")
    assert late.url == "https://bsky.app/profile/jo.bsky.social/post/3lk2xyzlate"
    assert late.created_at == datetime(2025, 3, 4, 10, 20, tzinfo=UTC)
    assert late.language == "en"
    assert json.loads(late.raw)["cid"] == "bafyreib3lk2xyzlatecid"
    # An invalid handle: the URL uses the DID. No langs: no language.
    invalid = by_rkey["3lk2xyzinval"]
    assert invalid.url == "https://bsky.app/profile/did:plc:bbb222/post/3lk2xyzinval"
    assert invalid.language is None
    # A year-0000 createdAt is not believed: indexedAt stands in.
    assert by_rkey["3lk2xyzzero"].created_at == datetime(2025, 3, 4, 10, 5, tzinfo=UTC)
    assert by_rkey["3lk2xyzfr"].language == "fr"
    assert [m.created_at for m in result.mentions] == sorted(m.created_at for m in result.mentions)
    assert load_cursor(result.cursor)["since"] == "2025-03-04T10:20:00.000Z"


async def test_next_poll_asks_since_the_newest_and_drops_what_it_has_seen(
    server: Server, http: Http
) -> None:
    server.route(LOGIN, session(), method="POST")
    server.route(SEARCH, Reply.json(fixture("bluesky_search_posts.json")))
    source = bluesky(server)
    first = await source.poll(http, None)
    second = await source.poll(http, first.cursor)
    assert len(first.mentions) == 4
    assert second.mentions == []
    assert server.to(SEARCH)[1].query["since"] == "2025-03-04T10:15:00.000Z"  # 5 min overlap
    assert len(server.to(LOGIN)) == 1  # the session is reused


async def test_absurd_future_timestamps_are_replaced(server: Server, http: Http) -> None:
    body = fixture("bluesky_search_posts.json")
    body["posts"][0]["record"]["createdAt"] = "2999-01-01T00:00:00Z"
    server.route(SEARCH, Reply.json(body))
    result = await bluesky(server, env=None).poll(http, None)
    late = next(m for m in result.mentions if m.external_id.endswith("3lk2xyzlate"))
    assert late.created_at == datetime(2025, 3, 4, 10, 20, 1, 512000, tzinfo=UTC)


async def test_follows_the_cursor_within_one_poll(server: Server, http: Http) -> None:
    posts = fixture("bluesky_search_posts.json")["posts"]

    def search(request: Request) -> Reply:
        if request.query.get("cursor") == "page2":
            return Reply.json({"posts": posts[2:]})
        return Reply.json({"posts": posts[:2], "cursor": "page2"})

    server.route(SEARCH, search)
    since = json.dumps({"since": "2025-03-04T09:00:00.000Z", "seen": []})
    result = await bluesky(server, env=None).poll(http, since)
    assert len(result.mentions) == 4
    assert [r.query.get("cursor") for r in server.to(SEARCH)] == [None, "page2"]


async def test_an_expired_session_is_refreshed(server: Server, http: Http) -> None:
    server.route(LOGIN, session(1), method="POST")
    server.route(REFRESH, session(2), method="POST")
    expired = Reply.json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
    server.route(SEARCH, expired, Reply.json(fixture("bluesky_search_posts.json")))
    result = await bluesky(server).poll(http, None)
    assert len(result.mentions) == 4
    (refresh,) = server.to(REFRESH)
    assert refresh.headers["authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.refresh-1.sig"
    assert server.to(SEARCH)[-1].headers["authorization"].endswith("access-2.sig")


async def test_403_is_unavailable_not_an_empty_result(server: Server, http: Http) -> None:
    server.route(
        SEARCH,
        Reply.json(
            {"error": "InvalidRequest", "message": "Request forbidden by administrative rules"}, 403
        ),
    )
    with pytest.raises(Unavailable, match="Request forbidden by administrative rules"):
        await bluesky(server, env=None).poll(http, None)


async def test_a_refused_login_needs_credentials_and_never_shows_the_password(
    server: Server, http: Http
) -> None:
    refused = {"error": "AuthenticationRequired", "message": f"Invalid password {PASSWORD}"}
    server.route(LOGIN, Reply.json(refused, 401), method="POST")
    with pytest.raises(NeedsCredentials) as raised:
        await bluesky(server).poll(http, None)
    assert "Invalid password" in str(raised.value)
    assert PASSWORD not in str(raised.value)
    assert server.to(SEARCH) == []


# -- reach ------------------------------------------------------------------------------------


async def test_reach_comes_from_the_post_view(server: Server, http: Http) -> None:
    body = fixture("bluesky_search_posts.json")
    body["posts"][0].update(likeCount=80, repostCount=31, replyCount=4, quoteCount=2)
    server.route(SEARCH, Reply.json(body))
    result = await bluesky(server, env=None).poll(http, None)
    by_rkey = {m.external_id.rsplit("/", 1)[1]: m for m in result.mentions}
    assert by_rkey["3lk2xyzlate"].reach == {"likes": 80, "reposts": 31, "replies": 4, "quotes": 2}
    # Search results say nothing of the author's followers.
    assert by_rkey["3lk2xyzfr"].reach == {"likes": 1, "reposts": 0, "replies": 0, "quotes": 0}


async def test_garbage_reach_figures_are_dropped_never_an_error(server: Server, http: Http) -> None:
    body = fixture("bluesky_search_posts.json")
    body["posts"][0].update(likeCount="80", repostCount=-3, replyCount=None, quoteCount=1.5)
    body["posts"][1].update(likeCount=False, repostCount=10**15, replyCount=7, quoteCount={})
    body["posts"][1]["author"] = dict(body["posts"][1]["author"], followersCount=99)
    server.route(SEARCH, Reply.json(body))
    result = await bluesky(server, env=None).poll(http, None)
    by_rkey = {m.external_id.rsplit("/", 1)[1]: m for m in result.mentions}
    assert by_rkey["3lk2xyzlate"].reach is None
    assert by_rkey["3lk2xyzinval"].reach == {"replies": 7}


async def test_reach_of_a_found_post_is_stored(
    server: Server, client: httpx.AsyncClient, store: Store
) -> None:
    body = fixture("bluesky_search_posts.json")
    body["posts"] = [dict(body["posts"][0], likeCount=1204, repostCount=31)]
    server.route(SEARCH, Reply.json(body))
    source = bluesky(server, env=None)
    assert await stored_reach(store, client, source) == {
        "likes": 1204,
        "reposts": 31,
        "replies": 0,
        "quotes": 0,
    }
