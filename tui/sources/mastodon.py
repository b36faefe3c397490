"""Mastodon: hashtag timelines, optional full-text search, optional live streaming.

Polling pages *forward* with ``min_id`` (the ``Link`` header's ``rel="prev"`` page), oldest
slice first, until a page comes back empty: ``since_id`` would return the newest items and
silently skip the middle of a burst. The cursor keeps the highest id seen per timeline
(``{"tag:foo": "1170...", "search": "..."}``); ids are compared as numbers.

With ``stream = true`` the hashtags are also followed over server-sent events
(``/api/v1/streaming/hashtag``, which needs a user token): ``update`` adds a mention,
``status.update`` replaces its text (the old text is kept as a version), ``delete`` marks it
deleted. A dropped stream reconnects; what it missed meanwhile the next poll brings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from tui.config import SourceConfig
from tui.core.format import reach_counts
from tui.core.model import IncomingMention, utcnow
from tui.core.text import html_to_text
from tui.sources.base import PollResult, Source, as_raw, dump_cursor, load_cursor, parse_iso
from tui.sources.http import (
    BadResponse,
    Http,
    NeedsCredentials,
    SourceError,
    Unavailable,
    iter_sse,
)

PAGE = 40
"""Statuses per request (the API's maximum)."""
MAX_PAGES = 10
"""Pages per timeline per poll; the rest comes next poll."""


class MastodonSource(Source):
    kind = "mastodon"

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        super().__init__(config, env)
        self.hashtags = tuple(
            t.lstrip("#") for t in self._list_option("hashtags", example='["acme"]')
        )
        self.search = self._str_option("search")
        self.streaming = self._bool_option("stream")
        if not self.hashtags and not self.search:
            raise self._config_error(
                "hashtags", "nothing to follow", 'add hashtags = ["acme"] or search = "acme"'
            )
        token_hint = 'add token_env = "MASTODON_TOKEN" (an access token with read scope)'
        if (self.search or self.streaming) and not self.config.options.get("token_env"):
            key = "search" if self.search else "stream"
            raise self._config_error(key, "needs an access token", token_hint)
        if self.streaming and not self.hashtags:
            raise self._config_error(
                "stream", "streams hashtags, and none are set", 'add hashtags = ["acme"]'
            )

    def _headers(self) -> dict[str, str]:
        token = self._credential("token_env")
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- polling ----------------------------------------------------------------------------

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        headers = self._headers()
        positions = load_cursor(cursor)
        timelines = [
            (f"tag:{tag}", f"/api/v1/timelines/tag/{quote(tag, safe='')}", {})
            for tag in self.hashtags
        ]
        if self.search:
            timelines.append(("search", "/api/v2/search", {"q": self.search, "type": "statuses"}))
        found: dict[str, IncomingMention] = {}
        for key, path, params in timelines:
            statuses, positions[key] = await self._timeline(
                http, path, params, headers, positions.get(key)
            )
            for status in statuses:
                mention = self.mention(status)
                found.setdefault(mention.external_id, mention)
        mentions = sorted(found.values(), key=lambda m: (m.created_at, int(m.external_id)))
        return PollResult(mentions, dump_cursor(positions), rate=http.rate)

    async def _timeline(
        self,
        http: Http,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        min_id: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Statuses above ``min_id`` (the newest page when None) and the new position."""
        collected: list[dict[str, Any]] = []
        first_poll = min_id is None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE)}
            if min_id:
                query["min_id"] = min_id
            response = await http.request(
                "GET", self.config.base_url + path, params=query, headers=headers
            )
            body = http.json(response)
            page = body.get("statuses") if isinstance(body, dict) else body
            if not isinstance(page, list) or not all(_is_status(s) for s in page):
                raise BadResponse(f"unexpected response shape from {path}")
            if not page:
                break
            collected.extend(page)
            newest = max((str(s["id"]) for s in page), key=int)
            linked = _prev_min_id(response)
            min_id = linked if linked and int(linked) >= int(newest) else newest
            if first_poll or len(page) < PAGE:
                break
        return collected, min_id

    def mention(self, status: dict[str, Any]) -> IncomingMention:
        """A status (or the post it boosts) as a mention; its reach is the post's counts and
        its author's followers."""
        post = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        text = html_to_text(str(post.get("content") or ""))
        warning = str(post.get("spoiler_text") or "").strip()
        if warning:
            text = f"{warning}\n\n{text}" if text else warning
        account = post.get("account") if isinstance(post.get("account"), dict) else {}
        language = post.get("language")
        reach = {
            "followers": account.get("followers_count"),
            "reposts": post.get("reblogs_count"),
            "likes": post.get("favourites_count"),
            "replies": post.get("replies_count"),
        }
        return IncomingMention(
            source=self.name,
            external_id=str(status["id"]),
            text=text,
            author=str(account.get("acct") or account.get("username") or ""),
            url=post.get("url") or post.get("uri"),
            created_at=parse_iso(post.get("created_at")) or utcnow(),
            language=language if isinstance(language, str) and language else None,
            raw=as_raw(status),
            reach=reach_counts(reach),
        )

    async def check(self, http: Http) -> str:
        headers = self._headers()
        base = self.config.base_url
        details = []
        if headers:
            app = await http.get_json(f"{base}/api/v1/apps/verify_credentials", headers=headers)
            details.append(f"token valid (app {app.get('name', '?')!r})")
        if self.hashtags:
            tag = self.hashtags[0]
            await http.get_json(
                f"{base}/api/v1/timelines/tag/{quote(tag, safe='')}",
                params={"limit": "1"},
                headers=headers,
            )
            details.append(f"#{tag} readable")
        if self.search:
            await http.get_json(
                f"{base}/api/v2/search",
                params={"q": self.search, "type": "statuses", "limit": "1"},
                headers=headers,
            )
            details.append("search works")
        return ", ".join(details)

    # -- streaming --------------------------------------------------------------------------

    async def stream(self, http: Http, out: asyncio.Queue[PollResult]) -> None:
        root = await self._streaming_root(http)
        async with asyncio.TaskGroup() as group:
            for tag in self.hashtags:
                group.create_task(self._follow(http, root, tag, out))

    async def _streaming_root(self, http: Http) -> str:
        """The streaming server, which may be another host (``configuration.urls.streaming``)."""
        try:
            instance = await http.get_json(f"{self.config.base_url}/api/v2/instance")
            url = instance["configuration"]["urls"]["streaming"]
        except (SourceError, KeyError, TypeError):
            return self.config.base_url
        if not isinstance(url, str) or not url:
            return self.config.base_url
        return url.replace("wss://", "https://", 1).replace("ws://", "http://", 1).rstrip("/")

    async def _follow(
        self, http: Http, root: str, tag: str, out: asyncio.Queue[PollResult]
    ) -> None:
        """One hashtag's stream, reconnected with backoff whenever it drops."""
        attempt = 0
        url = f"{root}/api/v1/streaming/hashtag"
        while True:
            asked: datetime | None = None
            try:
                async with http.stream(
                    "GET", url, params={"tag": tag}, headers=self._headers()
                ) as response:
                    async for event in iter_sse(response):
                        attempt = 0
                        result = self._event(event.event, event.data)
                        if result is not None:
                            await out.put(result)
            except (NeedsCredentials, Unavailable):
                raise  # reconnecting will not help
            except SourceError as error:
                asked = error.retry_at
            delay = http.backoff.delay(attempt)
            if asked is not None:
                delay = max(delay, (asked - utcnow()).total_seconds())
            await http.backoff.sleep(delay)
            attempt += 1

    def _event(self, name: str, data: str) -> PollResult | None:
        if name == "delete":
            return PollResult((), None, deletions=(data.strip().strip('"'),))
        if name not in ("update", "status.update"):
            return None
        try:
            status = json.loads(data)
            if not _is_status(status):
                raise ValueError("not a status")
            mention = replace(self.mention(status), raw=data.encode("utf-8", "surrogatepass"))
        except (ValueError, KeyError, TypeError):
            return PollResult((), None, warnings=(f"malformed {name} event skipped",))
        if name == "update":
            return PollResult((mention,), None)
        return PollResult((), None, edits=(mention,))


def _is_status(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("id", "")).isdigit()


def _prev_min_id(response: httpx.Response) -> str | None:
    """``min_id`` of the ``Link: <...>; rel="prev"`` page (only the id: the link's host is not
    trusted with the token)."""
    link = response.links.get("prev", {}).get("url")
    if not link:
        return None
    value = httpx.URL(link).params.get("min_id")
    return value if value and value.isdigit() else None
