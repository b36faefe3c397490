"""The detail pane: everything about the selected mention, built as ``rich.text.Text``.

The mention's text comes first (after a line per other operator who has it selected), so it
is in view at 80x24 however much is known about it; the metadata, the score, and the history
follow. Every time is shown as ``stamp`` shows times, and every age is relative to when the
pane was last drawn (the app redraws it regularly, so ages stay current).

Nothing from a mention is ever parsed as markup: every value is appended as plain text after
``for_display`` (the text) or ``one_line`` (every labelled field, which stays on its one line)
has neutralized line breaks, control, escape, bidi and other invisible characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from tui.core.format import MARKS, ago, event_detail, reach_text, response_clock, stamp, until
from tui.core.model import Mention, Snapshot, utcnow
from tui.core.text import for_display, one_line, truncate
from tui.store.presence import Presence
from tui.team import LOOKING, WRITING, sentence

_HEAD = "bold"
_DIM = "dim"


class Hanging:
    """``head`` then ``body``, wrapped: every line after the first starts under the body's
    first character (``indent`` cells in), so a value that wraps can never begin a line where
    the labels are, and a crafted author name cannot draw a line that looks like a field."""

    def __init__(self, head: Text, body: Text) -> None:
        """``head`` styled by spans, not by its base style (which would style the body too)."""
        self.head = head
        self.body = body

    @property
    def plain(self) -> str:
        return self.head.plain + self.body.plain

    def __str__(self) -> str:  # as ``Text`` is: its plain text
        return self.plain

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Segments, not Text: a Text yielded here would be wrapped a second time by Rich.
        width = options.max_width
        indent = self.head.cell_len
        if "\n" not in self.body.plain and indent + self.body.cell_len <= width:
            yield from _render(console, self.head)  # fits on its line: most fields
            yield from _render(console, self.body)
            yield _NEWLINE
            return
        if width - indent < _NARROWEST:
            indent = min(2, width - 1)  # too narrow to keep the value beside its label
            yield from _render(console, self.head)
            yield _NEWLINE
        lines: list[Text] = []
        for paragraph in self.body.split("\n", allow_blank=True):  # a blank line stays one
            wrapped = [
                line
                for line in paragraph.wrap(console, max(1, width - indent))
                if line.plain.strip()  # (a space a long word was folded before is no line)
            ]
            lines += wrapped or [Text()]
        for number, line in enumerate(lines):
            if number == 0 and indent == self.head.cell_len:
                yield from _render(console, self.head)
            elif line.plain:  # (a blank line stays blank)
                yield Segment(" " * indent)
            yield from _render(console, line)
            yield _NEWLINE


_NEWLINE = Segment.line()


def _render(console: Console, text: Text) -> RenderResult:
    """``text``'s segments, its base style included (``Text.render`` leaves that out when the
    text has no spans of its own; ``Text.__rich_console__`` folds it in first, as this does)."""
    if text.style:
        text = Text().append_text(text)
    return text.render(console)


_REASONS = 12
"""Reasons the pane shows (the strongest first); the export has them all."""
_NARROWEST_TERM = 8
"""Cells a wrapped term keeps beside its weight; a narrower pane wraps term and weight as one."""
_NARROWEST = 12
"""Cells a value needs beside its label; a narrower pane puts it under the label."""


def _line(label: str, value: str, style: str = "") -> Hanging:
    return Hanging(Text().append(f"{one_line(label, 40):<9} ", _DIM), Text(one_line(value), style))


def _body(text: str) -> Hanging:
    """A note's or a draft's own lines, each indented two cells, wrapped lines too."""
    return Hanging(Text("  "), Text(for_display(truncate(text, 2_000))))


class Flow:
    """Items laid out in lines as words are, each kept whole on its line (a reason's term is
    never split from its weight), two spaces apart, every line indented. An item is a term
    and its tail (the weight); only a term too wide for the pane is wrapped, within itself,
    with the tail kept on its last line, and the next item starts a line of its own."""

    def __init__(self, items: list[tuple[Text, Text]], indent: int = 2, gap: int = 2) -> None:
        self.items = items
        self.indent = indent
        self.gap = gap

    @property
    def plain(self) -> str:
        words = (f"{term.plain} {tail.plain}" for term, tail in self.items)
        return " " * self.indent + (" " * self.gap).join(words)

    def __str__(self) -> str:  # as ``Text`` is: its plain text
        return self.plain

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = max(1, options.max_width - self.indent)
        margin = " " * self.indent
        line, used = Text(margin), 0
        for term, tail in self.items:
            item = term + " " + tail
            if item.cell_len <= room:
                if used and used + self.gap + item.cell_len > room:
                    yield line
                    line, used = Text(margin), 0
                elif used:
                    line.append(" " * self.gap)
                    used += self.gap
                line.append_text(item)
                used += item.cell_len
                continue
            if used:  # a wrapped item gets lines of its own
                yield line
            if room - tail.cell_len - 1 < _NARROWEST_TERM:  # too narrow: wrap it whole
                for piece in item.wrap(console, room):
                    yield Text(margin) + piece
            else:
                pieces = list(term.wrap(console, room - tail.cell_len - 1)) or [Text()]
                for piece in pieces[:-1]:
                    yield Text(margin) + piece
                yield Text(margin) + pieces[-1] + " " + tail
            line, used = Text(margin), 0
        if used:
            yield line


def _section(title: str) -> Text:
    return Text(f"\n{title}", _HEAD)


def _time(moment: datetime | None) -> str:
    return stamp(moment) if moment else ""


def render_mention(
    mention: Mention, palette: Mapping[str, str] | None = None, now: datetime | None = None
) -> Group:
    """The pane's content; ``palette`` maps labels (and "negative"/"positive" weights) to colors;
    ages are relative to ``now`` (default: the current time)."""
    palette = palette or {}
    now = now or utcnow()
    label = mention.effective_label
    parts: list[Text | Flow | Hanging] = [
        Text(for_display(truncate(mention.text)) or "(empty)"),
        Text(),
    ]
    heading = Text()
    heading.append(MARKS[label], f"bold {palette.get(label, '')}".strip())
    if mention.operator_label:
        heading.append(f" (operator; machine said {mention.score.label})", _DIM)
    heading.append(f"   {mention.status}", _HEAD)
    if mention.deleted_at:
        heading.append(f"  deleted at source {_time(mention.deleted_at)}", "bold")
    parts.append(heading)
    parts.append(_line("author", mention.author or "(unknown)", _HEAD))
    parts.append(_line("source", f"{mention.source}  #{mention.id}  ({mention.external_id})"))
    if mention.url:
        parts.append(_line("url", mention.url, "underline"))
    if mention.link:
        parts.append(_line("links to", mention.link, "underline"))
    parts.append(_line("posted", f"{ago(mention.created_at, now)} · {_time(mention.created_at)}"))
    parts.append(_line("collected", _time(mention.collected_at)))
    if mention.language:
        parts.append(_line("language", mention.language))
    if reach := reach_text(mention.reach):
        parts.append(_line("reach", reach))
    if respond := response_clock(mention.created_at, mention.due_at, mention.answered_at, now):
        late = mention.answered_at is None and mention.due_at is not None and mention.due_at < now
        style = f"bold {palette.get('negative', '')}".strip() if late else ""
        parts.append(_line("respond", respond, style))  # "late" is in the words, not only color

    score = Text()
    if mention.score.compound is None:
        score.append("unscored (not English, or nothing to score)")
    else:
        score.append(f"{mention.score.compound:+.3f} {mention.score.label}")
    score.append(f"  scored by {one_line(mention.score.model)}", _DIM)
    parts += [Text(), Hanging(Text().append("sentiment ", _HEAD), score)]
    if mention.score.reasons:
        reasons = []
        for reason in mention.score.reasons[:_REASONS]:
            tone = palette.get("negative" if reason.weight < 0 else "positive", "")
            reasons.append((Text(one_line(reason.term)), Text(f"{reason.weight:+.2f}", tone)))
        if len(mention.score.reasons) > _REASONS:
            more = len(mention.score.reasons) - _REASONS
            reasons.append((Text(f"and {more} more", _DIM), Text("(export)", _DIM)))
        parts.append(Flow(reasons))

    parts.append(_line("tags", " ".join(f"#{t}" for t in mention.tags) or "none"))
    if mention.assigned_to:
        parts.append(_line("assigned", mention.assigned_to))
    if mention.follow_up:
        follow = mention.follow_up
        state = "done" if follow.done else until(follow.due_at, now)
        parts.append(_line("follow-up", f"{_time(follow.due_at)} ({state}) {follow.note}"))

    if mention.versions:
        parts.append(_section(f"Earlier versions ({len(mention.versions)})"))
        for version in mention.versions:
            parts.append(_line(_time(version.replaced_at), first_words(version.text)))
    if mention.snapshots:
        parts.append(_section(f"Snapshots ({len(mention.snapshots)})"))
        for snap in mention.snapshots:
            page = page_state(snap, now)
            parts.append(
                _line(_time(snap.taken_at), f"{snap.by}  sha256 {snap.sha256[:16]}…  {page}")
            )
    if mention.notes:
        parts.append(_section(f"Team notes ({len(mention.notes)}, internal)"))
        for note in mention.notes:  # a note keeps its own lines, indented under its author
            parts.append(_line(note.by, _time(note.at)))
            parts.append(_body(note.text))
    if mention.drafts:
        parts.append(_section("Drafts"))
        for draft in mention.drafts:  # a draft keeps its own lines, indented under its author
            parts.append(_line(draft.by, _time(draft.updated_at)))
            parts.append(_body(draft.text or "(empty)"))
    if mention.events:
        parts.append(_section("History"))
        for event in mention.events:
            parts.append(
                _line(
                    _time(event.at),
                    f"{event.who} {event.action} {event_detail(event.detail)}".rstrip(),
                )
            )
    return Group(*parts)


def page_state(snap: Snapshot, now: datetime) -> str:
    """Where the fetch of a snapshot's page stands: pending (which attempt, when), fetching,
    fetched (HTTP status, size) or failed (after how many attempts, and why)."""
    attempts = snap.fetch_attempts
    state = snap.fetch_state
    if state is None:
        return "no URL"
    if state == "fetched":
        text = f"page: HTTP {snap.fetch_status}, {snap.page_size or 0:,} B"
        if attempts > 1:
            text += f" (attempt {attempts})"
        return text + (f"; {snap.fetch_error}" if snap.fetch_error else "")
    if state == "failed":
        reason = snap.fetch_error or (f"HTTP {snap.fetch_status}" if snap.fetch_status else "")
        plural = "s" if attempts != 1 else ""
        return f"page: failed after {attempts} attempt{plural}: {reason}".rstrip(": ")
    if state == "fetching":
        return f"page: fetching (attempt {attempts})"
    when = f", next try {until(snap.next_fetch, now)}" if snap.next_fetch else ""
    last = f"; last: {snap.fetch_error}" if snap.fetch_error else ""
    return f"page: pending (attempt {attempts + 1}{when}){last}"


def first_words(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class DetailBody(Widget):
    """The pane's content, drawn into lines once per content and width.

    A content shorter than the pane is padded to the pane's height, so showing the next
    mention that fits is a repaint of the same lines and not a layout of the screen (which
    Textual does twice for a change of height in a scrolling container): with the cursor
    moving through the list, that layout was most of the time each key took.
    """

    DEFAULT_CSS = """
    DetailBody { height: auto; }
    """

    def __init__(self, content: RenderableType, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = content
        self._lines: list[Strip] = []
        self._drawn_for: tuple[int, int] | None = None
        """(width, minimum height) the lines were drawn for."""
        self.min_height = 0
        """Lines to fill at least (the pane's height)."""

    def update(self, content: RenderableType) -> None:
        self._content = content
        before = len(self._lines)
        width = self.size.width
        if width and self._drawn_for is not None:
            self._draw(width)
            self.refresh(layout=len(self._lines) != before)
        else:
            self._drawn_for = None
            self.refresh(layout=True)

    def fill(self, height: int) -> None:
        """Fill at least ``height`` lines (the pane's height changed)."""
        if height != self.min_height:
            self.min_height = height
            self._drawn_for = None
            self.refresh(layout=True)

    def _draw(self, width: int) -> None:
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        style = self.rich_style
        lines = console.render_lines(self._content, options, style=style, pad=True)
        strips = [Strip(line, width) for line in lines]
        blank = Strip.blank(width, style)
        strips += [blank] * (self.min_height - len(strips))
        self._lines = strips
        self._drawn_for = (width, self.min_height)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self._drawn_for != (width, self.min_height):
            self._draw(width)
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._drawn_for != (width, self.min_height):
            self._draw(width)
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_for = None  # a theme or CSS change restyles every line


class DetailPane(VerticalScroll):
    """Scrollable; shows ``render_mention`` of the selected mention.

    A newly selected mention starts at the top of the pane; a refresh of the mention already
    shown (another operator's tag, a redraw for the ages) keeps the operator's scroll position.
    """

    DEFAULT_CSS = """
    DetailPane { padding: 0 1; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield DetailBody(Text("Select a mention to see it here.", _DIM), id="detail-body")

    def on_resize(self) -> None:
        self.query_one(DetailBody).fill(self.scrollable_content_region.height)

    plain = ""
    """The pane's text as shown, without styles (for tests and copying)."""
    mention: Mention | None = None
    """The mention shown, or None."""
    others: tuple[Presence, ...] = ()
    """Who else has mention ``others_on`` selected (the first lines of the pane when it is the
    one shown)."""
    others_on: int | None = None

    def show_presence(self, mention_id: int | None, others: list[Presence]) -> None:
        """Say who else is on mention ``mention_id`` (``sam is writing a reply (2m)``)."""
        if (mention_id, tuple(others)) != (self.others_on, self.others):
            self.others_on, self.others = mention_id, tuple(others)
            if self.mention is not None and self.mention.id == mention_id:
                self.show(self.mention)

    def show(self, mention: Mention | None) -> None:
        body = self.query_one(DetailBody)
        shown = self.mention
        self.mention = mention
        if mention is None or shown is None or mention.id != shown.id:
            self.scroll_home(animate=False, immediate=True)
        if mention is None:
            self.plain = ""
            body.update(Text("Select a mention to see it here.", _DIM))
        else:
            variables = self.app.theme_variables
            palette = {
                "negative": variables.get("error", ""),
                "positive": variables.get("success", ""),
                "neutral": variables.get("foreground", ""),
                "unscored": variables.get("warning", ""),
            }
            content = render_mention(mention, palette)
            if self.others and self.others_on == mention.id:
                now = utcnow()
                lines = [
                    Text(f"{WRITING if p.replying else LOOKING} {sentence(p, now)}", "bold reverse")
                    for p in sorted(self.others, key=lambda p: (not p.replying, p.activity_since))
                ]
                content = Group(*lines, *content.renderables)
            self.plain = "\n".join(part.plain for part in content.renderables)  # type: ignore[attr-defined]
            body.update(content)

    def refresh_ages(self) -> None:
        """Draw the mention shown again, so its ages are relative to now."""
        if self.mention is not None:
            self.show(self.mention)
