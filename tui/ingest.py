"""Ingest: normalize -> language -> score -> store, in batches, for every way mentions arrive
(sources, the demo stream, imports).

Scoring is CPU work, so it runs in a thread: the event loop (and the screen) never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tui.config import Config
from tui.core.model import IncomingMention, Score
from tui.core.sentiment import Scorer, detect_language
from tui.evidence import PageFetcher
from tui.store import Store

BATCH = 500
"""Mentions per write transaction: keeps each transaction short (well under 50 ms)."""


def make_scorer(config: Config) -> Scorer:
    options: dict[str, float] = {}
    if config.sentiment.negative_threshold is not None:
        options["negative_threshold"] = config.sentiment.negative_threshold
    if config.sentiment.positive_threshold is not None:
        options["positive_threshold"] = config.sentiment.positive_threshold
    return Scorer(config.brand_terms, config.sentiment.lexicon, **options)


def analyze(
    scorer: Scorer, mentions: Sequence[IncomingMention]
) -> list[tuple[IncomingMention, Score]]:
    """Language and score for each mention (pure CPU; call from a thread)."""
    out = []
    for mention in mentions:
        score = scorer.score(mention.text)
        # The scorer only scores what it judged English; ask again only for the rest.
        language = "en" if score.label != "unscored" else detect_language(mention.text)
        out.append((replace(mention, language=language), score))
    return out


@dataclass
class Ingestor:
    store: Store
    scorer: Scorer
    auto_snapshot: str = "off"
    """``"off"``, ``"negative"`` or ``"all"``: snapshot such mentions as they are stored."""
    pages: PageFetcher | None = None
    """Fetches the pages behind automatic snapshots (in the background); None: no fetching."""

    async def ingest(
        self,
        mentions: Sequence[IncomingMention],
        *,
        cursor: tuple[str, str | None] | None = None,
    ) -> list[int]:
        """Score and store ``mentions``; returns the ids of those that were new.

        The cursor, if given, is stored in the same transaction as the last batch, so a crash
        before that commit leaves the source to fetch the same items again (and dedupe drops
        any already stored), and a crash after it has stored them all.
        """
        new_ids: list[int] = []
        if not mentions:
            if cursor is not None:
                await self.store.add_mentions([], [], cursor=cursor)
            return new_ids
        for start in range(0, len(mentions), BATCH):
            batch = mentions[start : start + BATCH]
            scored = await asyncio.to_thread(analyze, self.scorer, batch)
            last = start + BATCH >= len(mentions)
            ids = await self.store.add_mentions(
                [m for m, _ in scored], [s for _, s in scored], cursor=cursor if last else None
            )
            new_ids.extend(ids)
            if self.auto_snapshot != "off" and ids:
                await self._auto_snapshot(ids)
        return new_ids

    async def _auto_snapshot(self, ids: list[int]) -> None:
        rows = await self.store.rows(ids)
        for mention_id in ids:
            row = rows.get(mention_id)
            if row and (self.auto_snapshot == "all" or row.label == "negative"):
                if self.pages is not None:
                    await self.pages.snapshot(self.store, mention_id)
                else:
                    await self.store.add_snapshot(mention_id)
