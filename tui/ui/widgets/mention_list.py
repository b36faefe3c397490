"""The live list: a window of rows read from the store in keyset pages, drawn line by line.

The widget never holds the whole table. It keeps at most ``WINDOW`` rows around the cursor,
reads the next page when the cursor comes within ``MARGIN`` rows of the window's edge, and
drops rows far from the cursor. Only the visible lines are rendered (the Line API), so the
cost of a keypress does not depend on how many mentions are stored.

Key actions run in the app's task, messages (``Load``, ``DataChanged`` ...) in this widget's.
Every change of the window that reads the store holds one lock (``_exclusive``), so a refresh,
a load and a cursor move never interleave at an ``await``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tui.cells import fit
from tui.core.format import age, mark
from tui.core.model import Filter, Row, utcnow
from tui.core.sla import clock
from tui.core.text import first_line, one_line
from tui.store.presence import Presence
from tui.team import MARK_WIDTH
from tui.team import mark as presence_mark


class RowSource(Protocol):
    async def page_before(self, filt: Filter, before_id: int | None, limit: int) -> list[Row]: ...
    async def page_after(self, filt: Filter, after_id: int | None, limit: int) -> list[Row]: ...
    async def rows(self, ids: list[int]) -> dict[int, Row]: ...
    async def count_newer(self, filt: Filter, after_id: int, cap: int = ...) -> int: ...


PAGE = 100
MARGIN = 40
WINDOW = 600
LINE_CACHE = 400
"""Drawn lines kept: a few screens' worth, at two cursor states."""
CLOCK_WIDTH = 4
"""The response clock's column: ``12m`` left, ``!5m`` late (``tui.core.sla.clock``)."""
_DIM = Style(dim=True)
"""A handled row, on top of its own styles."""
_ANNOUNCE = object()
"""What the last announced selection is set to after a load with a new filter, or a jump: the
next one is announced even when it is the same row, or none (the app redraws the status line
with the new filter)."""


class _Timely(NamedTuple):
    """What a row's line shows that changes with the clock or with others' presence."""

    age: str
    clock: str
    follow_up_due: bool
    presence: str


_R = TypeVar("_R")


def _exclusive(
    method: Callable[..., Awaitable[_R]],
) -> Callable[..., Awaitable[_R]]:
    """``method`` run holding the list's window lock."""

    @functools.wraps(method)  # Textual reads the signature to decide what to pass
    async def holding(self: MentionList, *args: Any, **kwargs: Any) -> _R:
        async with self._window_lock:
            return await method(self, *args, **kwargs)

    return holding


def _kept(shown: Row, read: Row | None) -> Row:
    """``shown`` unless ``read`` (the same mention read again) differs from it."""
    return shown if read is None or read == shown else read


