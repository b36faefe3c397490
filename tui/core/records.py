"""The export/import record shape (JSON Lines and CSV), as plain dictionaries.

``to_record`` is the export shape documented in the README; ``from_record`` reads that shape
(or a CSV row with a ``text`` column) back into an ``IncomingMention``, raising ``ValueError``
with a short reason for anything malformed.

JSON Lines carries the stored text exactly. CSV is for spreadsheets, which run a cell as a
formula when it starts with ``=``, ``+``, ``-`` or ``@`` (also after leading whitespace) or with
a tab or carriage return: ``to_csv_row`` passes every text cell through ``csv_cell``, which
prefixes such a cell with a single quote (as OWASP recommends for CSV injection; and a cell
starting with a quote gets another, so that ``from_csv_cell`` can take exactly one off when
the export is imported back). It also makes every cell safe to print to a terminal
(``tui.core.text.for_csv``: escape sequences and controls, NUL among them, shown as marks and
format characters removed; line breaks and tabs kept), and the JSON of the list columns writes
those characters as ``\\u`` escapes (``json_escaped``), so it stays exact. The writer quotes
every cell (``CSV_QUOTING``), so a field separator or quote inside a cell (``,`` ``;`` ``"``)
can never start a new cell in any spreadsheet's dialect.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tui.core.model import (
    LABELS,
    STATUSES,
    IncomingMention,
    Label,
    Mention,
    Note,
    Snapshot,
    Status,
    iso,
)
from tui.core.text import for_csv, json_escaped, normalize_tag, one_line

CSV_FIELDS = (
    "id",
    "source",
    "external_id",
    "url",
    "link",
    "author",
    "text",
    "created_at",
    "collected_at",
    "language",
    "sentiment_compound",
    "sentiment_label",
    "sentiment_model",
    "sentiment_operator_label",
    "sentiment_reasons",
    "tags",
    "status",
    "follow_up_due_at",
    "follow_up_note",
    "follow_up_done",
    "snapshots",
    "drafts",
    "history",
    "deleted_at",
    "versions",
    "assigned_to",
    "notes",
)


CSV_QUOTING = csv.QUOTE_ALL
"""Every cell in double quotes, embedded quotes doubled."""

_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
"""Characters a spreadsheet may read as the start of a formula (with their full-width forms)."""


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs: see the module docstring.

    Numbers, booleans and None (written by the export itself, never from outside) pass as
    they are; every string is checked.
    """
    if not isinstance(value, str):
        return value
    value = for_csv(value)
    if value[:1] in ("\t", "\r", "'") or value.lstrip()[:1] in _FORMULA_START:
        return "'" + value  # (a value starting with ' gets one too: ``from_csv_cell`` undoes it)
    return value


def from_csv_cell(value: str) -> str:
    """A cell of this program's CSV export as it was before ``csv_cell``: the leading quote
    taken off only where ``csv_cell`` would have added it (a character ``for_csv`` changed stays
    changed). A cell that is its own value (``'Tis`` in an export made before quotes were
    doubled, or in a sheet written by hand) is left as it is."""
    if value[:1] == "'" and csv_cell(value[1:]) == value:
        return value[1:]
    return value


def to_record(mention: Mention) -> dict[str, Any]:
    follow = mention.follow_up
    return {
        "id": mention.id,
        "source": mention.source,
        "external_id": mention.external_id,
        "url": mention.url,
        "link": mention.link,
        "author": mention.author,
        "text": mention.text,
        "created_at": iso(mention.created_at),
        "collected_at": iso(mention.collected_at),
        "language": mention.language,
        "sentiment": {
            "compound": mention.score.compound,
            "label": mention.score.label,
            "model": mention.score.model,
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
                "page": snapshot_page(s),
            }
            for s in mention.snapshots
        ],
        "drafts": [
            {"text": d.text, "updated_at": iso(d.updated_at), "by": d.by} for d in mention.drafts
        ],
        "history": [
            {
                "at": iso(e.at),
                "by": e.by,
                "unix_user": e.unix_user,
                "action": e.action,
                "detail": e.detail,
            }
            for e in mention.events
        ],
        "deleted_at": iso(mention.deleted_at),
        "versions": [{"text": v.text, "replaced_at": iso(v.replaced_at)} for v in mention.versions],
        "assigned_to": mention.assigned_to,
        "notes": [{"text": n.text, "at": iso(n.at), "by": n.by} for n in mention.notes],
    }


