"""The export/import record shape (JSON Lines and CSV), as plain dictionaries.

``to_record`` is the export shape documented in the README; ``from_record`` reads that shape
(or a CSV row with a ``text`` column) back into an ``IncomingMention``, raising ``ValueError``
with a short reason for anything malformed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tui.core.model import IncomingMention, Mention, iso

CSV_FIELDS = (
    "id",
    "source",
    "external_id",
    "url",
    "author",
    "text",
    "created_at",
    "collected_at",
    "language",
    "sentiment_compound",
    "sentiment_label",
    "sentiment_operator_label",
    "sentiment_reasons",
    "tags",
    "status",
    "follow_up_due_at",
    "follow_up_note",
    "follow_up_done",
    "snapshots",
    "drafts",
    "deleted_at",
    "versions",
)


def to_record(mention: Mention) -> dict[str, Any]:
    follow = mention.follow_up
    return {
        "id": mention.id,
        "source": mention.source,
        "external_id": mention.external_id,
        "url": mention.url,
        "author": mention.author,
        "text": mention.text,
        "created_at": iso(mention.created_at),
        "collected_at": iso(mention.collected_at),
        "language": mention.language,
        "sentiment": {
            "compound": mention.score.compound,
            "label": mention.score.label,
            "operator_label": mention.operator_label,
            "reasons": [{"term": r.term, "weight": r.weight} for r in mention.score.reasons],
        },
        "tags": list(mention.tags),
        "status": mention.status,
        "follow_up": {"due_at": iso(follow.due_at), "note": follow.note, "done": follow.done}
        if follow
        else None,
        "snapshots": [
            {
                "taken_at": iso(s.taken_at),
                "sha256": s.sha256,
                "by": s.by,
                "url": s.url,
                "page": {
                    "status": s.fetch_status,
                    "error": s.fetch_error,
                    "sha256": s.page_sha256,
                    "size": s.page_size,
                }
                if s.fetched
                else None,
            }
            for s in mention.snapshots
        ],
        "drafts": [
            {"text": d.text, "updated_at": iso(d.updated_at), "by": d.by} for d in mention.drafts
        ],
        "deleted_at": iso(mention.deleted_at),
        "versions": [{"text": v.text, "replaced_at": iso(v.replaced_at)} for v in mention.versions],
    }


def to_csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten an export record for CSV; lists and objects become JSON text."""
    sentiment = record["sentiment"]
    follow = record["follow_up"] or {}
    row = {key: record.get(key) for key in CSV_FIELDS if key in record}
    row.update(
        sentiment_compound=sentiment["compound"],
        sentiment_label=sentiment["label"],
        sentiment_operator_label=sentiment["operator_label"],
        sentiment_reasons=json.dumps(sentiment["reasons"], ensure_ascii=False),
        tags=";".join(record["tags"]),
        follow_up_due_at=follow.get("due_at"),
        follow_up_note=follow.get("note"),
        follow_up_done=follow.get("done"),
        snapshots=json.dumps(record["snapshots"], ensure_ascii=False),
        drafts=json.dumps(record["drafts"], ensure_ascii=False),
        versions=json.dumps(record["versions"], ensure_ascii=False),
    )
    return row


def parse_time(value: Any) -> datetime:
    """ISO 8601 (``Z`` or offset; naive means UTC) or unix seconds -> aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError(f"bad time {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"bad time {value!r}")
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad time {value!r} (use ISO 8601, e.g. 2026-01-31T09:30:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _optional_str(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise ValueError(f"{key} must be a string")
    return str(value)


def from_record(
    record: dict[str, Any], *, default_source: str, raw: bytes, now: datetime
) -> IncomingMention:
    """An import line (export shape or CSV row) -> IncomingMention; ValueError if malformed."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError("missing or non-string 'text'")
    source = _optional_str(record, "source") or default_source
    author = _optional_str(record, "author") or ""
    url = _optional_str(record, "url")
    created = record.get("created_at")
    created_at = parse_time(created) if created not in (None, "") else now
    external_id = _optional_str(record, "external_id")
    if external_id is None and "sentiment" not in record:
        # A CSV row or a plain line: its ``id`` is the source's id.
        external_id = _optional_str(record, "id")
    if external_id is None:
        # No id at all: derive one from the content so re-importing the file adds nothing.
        basis = json.dumps([source, author, url, text, created], sort_keys=True, default=str)
        external_id = "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()
    language = _optional_str(record, "language")
    return IncomingMention(
        source=source,
        external_id=external_id,
        text=text,
        author=author,
        url=url,
        created_at=created_at,
        language=language,
        raw=raw,
    )
