"""RSS and Atom feeds (Google Alerts, review sites, blogs), parsed by feedparser.

A feed has no server-side cursor: it holds its latest entries. Each poll is a conditional GET
(``If-None-Match``/``If-Modified-Since`` from the last answer, so an unchanged feed costs a
304) and the cursor keeps the ids of entries already seen. Google Alerts links go through
``https://www.google.com/url?...&url=<target>``; the target is taken out.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx

from tui.config import SourceConfig
from tui.core.model import IncomingMention, utcnow
from tui.core.text import html_to_text
from tui.sources.base import PollResult, Source, dump_cursor, load_cursor
from tui.sources.http import BadResponse, Http

SEEN_LIMIT = 500
_GOOGLE = re.compile(r"(?:^|\.)google\.[a-z]{2,3}(?:\.[a-z]{2})?$")


def unwrap_redirect(url: str) -> str:
    """The target of a ``google.*/url?...&url=<target>`` redirect link; other URLs unchanged."""
    parts = urlsplit(url)
    if parts.path != "/url" or not _GOOGLE.search(parts.hostname or ""):
        return url
    query = parse_qs(parts.query)
    for key in ("url", "q"):
        target = query.get(key, [""])[0]
        if target.startswith(("https://", "http://")):
            return target
    return url


class FeedSource(Source):
    kind = "feed"

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        super().__init__(config, env)
        url = str(self._str_option("url", required=True, example="https://example.com/feed.xml"))
        if url.startswith("/") and config.base_url:
            url = config.base_url + url
        if not url.startswith(("https://", "http://")):
            raise self._config_error(
                "url", f"not an http(s) URL: {url!r}", "give the feed's full URL"
            )
        self.url = url

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        state = load_cursor(cursor)
        headers = {}
        if isinstance(state.get("etag"), str):
            headers["If-None-Match"] = state["etag"]
        if isinstance(state.get("modified"), str):
            headers["If-Modified-Since"] = state["modified"]
        response = await http.request("GET", self.url, headers=headers)
        if response.status_code == 304:
            return PollResult([], cursor, rate=http.rate)
        parsed = await _parse(response)
        language = parsed.feed.get("language")
        seen: list[str] = [s for s in state.get("seen", []) if isinstance(s, str)]
        known = set(seen)
        read = (self.mention(entry, language) for entry in parsed.entries)
        current = [mention for mention in read if mention is not None]
        _refuse_garbage(parsed, current)  # (garbage of which the parser made empty items)
        fresh = {m.external_id: m for m in current if m.external_id not in known}
        ids = list(dict.fromkeys(m.external_id for m in current))
        next_state = {
            "etag": response.headers.get("etag"),
            "modified": response.headers.get("last-modified"),
            "seen": (ids + [s for s in seen if s not in set(ids)])[:SEEN_LIMIT],
        }
        mentions = sorted(fresh.values(), key=lambda m: m.created_at)
        return PollResult(mentions, dump_cursor(next_state), rate=http.rate)

    def mention(self, entry: Any, feed_language: str | None = None) -> IncomingMention | None:
        """The entry as a mention; None for an entry with nothing in it (no text, no link:
        what a lenient parser recovers from a body that is not a feed)."""
        title = html_to_text(entry.get("title", ""))
        contents = entry.get("content") or []
        body = contents[0].get("value", "") if contents else entry.get("summary", "")
        body = html_to_text(body)
        text = "\n\n".join(part for part in dict.fromkeys((title, body)) if part)
        link = entry.get("link")
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        language = (contents[0].get("language") if contents else None) or feed_language
        if not text.strip() and not link:
            return None
        # An entry without an id, a link or a title gets one made from its text, so the
        # next poll knows it: never an empty id.
        external_id = entry.get("id") or link or title
        if not external_id:
            external_id = (
                "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            )
        return IncomingMention(
            source=self.name,
            external_id=str(external_id),
            text=text,
            author=str(entry.get("author") or ""),
            url=unwrap_redirect(link) if link else None,
            created_at=datetime(*moment[:6], tzinfo=UTC) if moment else utcnow(),
            language=language or None,
            raw=json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"),
        )

    async def check(self, http: Http) -> str:
        parsed = await _parse(await http.request("GET", self.url))
        title = parsed.feed.get("title") or "untitled"
        return f"feed {title!r} readable ({len(parsed.entries)} entries)"


async def _parse(response: httpx.Response) -> Any:
    """feedparser's reading of a response body (given as a stream: feedparser would take a
    string or bytes that look like a path or URL as one, and open it)."""
    parsed = await asyncio.to_thread(
        feedparser.parse, io.BytesIO(response.content), response_headers=dict(response.headers)
    )
    _refuse_garbage(parsed, parsed.entries)
    return parsed


def _refuse_garbage(parsed: Any, entries: Sequence[Any]) -> None:
    """``BadResponse`` for a body feedparser could not read (``bozo``) and found no usable
    entries in: a broken feed still gives what the lenient parser recovers."""
    if parsed.get("bozo") and not entries:
        problem = parsed.get("bozo_exception") or "not RSS or Atom"
        raise BadResponse(f"malformed feed: {problem}")
