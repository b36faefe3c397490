"""Domain records shared by every layer: plain frozen dataclasses, no I/O.

Times are timezone-aware ``datetime`` objects in UTC. The store keeps them as integer
milliseconds since the epoch; ``to_ms``/``from_ms`` convert at that boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Label = Literal["negative", "neutral", "positive", "unscored"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive", "unscored")
Status = Literal["new", "done"]
STATUSES: tuple[Status, ...] = ("new", "done")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, millisecond precision."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Reason:
    """One word or rule that moved a score, with its signed weight."""

    term: str
    weight: float


@dataclass(frozen=True, slots=True)
class Score:
    """The machine's sentiment for a text. ``compound`` is None when unscored."""

    compound: float | None
    label: Label
    reasons: tuple[Reason, ...] = ()
    model: str = "lexicon"
    """Which scorer produced it: ``lexicon``, or a learned model by name (``learned-3``)."""


UNSCORED = Score(None, "unscored", ())


@dataclass(frozen=True, slots=True)
class IncomingMention:
    """A mention as a source (or import, or the demo stream) hands it to ingest."""

    source: str
    external_id: str
    text: str
    author: str = ""
    url: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    language: str | None = None
    raw: bytes = b""
    """The payload exactly as collected (bytes, not necessarily valid UTF-8), kept for evidence."""
    link: str | None = None
    """The page the post links to, when that is part of what it says (a Hacker News story's
    link); ``url`` is the post's own address."""
    reach: Mapping[str, int] | None = None
    """What the source says of the author's and the post's reach when collected:
    ``followers`` (the author's), and about the post ``reposts``, ``likes``, ``replies``,
    ``quotes``, ``score``, ``comments``, ``points`` (whichever the source gives)."""


@dataclass(frozen=True, slots=True)
class FollowUp:
    due_at: datetime
    note: str = ""
    done: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """What one line of the live list needs: cheap to read a page of."""

    id: int
    created_at: datetime
    source: str
    author: str
    text: str
    label: Label
    operator_label: Label | None
    tags: tuple[str, ...]
    status: Status
    follow_up_due: datetime | None
    deleted: bool
    assigned_to: str | None = None
    """The operator who holds the mention, or None."""
    due_at: datetime | None = None
    """When the first response is due (the response clock, ``tui.core.sla``)."""
    answered_at: datetime | None = None
    """When it was first answered (marked done, or a reply recorded); None while open."""

    @property
    def effective_label(self) -> Label:
        return self.operator_label or self.label


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    mention_id: int
    taken_at: datetime
    by: str
    text: str
    sha256: str
    url: str | None
    fetch_status: int | None
    fetch_error: str | None
    page_sha256: str | None
    page_size: int | None
    fetched: bool
    """Whether the page fetch finished (successfully or not); False while pending or no URL."""
    fetch_state: str | None = None
    """``pending``, ``fetching``, ``fetched`` or ``failed``; None when there is no URL."""
    fetch_attempts: int = 0
    """Attempts started so far (a failure's reason counts them)."""
    next_fetch: datetime | None = None
    """When a pending fetch is tried next."""


@dataclass(frozen=True, slots=True)
class Draft:
    mention_id: int
    text: str
    updated_at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    mention_id: int | None
    at: datetime
    by: str
    """The operator's display name (the config's ``operator``, else the Unix user)."""
    action: str
    detail: str
    unix_user: str | None = None
    """The Unix user whose process wrote the event; None for events from before it was kept."""

    @property
    def who(self) -> str:
        """``by``, with the Unix user beside it when they differ: ``sam (unix: sbrown)``."""
        if self.unix_user and self.unix_user != self.by:
            return f"{self.by} (unix: {self.unix_user})"
        return self.by


@dataclass(frozen=True, slots=True)
class Note:
    """An internal team note on a mention: never part of a reply."""

    text: str
    at: datetime
    by: str


