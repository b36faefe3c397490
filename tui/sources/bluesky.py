"""Bluesky: ``app.bsky.feed.searchPosts`` with ``sort=latest`` and ``since``.

Search needs an account (unauthenticated search was switched off in 2025, and a 403 then
means "unavailable", never "no results"): ``handle_env``/``password_env`` name the variables
holding a handle and an *app password*. The session from ``com.atproto.server.createSession``
is kept in memory (never stored) and renewed with ``refreshSession`` when it expires;
``createSession`` itself is limited to 30 calls per 5 minutes.

There is no ``since_id``. ``since`` filters on ``sortAt`` (the earlier of ``createdAt`` and
``indexedAt``) and results are not strictly ordered, so each poll asks from a few minutes
before the newest ``sortAt`` seen and drops the posts already seen (the cursor keeps their
URIs). ``createdAt`` is set by the client and can be absurd (year 0000, far future): such a
time is replaced by ``indexedAt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.config import SourceConfig
from tui.core.format import reach_counts
from tui.core.model import IncomingMention, iso, utcnow
from tui.sources.base import (
    PollResult,
    Source,
    advance_window,
    as_raw,
    dump_cursor,
    load_cursor,
    parse_iso,
)
from tui.sources.http import BadResponse, Http, NeedsCredentials, SourceError

PAGE = 100
MAX_PAGES = 5
OVERLAP = timedelta(minutes=5)
"""How far before the newest ``sortAt`` seen each poll asks again (indexing lag)."""
SEEN_LIMIT = 1000
EARLIEST = datetime(2022, 11, 1, tzinfo=UTC)
"""Posts dated before Bluesky's public start have a bogus ``createdAt``."""
FUTURE_SLACK = timedelta(minutes=10)


