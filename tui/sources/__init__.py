"""Mention sources: one module per kind, all sharing one HTTP client and one retry policy.

    http.py        the shared ``httpx.AsyncClient``, retries and backoff honoring
                   ``Retry-After`` and rate-limit headers, errors that are health states,
                   secret scrubbing, server-sent events
    base.py        ``Source`` (``poll(http, cursor) -> PollResult``) and cursor helpers
    mastodon.py    hashtag timelines, search, live streaming (edits and deletions)
    bluesky.py     ``searchPosts`` with an app-password session
    hackernews.py  Algolia ``search_by_date``, exact-term filtered
    reddit.py      search, OAuth client credentials or the public JSON
    feed.py        RSS and Atom with conditional GET
    jsonl.py       a followed file or standard input, in the import shape

Sources only fetch and map; ``tui.collector`` schedules them and stores what they return.
Nothing here imports the UI.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui.config import SourceConfig
from tui.sources.base import PollResult, Source
from tui.sources.bluesky import BlueskySource
from tui.sources.feed import FeedSource
from tui.sources.hackernews import HackerNewsSource
from tui.sources.http import (
    Backoff,
    BadResponse,
    Http,
    NeedsCredentials,
    RateInfo,
    RateLimited,
    SourceError,
    Unavailable,
    make_client,
)
from tui.sources.jsonl import JsonlSource
from tui.sources.mastodon import MastodonSource
from tui.sources.reddit import RedditSource

__all__ = [
    "ADAPTERS",
    "Backoff",
    "BadResponse",
    "Http",
    "NeedsCredentials",
    "PollResult",
    "RateInfo",
    "RateLimited",
    "Source",
    "SourceError",
    "Unavailable",
    "build_source",
    "make_client",
]

ADAPTERS: dict[str, type[Source]] = {
    cls.kind: cls
    for cls in (
        MastodonSource,
        BlueskySource,
        HackerNewsSource,
        RedditSource,
        FeedSource,
        JsonlSource,
    )
}


def build_source(config: SourceConfig, env: Mapping[str, str] | None = None) -> Source:
    """The adapter for one ``[[sources]]`` table; ``ConfigError`` if its options are wrong."""
    return ADAPTERS[config.kind](config, env)