Assignment = Literal["mine", "unassigned", "assigned"]
ASSIGNMENTS: tuple[Assignment, ...] = ("mine", "unassigned", "assigned")


@dataclass(frozen=True, slots=True)
class Version:
    """An earlier text of an edited post, and when it was replaced."""

    text: str
    replaced_at: datetime


@dataclass(frozen=True, slots=True)
class Mention:
    """Everything known about one mention (the detail pane and export read this)."""

    id: int
    source: str
    external_id: str
    url: str | None
    author: str
    text: str
    created_at: datetime
    collected_at: datetime
    language: str | None
    score: Score
    operator_label: Label | None
    tags: tuple[str, ...]
    status: Status
    follow_up: FollowUp | None
    deleted_at: datetime | None
    raw: bytes
    snapshots: tuple[Snapshot, ...] = ()
    drafts: tuple[Draft, ...] = ()
    events: tuple[Event, ...] = ()
    versions: tuple[Version, ...] = ()
    link: str | None = None
    """The page the post links to (a Hacker News story's link), or None."""
    reach: Mapping[str, int] = field(default_factory=dict)
    """What the source said of the author's and the post's reach (``IncomingMention.reach``)."""
    due_at: datetime | None = None
    """When the first response is due (``tui.core.sla``)."""
    answered_at: datetime | None = None
    """When it was first answered; None while open."""
    assigned_to: str | None = None
    """The operator who holds the mention, or None."""
    notes: tuple[Note, ...] = ()

    @property
    def effective_label(self) -> Label:
        return self.operator_label or self.score.label


@dataclass(frozen=True, slots=True)
class Filter:
    """What the list shows. Every field narrows; the default shows everything."""

    negative_only: bool = False
    """Only open negatives: labelled negative (the operator's label first) and status new, the
    mentions the status line counts as ``▼ N open neg``."""
    tag: str | None = None
    status: Status | None = None
    source: str | None = None
    search: str | None = None
    follow_ups_due: bool = False
    created_since: datetime | None = None
    """Only mentions posted at or after this time (export's ``--since``)."""
    assignment: Assignment | None = None
    """``mine`` (held by the store's operator), ``unassigned`` or ``assigned`` (to anyone)."""
    urgent: bool = False
    """Only open, unanswered mentions, most urgent first (by response due time)."""

    @property
    def active(self) -> bool:
        return self != Filter()

    def describe(self) -> str:
        parts = []
        if self.urgent:
            parts.append("most urgent")
        if self.negative_only:
            parts.append("open negatives")
        if self.tag:
            parts.append(f"tag:{self.tag}")
        if self.status:
            parts.append(f"status:{self.status}")
        if self.source:
            parts.append(f"source:{self.source}")
        if self.follow_ups_due:
            parts.append("follow-ups due")
        if self.assignment:
            parts.append(f"assigned:{self.assignment}")
        if self.search:
            parts.append(f"search:{self.search}")
        return " ".join(parts) or "all"


@dataclass(frozen=True, slots=True)
class Counts:
    """The header's figures."""

    total: int
    new: int
    negative_open: int
    follow_ups_due: int


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert a rule raised, before it is stored (``Store.add_alerts``)."""

    key: str
    """Unique per rule and mention or window: the same alert is never stored twice."""
    rule: str
    kind: str
    at: datetime
    title: str
    explanation: str
    mention_id: int | None = None
    detail: Mapping[str, object] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    """Where to deliver it (the app shows every alert whatever this says)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    state: str
    """``pending``, ``sending``, ``sent`` or ``failed`` (given up: a permanent error)."""
    attempts: int
    error: str | None
    sent_at: datetime | None
    next_at: datetime | None = None
    """When a ``pending`` delivery is next tried (None in other states)."""


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    key: str
    rule: str
    kind: str
    at: datetime
    title: str
    explanation: str
    mention_id: int | None
    detail: Mapping[str, object]
    acked_at: datetime | None
    acked_by: str | None
    deliveries: tuple[Delivery, ...] = ()
