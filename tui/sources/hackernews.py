"""Hacker News through Algolia's ``search_by_date``: stories and comments, newest first.

Each poll asks for items with ``created_at_i >= newest - overlap`` (whole seconds, and Algolia
indexes with a lag) and drops those already seen, whose ids the cursor keeps. Algolia matches
prefixes and tolerates typos ("nodejs" finds "nodes"), so a hit is kept only when every word
of the query appears as a whole word in its text or, for a story, in the address it links to:
a story linking to the brand's site is a mention even when its title does not name the brand.
That address is kept as the mention's ``link``. No account, no rate-limit headers
(10,000 requests per hour per IP).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tui.config import SourceConfig
from tui.core.format import reach_counts
from tui.core.model import IncomingMention
from tui.core.text import html_to_text
from tui.sources.base import (
    PollResult,
    Source,
    advance_window,
    as_raw,
    dump_cursor,
    load_cursor,
)
from tui.sources.http import BadResponse, Http

PAGE = 100
MAX_PAGES = 10
OVERLAP_S = 120
"""Seconds before the newest item seen that each poll asks again (indexing lag)."""
ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsSource(Source):
    kind = "hackernews"

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        super().__init__(config, env)
        self.query = str(self._str_option("query", required=True, example="acme"))
        words = re.findall(r"\w+", self.query)
        if not words:
            raise self._config_error("query", "has no words to match", 'write e.g. query = "acme"')
        self._words = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.IGNORECASE) for w in words]

    def matches(self, text: str) -> bool:
        """Whether every word of the query is in ``text`` as a whole word."""
        return all(word.search(text) for word in self._words)

    def matches_mention(self, mention: IncomingMention) -> bool:
        """Whether every word of the query is in the mention's text or the page it links to."""
        if mention.link:
            return self.matches(f"{mention.text}\n{mention.link}")
        return self.matches(mention.text)

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        state = load_cursor(cursor)
        newest = state.get("since") if isinstance(state.get("since"), int) else None
        seen = {item for item in state.get("seen", []) if isinstance(item, str)}
        asked = newest - OVERLAP_S if newest is not None else None
        params = {"query": self.query, "tags": "(story,comment)", "hitsPerPage": str(PAGE)}
        if asked is not None:
            params["numericFilters"] = f"created_at_i>={asked}"
        hits = await self._fetch(http, params, pages=MAX_PAGES if asked is not None else 1)

        fresh: dict[str, IncomingMention] = {}
        window: dict[str, int] = {}
        for hit in hits:
            if asked is not None and hit["created_at_i"] < asked:
                continue  # before the window asked for
            mention = self.mention(hit)
            window[mention.external_id] = hit["created_at_i"]
            if mention.external_id not in seen and self.matches_mention(mention):
                fresh.setdefault(mention.external_id, mention)
        newest, keep = advance_window(newest, seen, window, OVERLAP_S)
        next_state = {"since": newest, "seen": keep} if newest is not None else {}
        mentions = sorted(fresh.values(), key=lambda m: m.created_at)
        return PollResult(mentions, dump_cursor(next_state))

    async def _fetch(self, http: Http, params: dict[str, str], pages: int) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = []
        for page in range(pages):
            body = await http.get_json(
                f"{self.config.base_url}/api/v1/search_by_date",
                params={**params, "page": str(page)},
            )
            if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
                raise BadResponse("search_by_date response without hits")
            hits.extend(h for h in body["hits"] if _is_hit(h))
            last = body.get("nbPages")
            if not body["hits"] or not isinstance(last, int) or page + 1 >= last:
                break
        return hits

    def mention(self, hit: dict[str, Any]) -> IncomingMention:
        link = None
        if hit.get("comment_text"):
            # A comment's ``story_url`` is its story's link, not something the comment says.
            text = html_to_text(str(hit["comment_text"]))
        else:
            parts = [str(hit.get("title") or ""), html_to_text(str(hit.get("story_text") or ""))]
            text = "\n\n".join(p for p in parts if p)
            link = _web_link(hit.get("url"))
        return IncomingMention(
            source=self.name,
            external_id=str(hit["objectID"]),
            text=text,
            author=str(hit.get("author") or ""),
            url=ITEM_URL.format(hit["objectID"]),
            created_at=datetime.fromtimestamp(int(hit["created_at_i"]), UTC),
            language=None,
            raw=as_raw(hit),
            link=link,
            # Comments have null points and comments.
            reach=reach_counts({"points": hit.get("points"), "comments": hit.get("num_comments")}),
        )

    async def check(self, http: Http) -> str:
        body = await http.get_json(
            f"{self.config.base_url}/api/v1/search_by_date",
            params={"query": self.query, "tags": "(story,comment)", "hitsPerPage": "1"},
        )
        if not isinstance(body, dict) or "hits" not in body:
            raise BadResponse("search_by_date response without hits")
        return f"search works ({body.get('nbHits', '?')} items match)"


def _is_hit(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("objectID"), str | int)
        and isinstance(value.get("created_at_i"), int)
    )


def _web_link(value: Any) -> str | None:
    """A story's ``url`` if it is a web address (null for Ask HN and text posts)."""
    if not isinstance(value, str):
        return None
    link = value.strip()
    return link if link.lower().startswith(("http://", "https://")) else None