def snapshot_page(snapshot: Snapshot) -> dict[str, Any] | None:
    """The page behind a snapshot, as exported: the fetch's ``state`` (``pending``,
    ``fetching``, ``fetched``, ``failed``), ``attempts`` started, ``next_try`` while pending,
    and the page's HTTP ``status``, ``error`` (the failure's reason, or the last one while
    retrying), ``sha256`` and ``size``. None when the snapshot has no URL."""
    if snapshot.fetch_state is None and not snapshot.fetched:
        return None
    return {
        "state": snapshot.fetch_state or ("fetched" if snapshot.page_sha256 else "failed"),
        "attempts": snapshot.fetch_attempts,
        "next_try": iso(snapshot.next_fetch),
        "status": snapshot.fetch_status,
        "error": snapshot.fetch_error,
        "sha256": snapshot.page_sha256,
        "size": snapshot.page_size,
    }


def _json(value: Any) -> str:
    """A list or object as the JSON text of a CSV cell: exact, and safe on a terminal."""
    return json_escaped(json.dumps(value, ensure_ascii=False))


def to_csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten an export record for CSV; lists and objects become JSON text, and every cell
    is made safe to open in a spreadsheet (``csv_cell``)."""
    sentiment = record["sentiment"]
    follow = record["follow_up"] or {}
    row = {key: record.get(key) for key in CSV_FIELDS if key in record}
    row.update(
        sentiment_compound=sentiment["compound"],
        sentiment_label=sentiment["label"],
        sentiment_model=sentiment.get("model"),
        sentiment_operator_label=sentiment["operator_label"],
        sentiment_reasons=_json(sentiment["reasons"]),
        tags=";".join(record["tags"]),
        follow_up_due_at=follow.get("due_at"),
        follow_up_note=follow.get("note"),
        follow_up_done=follow.get("done"),
        snapshots=_json(record["snapshots"]),
        drafts=_json(record["drafts"]),
        history=_json(record.get("history", [])),
        versions=_json(record["versions"]),
        notes=_json(record.get("notes", [])),
    )
    return {key: csv_cell(value) for key, value in row.items()}


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
    link = _optional_str(record, "link")
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
    if not one_line(text) and url is None:
        # As a feed entry with neither: nothing to read, nothing to open.
        raise ValueError("empty 'text' and no 'url': nothing to triage; fill in either")
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
        link=link,
    )


@dataclass(frozen=True, slots=True)
class Marks:
    """What operators did to a mention, as an import carries it: the operator's label, tags
    (normalized) and status. Empty fields mean "nothing to restore"."""

    operator_label: Label | None = None
    tags: tuple[str, ...] = ()
    status: Status | None = None
    follow_up: FollowUpMark | None = None
    notes: tuple[Note, ...] = ()
    """Team notes, each with its original author and time."""
    assigned_to: str | None = None
    assigned: Origin | None = None
    """Who assigned it and when, from the record's history (None: not in it)."""
    origins: tuple[tuple[str, str, Origin], ...] = ()
    """(action, detail, who and when) of the record's last ``label``, ``tag`` and ``status``
    events, so a restored label, tag or status can name its original author."""

    def origin(self, action: str, detail: str) -> Origin | None:
        return next((o for a, d, o in self.origins if a == action and d == detail), None)

    def __bool__(self) -> bool:
        return (
            self.operator_label is not None
            or bool(self.tags)
            or self.status is not None
            or self.follow_up is not None
            or bool(self.notes)
            or self.assigned_to is not None
        )


@dataclass(frozen=True, slots=True)
class Origin:
    """Who did something first, and when (an imported action names them)."""

    by: str
    at: str
    """ISO 8601, as the export wrote it."""


@dataclass(frozen=True, slots=True)
class FollowUpMark:
    """A follow-up as an import carries it."""

    due_at: datetime
    note: str
    done: bool
    origin: Origin | None = None