class BlueskySource(Source):
    kind = "bluesky"

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        super().__init__(config, env)
        self.query = str(self._str_option("query", required=True, example="acme"))
        if bool(config.options.get("handle_env")) != bool(config.options.get("password_env")):
            raise self._config_error(
                "handle_env", "handle_env and password_env go together", "set both or neither"
            )
        self._session: dict[str, str] | None = None

    # -- session ----------------------------------------------------------------------------

    async def _auth(self, http: Http) -> dict[str, str]:
        handle = self._credential("handle_env")
        password = self._credential("password_env")
        if handle is None or password is None:
            return {}
        if self._session is None:
            self._session = await self._create_session(http, handle, password)
        return {"Authorization": f"Bearer {self._session['accessJwt']}"}

    async def _create_session(self, http: Http, handle: str, password: str) -> dict[str, str]:
        http.add_secret(password)
        try:
            body = await http.post_json(
                f"{self.config.base_url}/xrpc/com.atproto.server.createSession",
                {"identifier": handle, "password": password},
            )
        except SourceError as error:
            if error.status in (400, 401):
                raise NeedsCredentials(f"login failed: {error}", status=error.status) from None
            raise
        return self._keep(http, body)

    async def _refresh(self, http: Http) -> None:
        assert self._session is not None
        try:
            body = await http.post_json(
                f"{self.config.base_url}/xrpc/com.atproto.server.refreshSession",
                None,
                headers={"Authorization": f"Bearer {self._session['refreshJwt']}"},
            )
        except SourceError:
            self._session = None  # log in again on the next request
            return
        self._session = self._keep(http, body)

    @staticmethod
    def _keep(http: Http, body: Any) -> dict[str, str]:
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("accessJwt", "refreshJwt")
        ):
            raise BadResponse("session response without tokens")
        http.add_secret(body["accessJwt"])
        http.add_secret(body["refreshJwt"])
        return {"accessJwt": body["accessJwt"], "refreshJwt": body["refreshJwt"]}

    async def _search(self, http: Http, params: dict[str, str]) -> Any:
        url = f"{self.config.base_url}/xrpc/app.bsky.feed.searchPosts"
        headers = await self._auth(http)
        try:
            return await http.get_json(url, params=params, headers=headers)
        except SourceError as error:
            expired = error.code == "ExpiredToken" or (error.status == 401 and headers)
            if not (expired and self._session):
                raise
        await self._refresh(http)
        return await http.get_json(url, params=params, headers=await self._auth(http))

    # -- polling ----------------------------------------------------------------------------

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        state = load_cursor(cursor)
        newest = parse_iso(state.get("since"))
        seen = {uri for uri in state.get("seen", []) if isinstance(uri, str)}
        asked = newest - OVERLAP if newest else None
        params = {"q": self.query, "sort": "latest", "limit": str(PAGE)}
        if asked is not None:
            params["since"] = iso(asked) or ""
        posts = await self._fetch(http, params, pages=MAX_PAGES if asked else 1)

        fresh: dict[str, IncomingMention] = {}
        window: dict[str, datetime] = {}
        for post in posts:
            mention, sort_at = self._mention(post)
            if mention is None or (asked is not None and sort_at < asked):
                continue  # before the window asked for: seen already, or a bogus answer
            window[mention.external_id] = sort_at
            if mention.external_id not in seen:
                fresh.setdefault(mention.external_id, mention)
        newest, keep = advance_window(newest, seen, window, OVERLAP)
        next_state = {"since": iso(newest), "seen": keep[:SEEN_LIMIT]} if newest else {}
        mentions = sorted(fresh.values(), key=lambda m: m.created_at)
        return PollResult(mentions, dump_cursor(next_state), rate=http.rate)

    async def _fetch(self, http: Http, params: dict[str, str], pages: int) -> list[dict[str, Any]]:
        """Posts of up to ``pages`` pages, following the response ``cursor``."""
        posts: list[dict[str, Any]] = []
        for _ in range(pages):
            body = await self._search(http, params)
            page = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise BadResponse("searchPosts response without posts")
            posts.extend(p for p in page if isinstance(p, dict) and isinstance(p.get("uri"), str))
            next_page = body.get("cursor")
            if not page or not isinstance(next_page, str) or not next_page:
                break
            params = {**params, "cursor": next_page}
        return posts

    def _mention(self, post: dict[str, Any]) -> tuple[IncomingMention | None, datetime]:
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        author = post.get("author") if isinstance(post.get("author"), dict) else {}
        indexed = parse_iso(post.get("indexedAt"))
        created = parse_iso(record.get("createdAt"))
        now = utcnow()
        if created is None or created < EARLIEST or created > (indexed or now) + FUTURE_SLACK:
            created = indexed
        if created is None or created > now + FUTURE_SLACK:
            return None, now
        sort_at = min(created, indexed) if indexed else created
        uri = str(post["uri"])
        handle = author.get("handle")
        if not isinstance(handle, str) or handle in ("", "handle.invalid"):
            handle = author.get("did") or uri.removeprefix("at://").split("/", 1)[0]
        langs = record.get("langs")
        language = (
            langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        )
        mention = IncomingMention(
            source=self.name,
            external_id=uri,
            text=str(record.get("text") or ""),
            author=str(handle),
            url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
            created_at=created,
            language=language,
            raw=as_raw(post),
            # Search results carry no follower counts of the author.
            reach=reach_counts(
                {
                    "likes": post.get("likeCount"),
                    "reposts": post.get("repostCount"),
                    "replies": post.get("replyCount"),
                    "quotes": post.get("quoteCount"),
                }
            ),
        )
        return mention, sort_at

    async def check(self, http: Http) -> str:
        body = await self._search(http, {"q": self.query, "sort": "latest", "limit": "1"})
        who = "logged in" if self._session else "without login"
        count = len(body.get("posts", [])) if isinstance(body, dict) else 0
        return f"search works ({who}, {count} recent post{'s' if count != 1 else ''})"
