"""The shared HTTP layer against a real loopback server: retries, backoff, errors, scrubbing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.sources.helpers import FAST
from tests.sources.server import Reply, Server
from tui.sources import (
    Backoff,
    BadResponse,
    Http,
    NeedsCredentials,
    RateLimited,
    SourceError,
    Unavailable,
)
from tui.sources.http import iter_sse, rate_info, retry_after

OK = Reply.json({"ok": True})


class Sleeps:
    """A ``Backoff.sleep`` that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def recording(sleeps: Sleeps, **options: float) -> Backoff:
    return Backoff(
        attempts=int(options.get("attempts", 3)),
        base=0.001,
        cap=0.01,
        max_wait=options.get("max_wait", 60.0),
        sleep=sleeps,
        jitter=lambda: 0.5,
    )


async def test_server_errors_are_retried_until_success(server: Server, http: Http) -> None:
    server.route("/x", Reply.json({"error": "boom"}, 500), Reply(502, b"bad gateway"), OK)
    assert await http.get_json(server.url + "/x") == {"ok": True}
    assert len(server.to("/x")) == 3


async def test_retry_after_is_honoured(server: Server, client: httpx.AsyncClient) -> None:
    sleeps = Sleeps()
    http = Http(client, source="t", backoff=recording(sleeps))
    server.route(
        "/x", Reply.json({"error": "Too many requests"}, 429, headers={"Retry-After": "7"}), OK
    )
    assert await http.get_json(server.url + "/x") == {"ok": True}
    assert len(sleeps.waits) == 1
    assert 7.0 <= sleeps.waits[0] <= 7.01