def _origin(record: dict[str, Any], actions: tuple[str, ...]) -> Origin | None:
    """The last event of ``actions`` in the record's ``history``: who and when."""
    history = record.get("history")
    if not isinstance(history, list):
        return None
    for event in reversed(history):
        if isinstance(event, dict) and event.get("action") in actions:
            by, at = event.get("by"), event.get("at")
            if isinstance(by, str) and isinstance(at, str):
                return Origin(by, at)
    return None


def team_marks_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """The follow-up, notes and assignment of an export-shape record, as ``Marks`` fields;
    ValueError naming the field if one is malformed."""
    found: dict[str, Any] = {}
    follow = record.get("follow_up")
    if isinstance(follow, dict) and follow.get("due_at"):
        note = follow.get("note") or ""
        if not isinstance(note, str):
            raise ValueError("follow_up.note must be a string")
        found["follow_up"] = FollowUpMark(
            parse_time(follow["due_at"]),
            note,
            bool(follow.get("done")),
            _origin(record, ("follow_up_done",) if follow.get("done") else ("follow_up",)),
        )
    elif follow not in (None, ""):
        raise ValueError("follow_up must be an object with due_at")
    notes = record.get("notes")
    if isinstance(notes, str) and notes.startswith("["):  # a CSV cell holds the list as JSON
        notes = json.loads(notes)
    if isinstance(notes, list):
        kept = []
        for item in notes:
            if not (isinstance(item, dict) and isinstance(item.get("text"), str)):
                raise ValueError("notes must be a list of {text, at, by}")
            by = item.get("by")
            kept.append(
                Note(
                    item["text"],
                    parse_time(item["at"]),
                    by if isinstance(by, str) and by else "unknown",
                )
            )
        found["notes"] = tuple(kept)
    elif notes not in (None, ""):
        raise ValueError("notes must be a list of {text, at, by}")
    history = record.get("history")
    if isinstance(history, list):
        last: dict[tuple[str, str], Origin] = {}
        for event in history:
            if not isinstance(event, dict) or event.get("action") not in ("label", "tag", "status"):
                continue
            by, at, detail = event.get("by"), event.get("at"), event.get("detail")
            if isinstance(by, str) and isinstance(at, str) and isinstance(detail, str):
                last[(event["action"], detail)] = Origin(by, at)
        found["origins"] = tuple((a, d, o) for (a, d), o in last.items())
    assigned = record.get("assigned_to")
    if isinstance(assigned, str) and assigned.strip():
        found["assigned_to"] = assigned.strip()
        found["assigned"] = _origin(record, ("claim", "assign"))
    elif assigned not in (None, ""):
        raise ValueError("assigned_to must be an operator's name or null")
    return found


def marks_from_record(record: dict[str, Any]) -> Marks:
    """The operator's label, tags and status of an import line: the export shape
    (``sentiment.operator_label``, ``tags`` as a list, ``status``) or a CSV row
    (``sentiment_operator_label``, ``tags`` joined by ``;``, ``status``); ValueError naming
    the field if one is malformed."""
    sentiment = record.get("sentiment")
    if isinstance(sentiment, dict):
        label = sentiment.get("operator_label")
    elif sentiment is not None:
        raise ValueError("sentiment must be an object")
    else:
        label = record.get("sentiment_operator_label")
    if label in (None, ""):
        label = None
    elif label not in LABELS:
        raise ValueError(f"sentiment.operator_label {label!r} is not one of {', '.join(LABELS)}")
    raw_tags = record.get("tags")
    if raw_tags in (None, ""):
        tags: list[Any] = []
    elif isinstance(raw_tags, str):
        tags = [t for t in raw_tags.split(";") if t.strip()]
    elif isinstance(raw_tags, list):
        tags = raw_tags
    else:
        raise ValueError("tags must be a list of strings")
    normalized = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError("tags must be a list of strings")
        try:
            normalized.append(normalize_tag(tag))
        except ValueError as error:
            raise ValueError(f"tag {tag!r}: {error}") from None
    status = record.get("status")
    if status in (None, ""):
        status = None
    elif status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    return Marks(label, tuple(dict.fromkeys(normalized)), status, **team_marks_from_record(record))