class MentionList(Widget, can_focus=True):
    """Newest first; ``j``/``k`` move, ``g``/``G`` jump to the top or bottom."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="up"),
        Binding("g,home", "first", "Top", show=False, id="top"),
        Binding("G,end", "last", "Bottom", show=False, id="bottom"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
    ]

    COMPONENT_CLASSES = {
        "mention-list--cursor",
        "mention-list--negative",
        "mention-list--positive",
        "mention-list--neutral",
        "mention-list--unscored",
        "mention-list--done",
        "mention-list--meta",
        "mention-list--tags",
        "mention-list--due",
        "mention-list--empty",
        "mention-list--presence",
    }

    DEFAULT_CSS = """
    MentionList { height: 1fr; }
    MentionList > .mention-list--presence { text-style: bold; }
    """

    new_count: reactive[int] = reactive(0)
    """Rows newer than the window's top that the operator has not scrolled up to see."""

    @dataclass
    class Highlighted(Message):
        """The row under the cursor changed (None: the list is empty)."""

        row: Row | None

    @dataclass
    class NewArrivals(Message):
        """``new_count`` changed."""

        count: int

    @dataclass
    class SelectionMoved(Message):
        """``offscreen`` changed: where the selection is relative to the view."""

        offscreen: int

    @dataclass
    class Load(Message):
        """Show the newest rows matching ``filter`` (None: the current filter); with
        ``keep``, stay on that mention instead when ``filter`` includes it."""

        filter: Filter | None = None
        keep: int | None = None

    @dataclass
    class ReadRest(Message):
        """Read the rest of the first page of ``filter`` after the row ``last_id``: a load
        reads a screenful, so it is drawn before the rows below the view are read."""

        filter: Filter
        last_id: int

    @dataclass
    class Show(Message):
        """Select the mention ``mention_id``: in the window if it is there, else the window
        around it (in the current filter, or all mentions when the filter leaves it out)."""

        mention_id: int

    @dataclass
    class Shown(Message):
        """The answer to ``Show``: whether the mention is now selected."""

        mention_id: int
        found: bool

    @dataclass
    class DataChanged(Message):
        """The store changed: re-read the visible rows and look for new ones."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MentionList.DataChanged)

    def __init__(self, source: RowSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.filter = Filter()
        self.rows: list[Row] = []
        self.cursor = 0
        self.top = 0
        self.at_newest = True
        """The window starts at the newest matching row."""
        self.at_oldest = True
        """The window ends at the oldest matching row."""
        self._seen_id = 0
        self.seen_unfiltered = 0
        """``seen_id`` when the list last showed every mention (no search, no filter): what
        the operator had seen of the stream before a search or a filter, which a list that
        stays on their mention when it is cleared counts arrivals from (a search's own newest
        match says nothing of what else arrived meanwhile)."""
        self._highlighted: object = None
        """The selection last announced, as (cursor, row), or None for no rows."""
        self.presence: Mapping[int, Sequence[Presence]] = {}
        """Who else has each mention selected (the app's presence poll sets it): looked up
        when a row is drawn, never joined into the row queries."""
        self._offscreen = 0
        self._edits = 0
        """How many local edits (``update_row``) have been shown: a read that started before
        an edit must not put the row back as it was (the store confirms the edit later)."""
        self._edited: dict[int, int] = {}
        """Row id -> the edit count when it was last changed locally."""
        self.writing = 0
        """The operator's writes still going (the app counts them): until the last is done, a
        read may come from before it committed, so every row edited meanwhile stays as shown."""
        self.now: Callable[[], datetime] = utcnow
        """The clock ages and response clocks are drawn against (tests set a fixed one)."""
        self._window_lock = asyncio.Lock()
        """Held by every change of the window that reads the store (``_exclusive``)."""
        self._loads_queued = 0
        """``Load`` messages posted and not yet handled: a refresh gives way to them."""
        self._styles: dict[bool, dict[str, Style]] = {}
        """Component styles by whether the list has focus (``_style``)."""
        self._combined: dict[tuple[Style, Style], Style] = {}
        """A segment's style over the line's (widget, cursor or dimmed), added once."""
        self._lines: LRUCache[tuple[object, ...], tuple[Row, Strip]] = LRUCache(LINE_CACHE)
        """Drawn lines by the row (the very object: a changed row is a new one) and what else
        they show (``_render_row``)."""

    @property
    def offscreen(self) -> int:
        """Rows between the view and the selection: positive below the view, negative above
        it, 0 when the selection is in view (arrivals at the top can push it out of view)."""
        height = max(1, self.size.height)
        if self.cursor < self.top:
            return self.cursor - self.top
        if self.cursor >= self.top + height:
            return self.cursor - (self.top + height) + 1
        return 0

    def watch_new_count(self, count: int) -> None:
        self.post_message(self.NewArrivals(count))

    # -- reading ---------------------------------------------------------------------------

    @property
    def seen_id(self) -> int:
        """The newest row the operator has had in the window: later ones count as new."""
        return self._seen_id

    @seen_id.setter
    def seen_id(self, value: int) -> None:
        self._seen_id = value
        if not self.filter.active:
            self.seen_unfiltered = value

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if self.rows else None

    @_exclusive
    async def load(self, filt: Filter | None = None, keep: int | None = None) -> None:
        """Show the newest rows matching ``filt`` (or the current filter), cursor at the top;
        or, with ``keep`` and a newest-first ``filt`` that includes that mention, the rows
        around it with the cursor on it (a search or a filter cleared: the operator stays
        on the mention they were on, so keys typed after the clearing act on it)."""
        stays = keep is not None and filt is not None and not filt.urgent
        seen = self.seen_unfiltered  # (what arrived since counts as new, above the window)
        if stays and await self._window_around(filt, keep, seen=seen):  # type: ignore[arg-type]
            return
        await self._load(filt)

    async def _load(self, filt: Filter | None = None) -> None:
        if filt is not None:
            self.filter = filt
            self._highlighted = _ANNOUNCE  # the status line shows the filter, also of no rows
        started = self._edits
        # Before the first layout the height is unknown (0): the whole page, in one read.
        height = self.size.height
        screenful = min(PAGE, height + 1) if height else PAGE
        rows = self._keep_edits(
            await self.source.page_before(self.filter, None, screenful), started
        )
        self.rows, self.cursor, self.top = rows, 0, 0
        self.at_newest, self.at_oldest = True, len(rows) < screenful
        self.seen_id = rows[0].id if rows else 0
        self.new_count = 0
        self._changed()
        if not self.at_oldest and len(rows) < PAGE:
            # The rest of the page once the screen has been drawn.
            self.call_after_refresh(self.post_message, self.ReadRest(self.filter, rows[-1].id))

    def post_message(self, message: Message) -> bool:
        posted = super().post_message(message)
        if posted and isinstance(message, MentionList.Load):
            self._loads_queued += 1
        return posted

    async def on_mention_list_load(self, message: Load) -> None:
        self._loads_queued = max(0, self._loads_queued - 1)
        await self.load(message.filter, message.keep)

    @_exclusive
    async def on_mention_list_read_rest(self, message: ReadRest) -> None:
        if (
            self.filter != message.filter
            or self.at_oldest
            or not self.rows
            or self.rows[-1].id != message.last_id
            or len(self.rows) >= PAGE
        ):
            return  # another load, a move or a refresh read on already
        started = self._edits
        wanted = PAGE - len(self.rows)
        older = await self.source.page_before(self.filter, message.last_id, wanted)
        first_new = len(self.rows)
        self.rows.extend(self._keep_edits(older, started))
        self.at_oldest = len(older) < wanted
        if first_new < self.top + self.size.height:  # the view had room for some of them
            self._changed()

    @_exclusive
    async def show_mention(self, mention_id: int) -> bool:
        """Select ``mention_id``: move to it if it is in the window, else load the window
        around it, in the current filter if that includes it, else in all mentions. False
        when no such mention is stored."""
        for index, row in enumerate(self.rows):
            if row.id == mention_id:
                await self._move_to(index)
                return True
        # The urgent list is ordered by due time: ids do not bound a window there.
        if not self.filter.urgent and await self._window_around(self.filter, mention_id):
            return True
        return await self._window_around(Filter(), mention_id)

    async def on_mention_list_show(self, message: Show) -> None:
        found = await self.show_mention(message.mention_id)
        self.post_message(self.Shown(message.mention_id, found))

    async def _window_around(self, filt: Filter, mention_id: int, seen: int | None = None) -> bool:
        """Load the rows of ``filt`` around ``mention_id`` (newest-first lists), cursor on it.
        With ``seen``, the rows of ``filt`` after that one count as new, in the window or above
        it (a search cleared: what arrived during it); else only what arrives from now on."""
        started = self._edits
        older = await self.source.page_before(filt, mention_id + 1, PAGE)
        if not older or older[0].id != mention_id:
            return False
        half = PAGE // 2
        newer = await self.source.page_after(filt, mention_id, half)
        self.filter = filt
        self.rows = self._keep_edits([*newer, *older], started)
        self.cursor = len(newer)
        self.at_newest, self.at_oldest = len(newer) < half, len(older) < PAGE
        if self.at_newest:
            self.seen_id = self.rows[0].id
        else:  # what is above the window is not new: only what arrives from now on
            newest = await self.source.page_before(filt, None, 1)
            self.seen_id = newest[0].id if newest else self.rows[0].id
        self.new_count = 0
        if seen is not None and seen < self.seen_id:
            self.seen_id = seen  # (so also what is kept of the whole stream, when this is it)
            self.new_count = await self.source.count_newer(filt, seen)
        self.top = max(0, self.cursor - max(1, self.size.height) // 2)
        self._highlighted = _ANNOUNCE
        self._changed()
        return True

    async def _extend_older(self, target: int) -> int:
        """Read the page after the window's end; returns how far ``target`` shifted."""
        if self.at_oldest or not self.rows:
            return 0
        older = await self.source.page_before(self.filter, self.rows[-1].id, PAGE)
        self.at_oldest = len(older) < PAGE
        self.rows.extend(older)
        drop = min(len(self.rows) - WINDOW, target - MARGIN - self.size.height)
        if drop <= 0:
            return 0
        del self.rows[:drop]
        self.cursor = max(0, self.cursor - drop)
        self.top = max(0, self.top - drop)
        self.at_newest = False
        return -drop

    async def _extend_newer(self, target: int) -> int:
        """Read the page before the window's start; returns how far ``target`` shifted."""
        if self.at_newest or not self.rows:
            return 0
        newer = await self.source.page_after(self.filter, self.rows[0].id, PAGE)
        if len(newer) < PAGE:
            self.at_newest = True
            self.new_count = 0
            self.seen_id = max(self.seen_id, newer[0].id if newer else self.rows[0].id)
        self.rows[:0] = newer
        self.cursor += len(newer)
        self.top += len(newer)
        self._trim_older(around=target + len(newer))
        return len(newer)

    def _trim_older(self, around: int) -> None:
        """Drop the oldest rows beyond ``WINDOW`` that are well below row ``around``."""
        keep = max(WINDOW, around + MARGIN + self.size.height)
        if len(self.rows) > keep:
            del self.rows[keep:]
            self.at_oldest = False

    @_exclusive
    async def on_mention_list_data_changed(self, message: DataChanged) -> None:
        """Re-read the window's rows; show new arrivals if at the top, else count them."""
        # A load waiting behind this refresh reads everything again: give way to it, also
        # between the refresh's reads (at a million rows a refresh takes several of them).
        if self._loads_queued:
            return
        if not self.rows:
            await self._load()
            return
        started = self._edits
        fresh = await self.source.rows([row.id for row in self.rows])
        if self._loads_queued:
            return
        # Rows that no longer match the filter (e.g. handled while showing "new") stay until
        # the next load, so the cursor never jumps under the operator.
        # A row read again unchanged stays the same object: its drawn line is reused.
        self.rows = self._keep_edits([_kept(row, fresh.get(row.id)) for row in self.rows], started)
        if self.at_newest:
            newer = await self.source.page_after(self.filter, self.rows[0].id, PAGE)
            if self._loads_queued:
                self._changed()  # the rows read again are shown until the load is
                return
            if newer and self.top == 0 and len(newer) < PAGE:
                # The view stays at the top, showing what arrived; the cursor stays on its
                # mention (the detail pane keeps showing it) even if that is now below the
                # view: the next move brings it back into view.
                self.rows[:0] = newer
                self.seen_id = newer[0].id
                self.cursor += len(newer)
                self.new_count = 0
                self._trim_older(around=self.cursor)  # a window, even over a long shift
            elif newer:
                self.at_newest = False
        if not self.at_newest:
            self.new_count = await self.source.count_newer(self.filter, self.seen_id)
        self._changed()

    def update_row(self, row: Row) -> None:
        """Show a locally changed row at once (before the store confirms it)."""
        self._edits += 1
        self._edited[row.id] = self._edits
        for index, existing in enumerate(self.rows):
            if existing.id == row.id:
                self.rows[index] = row
                self._changed()
                return

    def _keep_edits(self, read: list[Row], started: int) -> list[Row]:
        """``read`` from the store, except rows edited locally while it was being read, or
        whose write is not done yet: those stay as shown (the write's own refresh brings the
        stored row)."""
        if self._edits == started and not self.writing:
            self._edited.clear()  # nothing in flight: forget old edits
            return read
        # Edited while this read ran, or edited earlier with its write not done yet (the read
        # may have come before the commit and would put the old row back).
        floor = 0 if self.writing else started
        mine = {row.id: row for row in self.rows if self._edited.get(row.id, 0) > floor}
        return [mine.get(row.id, row) for row in read]

    # -- moving ----------------------------------------------------------------------------

    async def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        if index < MARGIN:
            index += await self._extend_newer(index)
        if index >= len(self.rows) - MARGIN:
            index += await self._extend_older(index)
        window = (self.top, len(self.rows), self.rows[0].id)
        was = self.cursor
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._scroll_to_cursor()
        if window == (self.top, len(self.rows), self.rows[0].id):
            # Only the cursor moved in the view: repaint its old and new lines.
            self._changed(lines=(was - self.top, self.cursor - self.top))
        else:
            self._changed()

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.size.height)
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + height:
            self.top = self.cursor - height + 1

    @_exclusive
    async def action_cursor_down(self) -> None:
        await self._move_to(self.cursor + 1)

    @_exclusive
    async def action_cursor_up(self) -> None:
        await self._move_to(self.cursor - 1)

    @_exclusive
    async def action_page_down(self) -> None:
        height = max(1, self.size.height)
        self.top += height
        await self._move_to(self.cursor + height)

    @_exclusive
    async def action_page_up(self) -> None:
        height = max(1, self.size.height)
        self.top = max(0, self.top - height)
        await self._move_to(self.cursor - height)

    @_exclusive
    async def action_first(self) -> None:
        await self._load()

    @_exclusive
    async def action_last(self) -> None:
        rows = await self.source.page_after(self.filter, None, PAGE)
        self.rows = rows
        self.at_oldest, self.at_newest = True, len(rows) < PAGE
        self.cursor = len(rows) - 1 if rows else 0
        self.top = max(0, self.cursor - self.size.height + 1)
        if not self.at_newest:
            self.new_count = 0
        self._changed()

    @_exclusive
    async def on_click(self, event: events.Click) -> None:
        index = self.top + event.y
        if 0 <= index < len(self.rows):
            await self._move_to(index)

    @_exclusive
    async def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        await self._move_to(self.cursor + 3)

    @_exclusive
    async def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        await self._move_to(self.cursor - 3)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _changed(self, lines: tuple[int, ...] | None = None) -> None:
        """The rows, the cursor or the view changed: repaint (only ``lines`` of the view, when
        given) and tell the app what the selection is now."""
        height, width = self.size.height, self.size.width
        shown = [y for y in set(lines or ()) if 0 <= y < height]
        if lines is not None and shown and width:
            self.refresh(*(Region(0, y, width, 1) for y in shown))
        else:
            self.refresh()
        if self.new_count and self.at_newest and self.top == 0 and self.rows:
            self.new_count = 0  # the newest rows are in view: nothing is new any more
            self.seen_id = max(self.seen_id, self.rows[0].id)
        current = self.current
        key = (self.cursor, current) if current else None
        offscreen = self.offscreen
        if offscreen != self._offscreen:
            self._offscreen = offscreen
            self.post_message(self.SelectionMoved(offscreen))
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(current))

    # -- drawing ---------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        """A component style, as the CSS says while the list has focus or not (kept until
        the styles change: Textual's own cache is emptied by every repaint)."""
        styles = self._styles.setdefault(self.has_focus, {})
        found = styles.get(name)
        if found is None:
            if name == "base":
                found = self.rich_style
            else:  # the cursor's style whole, the others only what they set
                partial = name != "cursor"
                found = self.get_component_rich_style(f"mention-list--{name}", partial=partial)
            styles[name] = found
        return found

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = self.top + y
        if index >= len(self.rows):
            if y == 0 and not self.rows:
                text = (
                    "No mentions match this filter."
                    if self.filter.active
                    else ("No mentions yet. They appear here as they arrive.")
                )
                return Strip([Segment(fit(f" {text}", width), self._style("empty"))], width)
            return Strip.blank(width, self._style("base"))
        row = self.rows[index]
        return self._render_row(row, width, selected=index == self.cursor)

    def _render_row(self, row: Row, width: int, *, selected: bool) -> Strip:
        """The row's line, from the cache when nothing it shows has changed: scrolling
        repaints every line of the view, and most of them were drawn a key ago."""
        now = self.now()
        answered = row.answered_at is not None or row.status == "done"
        others = self.presence.get(row.id)
        timely = _Timely(
            age(row.created_at, now),
            clock(row.due_at, answered, now),
            row.follow_up_due is not None and row.follow_up_due <= now,
            presence_mark(others) if others else "",
        )
        # The cursor's colours differ when the list is blurred.
        key = (row.id, width, selected, selected and self.has_focus, timely, self.app.theme)
        found = self._lines.get(key)
        if found is not None and found[0] is row:  # rows are immutable: the same object
            return found[1]
        strip = self._draw_row(row, width, timely, selected=selected)
        self._lines[key] = (row, strip)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._combined.clear()
        self._lines.clear()  # a theme or CSS change restyles every line

    def _draw_row(self, row: Row, width: int, timely: _Timely, *, selected: bool) -> Strip:
        label = row.effective_label
        sentiment = self._style(label)
        meta = self._style("meta")
        narrow = width < 100
        author_w, source_w = (10, 8) if narrow else (16, 10)
        field_chars = 200  # of a field, looked at: its column is at most a few dozen cells
        status = "done" if row.status == "done" else "new"
        if row.deleted:
            status = "del"
        segments = [
            Segment(fit(timely.age, 4) + " ", meta),
            Segment(mark(label, row.operator_label is not None) + " ", sentiment),
            Segment(fit(one_line(row.source, field_chars), source_w) + " ", meta),
            Segment(fit(one_line(row.author, field_chars), author_w) + " "),
            Segment(fit(status, 4) + " ", self._style("done") if row.status == "done" else meta),
        ]
        late = timely.clock.startswith("!")
        segments.append(
            Segment(fit(timely.clock, CLOCK_WIDTH) + " ", self._style("negative") if late else meta)
        )
        if timely.presence:  # a mark and a short name: reads without color
            shown = fit(timely.presence, MARK_WIDTH) + " "
            segments.append(Segment(shown, self._style("presence")))
        if row.assigned_to is not None:  # who holds it, compactly: "@sam"
            holder = "@" + one_line(row.assigned_to, field_chars)
            segments.append(Segment(fit(holder, min(9, len(holder))) + " ", meta))
        if row.follow_up_due is not None:
            due = timely.follow_up_due
            segments.append(Segment("‼ " if due else "◷ ", self._style("due") if due else meta))
        if row.tags:
            tags = " ".join(f"#{one_line(tag, field_chars)}" for tag in row.tags)
            segments.append(Segment(fit(tags, min(24, len(tags) + 1)) + " ", self._style("tags")))
        used = sum(s.cell_length for s in segments)
        if used < width:
            segments.append(Segment(fit(first_line(row.text), width - used)))
        # Each segment in its final style at once: the widget's, then the cursor's (or the
        # dimming of a handled row), then its own.
        over = self._style("base")
        if selected:
            over += self._style("cursor")
        elif row.status == "done":
            over += _DIM
        combined = self._combined
        styled = []
        for text, style, _ in segments:
            if style is None:
                styled.append(Segment(text, over))
                continue
            pair = (over, style)
            both = combined.get(pair)
            if both is None:
                both = combined[pair] = over + style
            styled.append(Segment(text, both))
        if used < width:  # the text was cut or padded to the exact width
            return Strip(styled, width)
        return Strip(styled).crop_extend(0, width, over)

    def shown(self) -> list[Row]:
        """The rows in the window (tests and the status line read this)."""
        return list(self.rows)