async def test_rate_limit_reset_header_is_honoured(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Reddit's reset is seconds to the window's end, its remaining a float string."""
    sleeps = Sleeps()
    http = Http(client, source="t", backoff=recording(sleeps))
    limited = Reply.json(
        {"message": "Too Many Requests", "error": 429},
        429,
        headers={
            "x-ratelimit-remaining": "0.0",
            "x-ratelimit-used": "100",
            "x-ratelimit-reset": "12",
        },
    )
    server.route("/x", limited, Reply.json({"ok": 1}, headers={"x-ratelimit-remaining": "99.0"}))
    await http.get_json(server.url + "/x")
    assert 11.5 <= sleeps.waits[0] <= 12.5
    assert http.rate is not None and http.rate.remaining == "99"


async def test_a_wait_longer_than_allowed_gives_up_with_the_time_to_retry(
    server: Server, client: httpx.AsyncClient
) -> None:
    sleeps = Sleeps()
    http = Http(client, source="t", backoff=recording(sleeps, max_wait=30))
    server.route("/x", Reply.json({"error": "slow down"}, 429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as raised:
        await http.get_json(server.url + "/x")
    assert sleeps.waits == []
    assert len(server.to("/x")) == 1
    assert "slow down" in str(raised.value)
    assert raised.value.retry_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=3600)
    assert abs((raised.value.retry_at - expected).total_seconds()) < 5


async def test_persistent_429_is_rate_limited(server: Server, http: Http) -> None:
    server.route("/x", Reply.json({"error": "Too many requests"}, 429))
    with pytest.raises(RateLimited, match=r"429.*Too many requests.*3 tries"):
        await http.get_json(server.url + "/x")
    assert len(server.to("/x")) == FAST.attempts


async def test_backoff_grows_with_full_jitter() -> None:
    backoff = Backoff(base=1.0, cap=8.0, jitter=lambda: 1.0)
    assert [backoff.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert Backoff(jitter=lambda: 0.0).delay(3) == 0.0
    assert Backoff(jitter=lambda: 0.5).delay(0, asked=10.0) == 10.5


async def test_a_slow_answer_times_out_and_is_retried(server: Server, http: Http) -> None:
    server.route("/x", Reply.json({"late": True}, delay=1.5), OK)
    assert await http.get_json(server.url + "/x") == {"ok": True}


async def test_a_server_that_never_answers_in_time_fails_the_request(
    server: Server, http: Http
) -> None:
    server.route("/x", Reply.json({"late": True}, delay=1.5))
    with pytest.raises(SourceError, match="timed out"):
        await http.get_json(server.url + "/x")


async def test_a_truncated_body_is_retried(server: Server, http: Http) -> None:
    server.route("/x", Reply.json({"statuses": ["x" * 200]}, truncate=True), OK)
    assert await http.get_json(server.url + "/x") == {"ok": True}


async def test_invalid_json_fails_without_retrying(server: Server, http: Http) -> None:
    server.route("/x", Reply(200, b'{"statuses": [', {"Content-Type": "application/json"}))
    with pytest.raises(BadResponse, match="malformed JSON"):
        await http.get_json(server.url + "/x")
    assert len(server.to("/x")) == 1


async def test_401_needs_credentials_and_403_is_unavailable_with_the_servers_words(
    server: Server, http: Http
) -> None:
    server.route("/a", Reply.json({"error": "The access token is invalid"}, 401))
    server.route(
        "/b",
        Reply.json(
            {"error": "InvalidRequest", "message": "Request forbidden by administrative rules"}, 403
        ),
    )
    with pytest.raises(NeedsCredentials, match=r"401.*The access token is invalid"):
        await http.get_json(server.url + "/a")
    with pytest.raises(Unavailable, match="forbidden by administrative rules") as raised:
        await http.get_json(server.url + "/b")
    assert raised.value.status == 403
    assert raised.value.code == "InvalidRequest"
    assert len(server.requests) == 2


async def test_an_html_error_page_is_said_as_its_text(server: Server, http: Http) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>403 Forbidden</title><style>body{color:red}</style>"
        b"<script>var x = 1;</script></head><body><h1>Forbidden</h1><p>You are blocked.</p>"
        + b"<div>"
        + b"x" * 5000
        + b"</div></body></html>"
    )
    server.route("/c", Reply(403, page, {"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(Unavailable) as raised:
        await http.get_json(server.url + "/c")
    said = str(raised.value)
    assert ": Forbidden You are blocked. xxx" in said  # the words, not the head's title
    assert "<" not in said and "color:red" not in said and "var x" not in said


async def test_an_error_page_says_its_words_apart_whatever_its_tags(
    server: Server, http: Http
) -> None:
    nginx = (
        b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        b"</h1></center><hr><center>nginx</center></body></html>"
    )
    server.route("/n", Reply(403, nginx, {"Content-Type": "text/html"}))
    s3 = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
    server.route("/s", Reply(403, s3 + b"</Error>", {"Content-Type": "application/xml"}))
    styled = b"<html><head><style>" + b"p{color:red}" * 1000 + b"</style></head><p>Down</p>"
    server.route("/h", Reply(403, styled, {"Content-Type": "text/html"}))
    for path, words in (("/n", "502 Bad Gateway nginx"), ("/s", "AccessDenied Access Denied"),
                        ("/h", "Down")):  # fmt: skip
        with pytest.raises(Unavailable) as raised:
            await http.get_json(server.url + path)
        assert str(raised.value).endswith(f": {words}"), raised.value


async def test_secrets_are_scrubbed_from_messages(
    server: Server, client: httpx.AsyncClient
) -> None:
    token = "s3cret-token-value"
    http = Http(client, source="t", backoff=FAST, secrets=[token])
    http.add_secret("runtime-jwt-abcdef")
    server.route("/x", Reply.json({"error": f"bad token {token} / runtime-jwt-abcdef"}, 401))
    with pytest.raises(NeedsCredentials) as raised:
        await http.get_json(server.url + "/x", params={"access_token": token})
    message = str(raised.value)
    assert token not in message and "runtime-jwt-abcdef" not in message
    assert "***" in message
    assert "access_token" not in message  # query strings are left out of messages


def test_rate_info_reads_mastodon_and_reddit_headers() -> None:
    now = datetime(2026, 8, 1, 13, 59, tzinfo=UTC)
    mastodon = httpx.Response(
        200,
        headers={
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": "299",
            "x-ratelimit-reset": "2026-08-01T14:00:00.070144Z",
        },
    )
    info = rate_info(mastodon, now)
    assert info is not None and info.remaining == "299"
    assert info.reset_at == datetime(2026, 8, 1, 14, 0, 0, 70144, tzinfo=UTC)
    reddit = httpx.Response(
        200, headers={"x-ratelimit-remaining": "151.0", "x-ratelimit-reset": "230"}
    )
    info = rate_info(reddit, now)
    assert info is not None and info.remaining == "151"
    assert info.reset_at == now + timedelta(seconds=230)
    spent = httpx.Response(
        200, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2026-08-01T14:00:00Z"}
    )
    assert retry_after(spent, now) == 60.0
    assert retry_after(httpx.Response(503, headers={"Retry-After": "120"}), now) == 120.0
    assert retry_after(httpx.Response(500), now) is None


async def test_sse_examples_from_the_mastodon_docs_parse(shared_dir: Path) -> None:
    data = (shared_dir / "fixtures" / "api" / "streaming_sse_examples_from_docs.txt").read_bytes()
    response = httpx.Response(200, content=data, headers={"Content-Type": "text/event-stream"})
    events = [event async for event in iter_sse(response)]
    assert len(events) == 26
    assert {e.event for e in events} >= {"update", "delete", "status.update", "notification"}
    deletes = [e.data for e in events if e.event == "delete"]
    assert "108914430312582020" in deletes
    filters_changed = next(e for e in events if e.event == "filters_changed")
    assert filters_changed.data == "undefined"
