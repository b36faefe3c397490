"""Reddit search: public JSON or OAuth, newest first, stop at the first post seen."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.sources.helpers import fixture, source_config, stored_reach
from tests.sources.server import Reply, Request, Server
from tui.sources import Http, NeedsCredentials, build_source
from tui.sources.base import load_cursor
from tui.sources.reddit import RedditSource
from tui.store import Store

SECRET = "reddit-client-secret-xyz"
ENV = {"REDDIT_ID": "my-client-id", "REDDIT_SECRET": SECRET}
RATE = {"x-ratelimit-remaining": "151.0", "x-ratelimit-used": "49", "x-ratelimit-reset": "230"}


def reddit(server: Server, env: dict[str, str] | None = None, **options: Any) -> RedditSource:
    if env:
        options.update(client_id_env="REDDIT_ID", client_secret_env="REDDIT_SECRET")
    config = source_config("reddit", server.url, "rd", query="acme", **options)
    source = build_source(config, env or {})
    assert isinstance(source, RedditSource)
    return source


def listing(posts: list[dict[str, Any]], after: str | None = None) -> Reply:
    return Reply.json(
        {"kind": "Listing", "data": {"after": after, "before": None, "children": posts}},
        headers=RATE,
    )


def post(n: int, created: float) -> dict[str, Any]:
    data = dict(fixture("reddit_search.json")["data"]["children"][0]["data"])
    data.update(id=f"n{n}", name=f"t3_n{n}", title=f"acme post {n}", created_utc=created)
    return {"kind": "t3", "data": data}


async def test_public_search_is_mapped(server: Server, http: Http) -> None:
    server.route("/search.json", Reply.json(fixture("reddit_search.json"), headers=RATE))
    result = await reddit(server).poll(http, None)
    (request,) = server.requests
    assert request.query == {"q": "acme", "sort": "new", "limit": "100", "raw_json": "1"}
    assert request.headers["user-agent"].startswith("python:mention-triage/")
    assert [m.external_id for m in result.mentions] == ["t3_1j3aaa", "t3_1j3bbb", "t3_1j3ccc"]
    refund = result.mentions[2]
    assert refund.author == "[deleted]"
    assert refund.text == "Acme refund still missing\n\nThree weeks & counting. <b>Not</b> great."
    assert refund.url == "https://www.reddit.com/r/acme/comments/1j3ccc/acme_refund_still_missing/"
    assert refund.created_at == datetime.fromtimestamp(1741083600, UTC)
    assert refund.language is None
    assert json.loads(refund.raw)["subreddit"] == "acme"
    assert result.rate is not None and result.rate.remaining == "151"
    assert load_cursor(result.cursor)["seen"][0] == "t3_1j3ccc"


async def test_subreddits_restrict_the_search(server: Server, http: Http) -> None:
    server.route("/r/acme+techsupport/search.json", listing([]))
    await reddit(server, subreddits=["acme", "r/techsupport"]).poll(http, None)
    assert server.requests[0].query["restrict_sr"] == "1"


async def test_stops_at_the_first_post_already_seen(server: Server, http: Http) -> None:
    page = fixture("reddit_search.json")["data"]["children"]
    server.route("/search.json", listing(page), listing([post(1, 1741090000.0), *page], "t3_zz"))
    source = reddit(server)
    first = await source.poll(http, None)
    second = await source.poll(http, first.cursor)
    assert [m.external_id for m in second.mentions] == ["t3_n1"]
    assert len(server.requests) == 2  # caught up on the first page: no second page asked
    cursor = load_cursor(second.cursor)
    assert cursor["newest"] == 1741090000.0
    assert cursor["seen"][:2] == ["t3_n1", "t3_1j3ccc"]


async def test_pages_back_until_caught_up(server: Server, http: Http) -> None:
    burst = [post(n, 1741090000.0 + n) for n in range(150, 0, -1)]

    def search(request: Request) -> Reply:
        if request.query.get("after") == "t3_n51":
            return listing(burst[100:] + fixture("reddit_search.json")["data"]["children"])
        return listing(burst[:100], after="t3_n51")

    server.route("/search.json", search)
    cursor = json.dumps({"newest": 1741083600.0, "seen": ["t3_1j3ccc"]})
    result = await reddit(server).poll(http, cursor)
    assert len(result.mentions) == 150
    assert [r.query.get("after") for r in server.requests] == [None, "t3_n51"]


async def test_oauth_client_credentials(server: Server, http: Http) -> None:
    server.route("/api/v1/access_token", Reply.json(fixture("reddit_token.json")), method="POST")
    server.route("/search", listing([]))
    source = reddit(server, ENV)
    await source.poll(http, None)
    await source.poll(http, None)
    (sign_in,) = server.to("/api/v1/access_token")  # one sign-in for both polls
    expected = base64.b64encode(f"my-client-id:{SECRET}".encode()).decode()
    assert sign_in.headers["authorization"] == f"Basic {expected}"
    assert sign_in.body == b"grant_type=client_credentials"
    searches = server.to("/search")
    assert len(searches) == 2
    assert searches[0].headers["authorization"] == "Bearer reddit-app-token-1234567890"


async def test_a_revoked_token_is_replaced_once(server: Server, http: Http) -> None:
    server.route("/api/v1/access_token", Reply.json(fixture("reddit_token.json")), method="POST")
    server.route("/search", Reply.json({"message": "Unauthorized", "error": 401}, 401), listing([]))
    await reddit(server, ENV).poll(http, None)
    assert len(server.to("/api/v1/access_token")) == 2


async def test_refused_credentials_need_credentials_without_the_secret(
    server: Server, http: Http
) -> None:
    server.route(
        "/api/v1/access_token", Reply.json({"error": "invalid_client"}, 401), method="POST"
    )
    with pytest.raises(NeedsCredentials, match="invalid_client") as raised:
        await reddit(server, ENV).poll(http, None)
    assert SECRET not in str(raised.value)


# -- reach ------------------------------------------------------------------------------------


async def test_reach_is_the_score_and_the_comments(server: Server, http: Http) -> None:
    server.route("/search.json", Reply.json(fixture("reddit_search.json"), headers=RATE))
    result = await reddit(server).poll(http, None)
    assert [m.reach for m in result.mentions] == [{"score": 3, "comments": 1}] * 3


def test_a_comment_has_a_score_and_garbage_is_dropped() -> None:
    source = RedditSource(source_config("reddit", "http://unused", query="acme"), {})
    base = post(1, 1741090000.0)["data"]
    comment = {k: v for k, v in base.items() if k not in ("title", "num_comments")}
    comment.update(name="t1_c1", body="acme support fixed it", score=12)
    assert source.mention(comment).reach == {"score": 12}
    assert source.mention(dict(base, score=-4, num_comments="12")).reach is None
    assert source.mention(dict(base, score=None, num_comments=2.0)).reach is None
    assert source.mention(dict(base, score=True, num_comments=0)).reach == {"comments": 0}


async def test_reach_of_a_found_post_is_stored(
    server: Server, client: httpx.AsyncClient, store: Store
) -> None:
    found = post(1, 1741090000.0)
    found["data"].update(score=1204, num_comments=31)
    server.route("/search.json", listing([found]))
    source = reddit(server)
    assert await stored_reach(store, client, source) == {"score": 1204, "comments": 31}
