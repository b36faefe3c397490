"""Learned sentiment models in the store, the labels they learn from, and re-scoring.

Part of ``Store`` (``ModelQueries`` is one of its bases); every method runs on the store's
connection and in its short transactions.

* ``sentiment_models`` holds one row per training (append-only): the model as data
  (``LearnedModel.to_bytes``), its cross-validated figures next to the lexicon's, how many
  labels it saw, the newest event id those labels were read at, and whether it beat the
  lexicon. The newest row decides who scores: its model if it beat the lexicon, else the
  lexicon. A row without a model hands scoring back to the lexicon (``triage learn
  --lexicon``).
* ``mention_models`` names the learned model that scored a mention; no row means the lexicon.
* Labels are the operators' overrides and the tags the config maps to labels; an override
  wins over a tag, and a mention whose mapped tags disagree (and that has no override) is left
  out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.core.model import IncomingMention, Score, from_ms, to_ms, utcnow
from tui.store.base import StoreBase

if TYPE_CHECKING:
    import aiosqlite

LEXICON = "lexicon"
"""The name of the built-in scorer (``Score.model``)."""
TRAINABLE = ("negative", "neutral", "positive")
"""Labels a model learns; an override to ``unscored`` is not a sentiment."""
LABEL_ACTIONS = ("label", "tag", "untag")
"""Events that can change the labels a model learns from."""


@dataclass(frozen=True, slots=True)
class LabelledMention:
    mention_id: int
    text: str
    label: str
    origin: str
    """``operator`` (an override) or ``tag:NAME`` (a tag mapped to the label)."""


@dataclass(frozen=True, slots=True)
class Labels:
    """Every labelled mention, read in one go."""

    examples: tuple[LabelledMention, ...]
    last_event: int
    """The newest event id when they were read: label changes after it are new."""
    conflicts: int
    """Mentions left out because their mapped tags disagree (and no override decides)."""

    @property
    def from_operator(self) -> int:
        return sum(e.origin == "operator" for e in self.examples)

    @property
    def from_tags(self) -> int:
        return len(self.examples) - self.from_operator


@dataclass(frozen=True, slots=True)
class StoredModel:
    """One row of ``sentiment_models``."""

    version: int
    trained_at: datetime
    trained_by: str
    labels: int
    last_event: int
    in_charge: bool
    """Whether it beat the lexicon (and so scores while it is the newest row)."""
    figures: Mapping[str, Any]
    """``Evaluation.to_json()``, or empty for a hand-over to the lexicon."""
    data: bytes | None
    """``LearnedModel.to_bytes()``; None for a hand-over to the lexicon, or when not read."""
    has_model: bool = True

    @property
    def name(self) -> str:
        return f"learned-{self.version}" if self.has_model else LEXICON


_MODEL_COLUMNS = (
    "version, trained_at, trained_by, labels, last_event, in_charge, figures, model IS NOT NULL"
)


def _stored(row: Sequence[Any], data: bytes | None = None) -> StoredModel:
    return StoredModel(
        version=int(row[0]),
        trained_at=from_ms(row[1]),
        trained_by=str(row[2]),
        labels=int(row[3]),
        last_event=int(row[4]),
        in_charge=bool(row[5]),
        figures=json.loads(row[6]) if row[6] else {},
        data=data,
        has_model=bool(row[7]),
    )


class ModelQueries(StoreBase):
    """Store methods for learned models, labels and re-scoring (see the module docstring)."""

    # -- labels ------------------------------------------------------------------------------

    async def labelled_mentions(self, tag_labels: Mapping[str, str]) -> Labels:
        """Every mention with an operator label, or with a tag that ``tag_labels`` maps to a
        label (tag -> ``negative``/``neutral``/``positive``), in id order."""
        (last_event,) = await self._one("SELECT coalesce(max(id), 0) FROM events")
        found: dict[int, LabelledMention] = {}
        rows = await self._all(
            "SELECT id, text, operator_label FROM mentions INDEXED BY mentions_operator_label"
            " WHERE operator_label IS NOT NULL ORDER BY id"
        )
        for mention_id, text, label in rows:
            if label in TRAINABLE:
                found[mention_id] = LabelledMention(mention_id, text, label, "operator")
        tagged: dict[int, tuple[str, set[str], list[str]]] = {}
        mapped = {tag: label for tag, label in tag_labels.items() if label in TRAINABLE}
        if mapped:
            marks = ",".join("?" * len(mapped))
            for mention_id, text, tag in await self._all(
                "SELECT m.id, m.text, t.tag FROM mention_tags t CROSS JOIN mentions m"
                f" ON m.id = t.mention_id WHERE t.tag IN ({marks}) AND m.operator_label IS NULL",
                list(mapped),
            ):
                entry = tagged.setdefault(mention_id, (text, set(), []))
                entry[1].add(mapped[tag])
                entry[2].append(tag)
        conflicts = 0
        for mention_id, (text, labels, tags) in tagged.items():
            if len(labels) > 1:
                conflicts += 1
                continue
            (label,) = labels
            found[mention_id] = LabelledMention(
                mention_id, text, label, "tag:" + ",".join(sorted(tags))
            )
        examples = tuple(found[i] for i in sorted(found))
        return Labels(examples, int(last_event), conflicts)

    async def label_events_since(self, event_id: int, tags: Sequence[str]) -> int:
        """How many operator actions after ``event_id`` can have changed the labels: label
        overrides, and adding or removing one of ``tags`` (cheap: a range of the primary
        key)."""
        marks = ",".join("?" * len(tags)) or "NULL"
        (count,) = await self._one(
            "SELECT count(*) FROM events WHERE id > ? AND (action = 'label'"
            f" OR (action IN ('tag', 'untag') AND detail IN ({marks})))",
            (event_id, *tags),
        )
        return int(count)

    # -- models ------------------------------------------------------------------------------

    async def save_model(
        self,
        data: bytes | None,
        *,
        figures: Mapping[str, Any],
        labels: int,
        last_event: int,
        in_charge: bool,
    ) -> StoredModel:
        """Store a trained model (``data``) with its figures as the next version, and its
        event, in one transaction; ``data=None`` hands scoring back to the lexicon."""
        now = utcnow()
        figures_text = json.dumps(dict(figures), sort_keys=True)

        async def body(db: aiosqlite.Connection) -> StoredModel:
            async with db.execute(
                "INSERT INTO sentiment_models(trained_at, trained_by, labels, last_event,"
                " in_charge, figures, model) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING version",
                (
                    to_ms(now),
                    self.operator,
                    labels,
                    last_event,
                    int(in_charge and data is not None),
                    figures_text,
                    data,
                ),
            ) as cursor:
                (version,) = await cursor.fetchone()  # type: ignore[misc]
            detail: dict[str, Any] = {"version": version, "in_charge": bool(in_charge)}
            if data is None:
                detail["model"] = LEXICON
            else:
                detail.update(model=f"learned-{version}", labels=labels)
                learned = figures.get("learned")
                if isinstance(learned, Mapping):
                    detail["macro_f1"] = learned.get("macro_f1")
            await self._event(db, None, "learn", detail)
            return StoredModel(
                version=version,
                trained_at=from_ms(to_ms(now)),
                trained_by=self.operator,
                labels=labels,
                last_event=last_event,
                in_charge=bool(in_charge and data is not None),
                figures=dict(figures),
                data=data,
                has_model=data is not None,
            )

        return await self._transaction(body)

    async def models(self) -> list[StoredModel]:
        """Every stored training, newest first (without the model data)."""
        rows = await self._all(
            f"SELECT {_MODEL_COLUMNS} FROM sentiment_models ORDER BY version DESC"
        )
        return [_stored(r) for r in rows]

    async def latest_model(self) -> StoredModel | None:
        """The newest training (without the model data), or None if there was none."""
        row = await self._one(
            f"SELECT {_MODEL_COLUMNS} FROM sentiment_models ORDER BY version DESC LIMIT 1"
        )
        return _stored(row) if row else None

    async def in_charge_version(self) -> int | None:
        """The version of the learned model that scores now, or None for the lexicon: one
        cheap read, made before every batch is scored."""
        row = await self._one(
            "SELECT version, in_charge FROM sentiment_models ORDER BY version DESC LIMIT 1"
        )
        return int(row[0]) if row and row[1] else None

    async def model_data(self, version: int) -> bytes | None:
        """The stored model of ``version`` (None if that row holds none)."""
        row = await self._one("SELECT model FROM sentiment_models WHERE version = ?", (version,))
        return bytes(row[0]) if row and row[0] is not None else None

    # -- which model scored a mention ----------------------------------------------------------

    async def _record_scorers(
        self,
        db: aiosqlite.Connection,
        mentions: Sequence[IncomingMention],
        scores: Sequence[Score],
        before: int,
    ) -> None:
        """For ``add_mentions``: name the learned model of each new mention it scored."""
        learned = [
            (score.model, mention.source, mention.external_id, before)
            for mention, score in zip(mentions, scores, strict=True)
            if score.model != LEXICON
        ]
        if learned:
            await db.executemany(
                "INSERT INTO mention_models(mention_id, model)"
                " SELECT id, ? FROM mentions WHERE source = ? AND external_id = ? AND id > ?"
                " ON CONFLICT(mention_id) DO UPDATE SET model = excluded.model",
                learned,
            )

    async def _set_scorers(
        self, db: aiosqlite.Connection, scored: Sequence[tuple[int, str]]
    ) -> None:
        """Record (mention id, model name) pairs: a learned model's name, or none for the
        lexicon."""
        await db.executemany(
            "DELETE FROM mention_models WHERE mention_id = ?",
            [(mention_id,) for mention_id, model in scored if model == LEXICON],
        )
        await db.executemany(
            "INSERT INTO mention_models(mention_id, model) VALUES (?, ?)"
            " ON CONFLICT(mention_id) DO UPDATE SET model = excluded.model",
            [(mention_id, model) for mention_id, model in scored if model != LEXICON],
        )

    # -- re-scoring --------------------------------------------------------------------------

    async def texts_after(
        self, after_id: int, limit: int, *, open_only: bool
    ) -> list[tuple[int, str]]:
        """(id, text) of up to ``limit`` mentions after ``after_id`` in id order: every one,
        or only the open ones (status new)."""
        if open_only:
            sql = (
                "SELECT id, text FROM mentions WHERE status = 'new' AND id > ? ORDER BY id LIMIT ?"
            )
        else:
            sql = "SELECT id, text FROM mentions WHERE id > ? ORDER BY id LIMIT ?"
        return [(int(r[0]), str(r[1])) for r in await self._all(sql, (after_id, limit))]

    async def set_scores(self, scored: Sequence[tuple[int, Score]]) -> int:
        """Replace the machine's score of each mention (the operator's label is untouched, and
        still wins); returns how many changed label. One transaction."""
        if not scored:
            return 0
        from tui.store.store import _reasons_json  # the one place reasons become JSON

        ids = [mention_id for mention_id, _ in scored]

        async def body(db: aiosqlite.Connection) -> int:
            marks = ",".join("?" * len(ids))
            before = dict(
                await self._all(f"SELECT id, label FROM mentions WHERE id IN ({marks})", ids)
            )
            await db.executemany(
                "UPDATE mentions SET compound = ?, label = ?, reasons = ? WHERE id = ?",
                [
                    (score.compound, score.label, _reasons_json(score), mention_id)
                    for mention_id, score in scored
                ],
            )
            await self._set_scorers(db, [(mention_id, s.model) for mention_id, s in scored])
            return sum(
                1
                for mention_id, score in scored
                if mention_id in before and before[mention_id] != score.label
            )

        return await self._transaction(body)
