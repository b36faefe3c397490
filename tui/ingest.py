"""Ingest: normalize -> language -> score -> store, in batches, for every way mentions arrive
(sources, the demo stream, imports). A post already stored (same source and external id) with
a different text is an edit, whichever way it arrives: it is stored as a new version.

Scoring is CPU work, so it runs in a thread: the event loop (and the screen) never waits on it.
Each batch is scored by the scorer in charge: the learned model the store says beat the lexicon
on the team's labels (``tui.learning``), else the lexicon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tui.config import Config
from tui.core.model import IncomingMention, Score
from tui.core.sentiment import Scorer, detect_language
from tui.evidence import PageFetcher
from tui.learning import ModelFollower, TextScorer
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
    scorer: TextScorer, mentions: Sequence[IncomingMention]
) -> list[tuple[IncomingMention, Score]]:
    """Language and score for each mention (pure CPU; call from a thread)."""
    out = []
    for mention in mentions:
        score = scorer.score(mention.text)
        # The scorer only scores what it judged English; ask again only for the rest.
        language = "en" if score.label != "unscored" else detect_language(mention.text)
        out.append((replace(mention, language=language), score))
    return out


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one ``Ingestor.ingest_counted`` call did."""

    added: list[int]
    """Ids of the mentions that were new."""
    updated: list[int]
    """Ids of stored mentions whose text changed (an edit): the earlier text is a version."""
    unchanged: int
    """Mentions already stored with the same text."""


def _rounds(
    scored: Sequence[tuple[IncomingMention, Score]],
) -> list[list[tuple[IncomingMention, Score]]]:
    """Split a batch so no post (source, external id) appears twice in one part: a post and
    its edit in the same batch are stored in order, the edit as a new version."""
    if len({(m.source, m.external_id) for m, _ in scored}) == len(scored):
        return [list(scored)]  # the usual batch: every post once
    rounds: list[list[tuple[IncomingMention, Score]]] = []
    seen: list[set[tuple[str, str]]] = []
    for item in scored:
        key = (item[0].source, item[0].external_id)
        index = next((i for i, keys in enumerate(seen) if key not in keys), len(rounds))
        if index == len(rounds):
            rounds.append([])
            seen.append(set())
        rounds[index].append(item)
        seen[index].add(key)
    return rounds


@dataclass
class Ingestor:
    store: Store
    scorer: Scorer
    auto_snapshot: str = "off"
    """``"off"``, ``"negative"`` or ``"all"``: snapshot such mentions as they are stored."""
    pages: PageFetcher | None = None
    """Woken when automatic snapshots queue page fetches; None: they wait in the store for
    whichever process fetches pages (the collector lease holder, or an app)."""
    follow_model: bool = True
    """Score with the learned model in charge (checked in the store before each batch); False:
    always the lexicon ``scorer``."""
    _follower: ModelFollower | None = field(default=None, init=False, repr=False)

    async def current_scorer(self) -> TextScorer:
        """The scorer in charge now: the learned model the store names, or ``scorer``."""
        if not self.follow_model:
            return self.scorer
        if self._follower is None or self._follower.lexicon is not self.scorer:
            self._follower = ModelFollower(self.scorer)
        return await self._follower.scorer(self.store)

    async def ingest(
        self,
        mentions: Sequence[IncomingMention],
        *,
        cursor: tuple[str, str | None] | None = None,
    ) -> list[int]:
        """Score and store ``mentions``; returns the ids of those that were new (edits of
        stored posts are stored as new versions; see ``ingest_counted``)."""
        return (await self.ingest_counted(mentions, cursor=cursor)).added

    async def ingest_counted(
        self,
        mentions: Sequence[IncomingMention],
        *,
        cursor: tuple[str, str | None] | None = None,
    ) -> Ingested:
        """Score and store ``mentions``: new ones are added; one already stored (same source
        and external id) with a different text is an edit, so its earlier text is kept as a
        version and the new text is scored and indexed; the rest are unchanged.

        The cursor, if given, is stored in the same transaction as the last batch, so a crash
        before that commit leaves the source to fetch the same items again (and dedupe drops
        any already stored), and a crash after it has stored them all.
        """
        added: list[int] = []
        updated: list[int] = []
        if not mentions:
            if cursor is not None:
                await self.store.add_mentions([], [], cursor=cursor)
            return Ingested(added, updated, 0)
        for start in range(0, len(mentions), BATCH):
            batch = mentions[start : start + BATCH]
            scorer = await self.current_scorer()
            scored = await asyncio.to_thread(analyze, scorer, batch)
            last = start + BATCH >= len(mentions)
            rounds = _rounds(scored)
            for number, part in enumerate(rounds):
                incoming = [m for m, _ in part]
                scores = [s for _, s in part]
                # One query per batch finds the stored posts whose text changed.
                edited = await self.store.edited(incoming)
                if edited:
                    updated.extend(
                        await self.store.replace_texts(
                            [incoming[i] for i in edited], [scores[i] for i in edited]
                        )
                    )
                final = last and number == len(rounds) - 1
                ids = await self.store.add_mentions(
                    incoming, scores, cursor=cursor if final else None
                )
                added.extend(ids)
                if self.auto_snapshot != "off" and ids:
                    await self._auto_snapshot(ids)
        return Ingested(added, updated, len(mentions) - len(added) - len(updated))

    async def _auto_snapshot(self, ids: list[int]) -> None:
        rows = await self.store.rows(ids)
        chosen = [
            mention_id
            for mention_id in ids
            if (row := rows.get(mention_id))
            and (self.auto_snapshot == "all" or row.label == "negative")
        ]
        if not chosen:
            return
        if self.pages is not None:
            await self.pages.snapshots(self.store, chosen)
        else:
            await self.store.add_snapshots(chosen)
