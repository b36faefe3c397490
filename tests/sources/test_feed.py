"""RSS/Atom feeds: the real Google Alerts feed, conditional GET, redirect links unwrapped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.sources.helpers import FIXTURES, source_config
from tests.sources.server import Reply, Request, Server
from tui.sources import BadResponse, Http, build_source
from tui.sources.base import load_cursor
from tui.sources.feed import FeedSource, unwrap_redirect

ALERTS = "/alerts/feeds/04175468913983673025/4428013283581841004"
ETAG = '"alerts-v1"'
MODIFIED = "Wed, 10 Jul 2019 11:53:37 GMT"


def feed(server: Server, path: str = ALERTS) -> FeedSource:
    source = build_source(source_config("feed", "", "alerts", url=server.url + path), {})
    assert isinstance(source, FeedSource)
    return source


def alerts_xml(shared_dir: Path) -> bytes:
    return (
        shared_dir / "fixtures" / "api" / "google_alerts_atom_slack_2019-07-10.xml"
    ).read_bytes()


def conditional(body: bytes) -> object:
    def answer(request: Request) -> Reply:
        if request.headers.get("if-none-match") == ETAG:
            return Reply(304, b"", {"ETag": ETAG})
        headers = {"Content-Type": "application/atom+xml", "ETag": ETAG, "Last-Modified": MODIFIED}
        return Reply(200, body, headers)

    return answer


async def test_google_alerts_entries_are_mapped(
    server: Server, http: Http, shared_dir: Path
) -> None:
    server.route(
        ALERTS, Reply(200, alerts_xml(shared_dir), {"Content-Type": "application/atom+xml"})
    )
    result = await feed(server).poll(http, None)
    assert len(result.mentions) == 20
    stock = next(m for m in result.mentions if "Compelling Story" in m.text)
    assert stock.external_id == "tag:google.com,2013:googlealerts/feed:13685523368333461374"
    assert stock.text == (
        "Slack Stock Has a Compelling Story and the Numbers to Back It Up\n\n"
        "In the run up to the IPO for Slack Technologies Inc (NYSE:WORK), much of the news "
        "coverage centered on the Company's decision to go public via ..."
    )
    assert stock.url == "https://investorplace.com/2019/07/slack-stock-truly-compelling/"
    assert stock.author == ""
    assert stock.created_at == datetime(2019, 7, 10, 11, 46, 48, tzinfo=UTC)
    assert stock.language is None
    assert all(
        "<b>" not in m.text and "google.com/url" not in (m.url or "") for m in result.mentions
    )
    assert [m.created_at for m in result.mentions] == sorted(m.created_at for m in result.mentions)


async def test_conditional_get_and_seen_entries(
    server: Server, http: Http, shared_dir: Path
) -> None:
    server.route(ALERTS, conditional(alerts_xml(shared_dir)))
    source = feed(server)
    first = await source.poll(http, None)
    second = await source.poll(http, first.cursor)
    assert len(first.mentions) == 20 and second.mentions == []
    assert second.cursor == first.cursor
    request = server.to(ALERTS)[1]
    assert request.headers["if-none-match"] == ETAG
    assert request.headers["if-modified-since"] == MODIFIED
    # A server that ignores conditional requests: seen entries are still not repeated.
    server.route(
        ALERTS, Reply(200, alerts_xml(shared_dir), {"Content-Type": "application/atom+xml"})
    )
    third = await source.poll(http, json_without_etag(first.cursor))
    assert third.mentions == []


def json_without_etag(cursor: str | None) -> str:
    import json

    state = load_cursor(cursor)
    state.pop("etag"), state.pop("modified")
    return json.dumps(state)


async def test_rss_with_language_and_author(server: Server, http: Http) -> None:
    server.route("/reviews.xml", Reply(200, (FIXTURES / "reviews_rss.xml").read_bytes()))
    result = await feed(server, "/reviews.xml").poll(http, None)
    assert [m.external_id for m in result.mentions] == ["review-9000", "review-9001"]
    crushed = result.mentions[1]
    assert crushed.text == (
        "Two stars: parcel arrived crushed\n\n"
        "The box was crushed and Acme's support took a week to reply."
    )
    assert crushed.author == "Sam P."
    assert crushed.language == "en-gb"
    assert crushed.url == "https://reviews.example/acme/r/9001"
    assert crushed.created_at == datetime(2025, 3, 4, 9, 15, tzinfo=UTC)


async def test_a_body_that_is_not_a_feed_fails_the_poll(server: Server, http: Http) -> None:
    """(A feed with XML errors still yields what feedparser's lenient parser recovers.)"""
    server.route(
        ALERTS, Reply(200, b"<html><body>Sign in to continue", {"Content-Type": "text/html"})
    )
    with pytest.raises(BadResponse, match="malformed feed"):
        await feed(server).poll(http, None)


async def test_an_empty_entry_is_skipped_and_an_entry_without_id_gets_one_from_its_text(
    server: Server, http: Http
) -> None:
    """What a lenient parser recovers from a broken body can be an entry with nothing in it:
    it is no mention. An entry with text but no id, link or title is one, with an id made
    from its text, the same at the next poll."""
    body = (
        b"<rss><channel><item></item><item><title> </title></item>"
        b"<item><description>Parcel lost again</description></item></channel></rss>"
    )
    server.route(ALERTS, Reply(200, body))
    result = await feed(server).poll(http, None)
    (only,) = result.mentions
    assert only.text == "Parcel lost again"
    assert only.external_id.startswith("sha256:") and len(only.external_id) == 7 + 64
    again = await feed(server).poll(http, result.cursor)
    assert again.mentions == []  # known by its id at the next poll
    server.route(ALERTS, Reply(200, b"\x00\x01<item>\xff\xfe</item>"))  # garbage
    with pytest.raises(BadResponse, match="malformed feed"):  # an error, not a healthy poll
        await feed(server).poll(http, None)


async def test_a_body_that_looks_like_a_path_is_not_opened(server: Server, http: Http) -> None:
    server.route(ALERTS, Reply(200, str(FIXTURES / "reviews_rss.xml").encode()))
    with pytest.raises(BadResponse):
        await feed(server).poll(http, None)


def test_google_redirect_links_are_unwrapped() -> None:
    wrapped = (
        "https://www.google.com/url?rct=j&sa=t&url=https://www.vox.com/2019/7/10/"
        "20688476/recode-daily&ct=ga&cd=CAIy&usg=AFQjCNE"
    )
    assert unwrap_redirect(wrapped) == "https://www.vox.com/2019/7/10/20688476/recode-daily"
    assert (
        unwrap_redirect("https://example.com/url?url=https://evil")
        == "https://example.com/url?url=https://evil"
    )
    assert unwrap_redirect("https://www.google.com/url?url=javascript:alert(1)").startswith(
        "https://www.google"
    )
