"""Reddit search, newest first, stopping at the first post already seen.

With ``client_id_env``/``client_secret_env`` the source signs in with OAuth client
credentials (100 queries a minute) and searches ``oauth.reddit.com``; without them it reads
the public ``search.json`` (10 a minute, and often blocked). Either way requests carry a
descriptive User-Agent, as Reddit asks. ``X-Ratelimit-Remaining`` is a float string
(``"151.0"``) and ``X-Ratelimit-Reset`` the seconds left in the window.

The cursor keeps the newest ``created_utc`` and the names (``t3_...``) of recent posts: an
anchor such as ``before=t3_x`` stops working when that post is removed, a seen-set does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.config import SourceConfig
from tui.core.format import reach_counts
from tui.core.model import IncomingMention, utcnow
from tui.sources.base import PollResult, Source, as_raw, dump_cursor, load_cursor
from tui.sources.http import USER_AGENT, BadResponse, Http, NeedsCredentials, SourceError

PAGE = 100
MAX_PAGES = 10
SEEN_LIMIT = 500
OAUTH_HOSTS = {"https://www.reddit.com": "https://oauth.reddit.com"}
"""Where the API lives once signed in, for a ``base_url`` that is the public site."""


class RedditSource(Source):
    kind = "reddit"

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        super().__init__(config, env)
        self.query = str(self._str_option("query", required=True, example="acme"))
        self.subreddits = tuple(
            s.removeprefix("r/") for s in self._list_option("subreddits", example='["acme"]')
        )
        self.user_agent = self._str_option("user_agent") or f"python:{USER_AGENT}"
        if bool(config.options.get("client_id_env")) != bool(
            config.options.get("client_secret_env")
        ):
            raise self._config_error(
                "client_id_env",
                "client_id_env and client_secret_env go together",
                "set both or neither",
            )
        self._token: tuple[str, datetime] | None = None

    # -- OAuth ------------------------------------------------------------------------------

    async def _headers(self, http: Http) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent}
        client_id = self._credential("client_id_env")
        secret = self._credential("client_secret_env")
        if client_id is None or secret is None:
            return headers
        if self._token is None or self._token[1] <= utcnow():
            self._token = await self._sign_in(http, client_id, secret)
        headers["Authorization"] = f"Bearer {self._token[0]}"
        return headers

    async def _sign_in(self, http: Http, client_id: str, secret: str) -> tuple[str, datetime]:
        http.add_secret(secret)
        try:
            response = await http.request(
                "POST",
                f"{self.config.base_url}/api/v1/access_token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
                headers={"User-Agent": self.user_agent},
            )
        except SourceError as error:
            if error.status in (400, 401, 403):
                raise NeedsCredentials(f"sign-in failed: {error}", status=error.status) from None
            raise
        body = http.json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            reason = body.get("error") if isinstance(body, dict) else None
            raise NeedsCredentials(f"sign-in refused: {reason or 'no access token in the answer'}")
        http.add_secret(token)
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        return token, utcnow() + timedelta(seconds=max(seconds - 60, 0))

    def _search_url(self, signed_in: bool) -> str:
        base = self.config.base_url
        if signed_in:
            base = OAUTH_HOSTS.get(base, base)
        path = f"/r/{'+'.join(self.subreddits)}/search" if self.subreddits else "/search"
        return base + path + ("" if signed_in else ".json")

    async def _listing(
        self, http: Http, params: dict[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of posts, and the ``after`` anchor of the next page."""
        headers = await self._headers(http)
        try:
            response = await http.request(
                "GET", self._search_url("Authorization" in headers), params=params, headers=headers
            )
        except NeedsCredentials:
            if self._token is None:
                raise
            self._token = None  # revoked early: sign in again, once
            headers = await self._headers(http)
            response = await http.request(
                "GET", self._search_url(True), params=params, headers=headers
            )
        body = http.json(response)
        data = body.get("data") if isinstance(body, dict) else None
        children = data.get("children") if isinstance(data, dict) else None
        if not isinstance(children, list):
            raise BadResponse("search response is not a Listing")
        after = data.get("after")
        return [c["data"] for c in children if _is_post(c)], after if isinstance(
            after, str
        ) else None

    # -- polling ----------------------------------------------------------------------------

    def _params(self) -> dict[str, str]:
        params = {"q": self.query, "sort": "new", "limit": str(PAGE), "raw_json": "1"}
        if self.subreddits:
            params["restrict_sr"] = "1"
        return params

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        state = load_cursor(cursor)
        seen: list[str] = [s for s in state.get("seen", []) if isinstance(s, str)]
        known = set(seen)
        newest = state.get("newest") if isinstance(state.get("newest"), int | float) else None
        params = self._params()
        fresh: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES if newest is not None else 1):
            posts, after = await self._listing(http, params)
            caught_up = False
            for post in posts:
                if post["name"] in known or (newest is not None and post["created_utc"] < newest):
                    caught_up = True
                    break
                fresh.append(post)
            if caught_up or not posts or not after:
                break
            params["after"] = after
        fresh_names = [p["name"] for p in fresh]
        if fresh:
            newest = max(newest or 0, *(p["created_utc"] for p in fresh))
        next_cursor: dict[str, Any] = {}
        if newest is not None:
            next_cursor = {"newest": newest, "seen": (fresh_names + seen)[:SEEN_LIMIT]}
        mentions = sorted((self.mention(p) for p in fresh), key=lambda m: m.created_at)
        return PollResult(mentions, dump_cursor(next_cursor), rate=http.rate)

    def mention(self, post: dict[str, Any]) -> IncomingMention:
        parts = [str(post.get("title") or ""), str(post.get("selftext") or post.get("body") or "")]
        permalink = post.get("permalink")
        return IncomingMention(
            source=self.name,
            external_id=str(post["name"]),
            text="\n\n".join(p.strip() for p in parts if p.strip()),
            author=str(post.get("author") or ""),
            url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
            created_at=datetime.fromtimestamp(float(post["created_utc"]), UTC),
            language=None,
            raw=as_raw(post),
            # A comment has a score but no comments of its own.
            reach=reach_counts({"score": post.get("score"), "comments": post.get("num_comments")}),
        )

    async def check(self, http: Http) -> str:
        posts, _ = await self._listing(http, {**self._params(), "limit": "1"})
        details = ["signed in" if self._token else "public JSON", f"{len(posts)} recent post(s)"]
        if http.rate and http.rate.remaining:
            details.append(f"{http.rate.remaining} requests left")
        return f"search works ({', '.join(details)})"


def _is_post(child: Any) -> bool:
    data = child.get("data") if isinstance(child, dict) else None
    return (
        isinstance(data, dict)
        and isinstance(data.get("name"), str)
        and isinstance(data.get("created_utc"), int | float)
    )
