"""The Textual app: the live list, the detail pane, and the operator's actions.

The app reads and writes only through the store (``tui.store``). It opens separate
connections for reading the list, for the operator's writes, for the header's counts and for
ingest, so a write waiting on another process's lock never freezes the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingError, BindingType, InvalidBinding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tui.config import Config, ConfigError, KeySlot, keymap_problems
from tui.core.format import stamp
from tui.core.model import Assignment, Counts, Filter, Label, Row, utcnow
from tui.core.templates import CHAR_LIMITS, reply_length
from tui.core.text import one_line
from tui.runtime import SHUTDOWN_SECONDS, Runtime
from tui.store import Store, StoreError
from tui.store.presence import STALE_SECONDS, Activity, Presence, new_app_id
from tui.team import lease_status
from tui.ui import hangup
from tui.ui.keys import OrderedKeysApp
from tui.ui.screens.alerts import AlertsScreen
from tui.ui.screens.claims import AssignPrompt, NotePrompt
from tui.ui.screens.health import HealthScreen
from tui.ui.screens.help import HelpRow, HelpScreen
from tui.ui.screens.prompts import (
    Choice,
    ChoiceScreen,
    FilterScreen,
    FollowUpPrompt,
    FollowUpRequest,
    TagPrompt,
)
from tui.ui.screens.reply import ReplyEditor
from tui.ui.screens.team import TeamScreen
from tui.ui.screens.trends import TrendsScreen
from tui.ui.widgets.detail import DetailPane
from tui.ui.widgets.mention_list import MentionList

POLL_SECONDS = 0.25
"""How often the store is checked for changes made by other processes and connections."""
COUNTS_SECONDS = 10.0
LEASE_SECONDS = 1.0
"""How often the collector lease is read, so that a collector that died is shown as gone
(and nobody collecting) within about a second."""
PRESENCE_LOCK_SECONDS = 0.5
"""A heartbeat waits this long for the write lock, then is skipped until the next one."""
HANG_UP_SECONDS = SHUTDOWN_SECONDS + 3.0
"""After SIGHUP or SIGTERM, the process ends at the latest this long after the signal."""
WIDE_COLUMNS = 140
"""From this width on, the detail pane sits beside the list."""
FILTER_CELLS = 30
"""The most of the status line the list's filter takes, so that the counts after it still
show at 80 columns (the search box shows a search whole, the filter dialog the rest)."""
AGE_SECONDS = 15.0
"""How often the ages on screen (the detail pane's, the list's) are redrawn against the clock."""
HEARTBEAT_SECONDS = 2.5
"""How often this app writes its presence row (the others drop it ``STALE_SECONDS`` after)."""
PRESENCE_SECONDS = 0.5
"""How often the others' presence is read, and this app's selection checked for a change."""
PRESENCE_DEBOUNCE = 0.3
"""A new selection is written this long after the cursor stops."""
ALERT_TOAST_SECONDS = 8
"""How long an alert's toast stays (the status line keeps the count; ``!`` lists them)."""
REFRESH_ANYWAY_SECONDS = 10.0
"""A commit that changed nothing ``Store.content_stamp`` sees (a heartbeat, a page fetch's
progress) refreshes the list at most this often."""

_LABEL_CYCLE: tuple[Label | None, ...] = ("negative", "neutral", "positive", None)


def _quick_tag_bindings() -> list[BindingType]:
    return [
        Binding(str(n), f"quick_tag({n})", f"Quick tag {n}", show=False, id=f"quick_tag_{n}")
        for n in range(1, 10)
    ]


class TriageApp(OrderedKeysApp[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mention-triage"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-wide"),
    ]
    """The screen's class follows its width on every resize: ``-wide`` puts the detail pane
    beside the list (app.tcss), ``-narrow`` under it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "tag", "Tag", id="tag"),
        *_quick_tag_bindings(),
        Binding("s", "snapshot", "Snapshot", id="snapshot"),
        Binding("r", "reply", "Reply", id="reply"),
        Binding("f", "follow_up", "Follow-up", id="follow_up"),
        Binding("c", "complete_follow_up", "Follow-up done", show=False, id="complete_follow_up"),
        Binding("d", "toggle_done", "Done", id="done"),
        Binding("R", "mark_replied", "Replied elsewhere", show=False, id="replied"),
        Binding("o", "override_label", "Label", show=False, id="override_label"),
        Binding("a", "claim", "Take", show=False, id="claim"),
        Binding("A", "assign", "Assign", show=False, id="assign"),
        Binding("N", "note", "Note", show=False, id="note"),
        Binding("u", "undo", "Undo", show=False, id="undo"),
        Binding("slash", "search", "Search", id="search"),
        Binding("n", "negatives", "Open negatives", id="negatives"),
        Binding("U", "urgent", "Most urgent first", show=False, id="urgent"),
        Binding("F", "filter", "Filter", id="filter"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="clear_filters"),
        Binding("escape", "clear_search", "Clear search", show=False, id="clear_search"),
        Binding("H", "health", "Sources", show=False, id="health"),
        Binding("W", "team", "Team", show=False, id="team"),
        Binding("exclamation_mark", "alerts", "Alerts", show=False, id="alerts"),
        Binding("T", "trends", "Trends", show=False, id="trends"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        config: Config,
        db_path: Path,
        operator: str,
        *,
        demo_rate: float | None = None,
        demo_seed: int | None = None,
        demo_backlog: int = 60,
        collect: bool = True,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.db_path = db_path
        self.operator = operator
        self.demo_rate = demo_rate
        self.demo_seed = demo_seed
        self.demo_backlog = demo_backlog
        self.collect = collect
        self.read_only = read_only
        """Browse, search and read only: every action is refused, nothing feeds the store."""
        self.counts: Counts | None = None
        self.overdue: int | None = None
        """Open mentions past their response due time (read with the counts)."""
        self.alerts_open = 0
        """Alerts nobody has acknowledged (the status line shows them)."""
        self._ending = False
        """The watchdog that ends the process after a hang-up has started (``_end_soon``)."""
        self._ending_lock = threading.Lock()
        self._quitting = False
        self._alert_seen = 0
        """The newest alert id already announced: older ones never ring again."""
        self._held_toast: tuple[str, str, int] | None = None
        """(title, explanation, more) of an alert toast not shown yet (``_show_held_toast``)."""
        self.lease_text = ""
        """The status line's end about the collector: ``collecting``, who collects, or who
        did and is gone."""
        self.lease_warning = ""
        """Shown first on the status line while the collector lease's holder is gone or
        silent: ``no collector since 09:41Z`` (with the date when it is not today's)."""
        self._status_shown: Text | None = None
        self._data_version = -1
        self._stores: list[Store] = []
        self.presence: Store | None = None
        """The connection presence is written and read on (its own: a heartbeat waiting for
        the lock never holds up an operator's write or the list)."""
        self.started_at = utcnow()
        self.presence_id: str | None = None
        """This app's presence key; None while it is not shown to others (read-only)."""
        self.others: dict[int, list[Presence]] = {}
        """The other apps' presence by the mention they have selected (the presence poll's)."""
        self._present: list[tuple[Any, ...]] | None = None
        self._presence_state: tuple[int | None, Activity] = (None, "browsing")
        self._presence_since = self.started_at
        self._presence_written: tuple[int | None, Activity] | None = None
        self._presence_writing = False
        self._presence_again = False
        self._presence_failed = False
        self._presence_ok_at = time.monotonic()
        """When this app's presence row was last written (or the app started)."""
        self._presence_timer: Any = None
        self._stamp: tuple[int, ...] | None = None
        self._unseen_change = False
        self._refreshed_at = time.monotonic()
        self.runtime = Runtime(
            config,
            db_path,
            operator,
            log=lambda line: self.log.info(line),
            on_lease=self._lease_changed,
        )

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Container(id="main"):
            yield Placeholder()
            yield DetailPane(id="detail")
        yield Input(placeholder="search (Enter: back to the list, escape: clear)", id="search")
        yield Footer()

    async def on_mount(self) -> None:
        try:
            self.store = await self._open()
            self.writer = await self._open()
            self.stats = await self._open()
        except StoreError as error:
            self.exit(message=str(error))
            return
        if self.config.keys:
            self.set_keymap(dict(self.config.keys))
        if not self.is_headless:
            loop = asyncio.get_running_loop()
            for number in (signal.SIGHUP, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(number, self._hang_up)
            with contextlib.suppress(AttributeError, ValueError, OSError):  # no real terminal
                terminal = (sys.__stdin__.fileno(), sys.__stdout__.fileno())  # type: ignore[union-attr]
                hangup.watch(terminal, partial(self._hung_up, loop))
        mentions = MentionList(self.store, id="list")
        await self.query_one(Placeholder).remove()
        await self.query_one("#main").mount(mentions, before=0)
        mentions.focus()
        await mentions.load()
        self._data_version = await self.store.data_version()
        # Alerts stored before the app started are listed by ``!``, not announced.
        self._alert_seen, self.alerts_open = await self.store.alert_status()
        self.set_interval(POLL_SECONDS, self._poll_store)
        self.set_interval(COUNTS_SECONDS, self._refresh_counts)
        self.set_interval(LEASE_SECONDS, self._refresh_lease)
        self.set_interval(AGE_SECONDS, self._refresh_ages)
        self._stamp = await self.store.content_stamp()
        self._refreshed_at = time.monotonic()
        self.run_worker(self._start_presence(), group="presence", exit_on_error=False)
        self._refresh_counts()
        self._refresh_lease()
        if self.read_only:  # no demo stream, no collector, no page fetches: they all write
            self.notify(one_line(self._read_only_message()), timeout=10, markup=False)
        else:
            self._start_feeders()

    def _start_feeders(self) -> None:
        """The demo stream or the collector, the page fetches and the alert rules."""
        if self.demo_rate is not None:
            self.run_worker(
                self.runtime.run_demo(
                    rate=self.demo_rate, seed=self.demo_seed, backlog=self.demo_backlog
                ),
                group="demo",
                exit_on_error=False,
            )
        if self.collect and self.runtime.collects:
            self.run_worker(self.runtime.run_collector(), group="collector", exit_on_error=False)
        self.runtime.start_pages()
        self.runtime.start_alerts(demo=self.demo_rate is not None)

    async def _open(self) -> Store:
        store = await Store.open(
            self.db_path, self.operator, read_only=self.read_only, sla=self.config.on_call.sla
        )
        self._stores.append(store)
        return store

    async def on_event(self, event: events.Event) -> None:
        """A key that arrives named by its glyph (``!`` rather than ``exclamation_mark``, as
        some input paths post it) is renamed the way the terminal driver names it, so it
        finds its binding like a typed one."""
        if (
            isinstance(event, events.Key)
            and len(event.key) == 1
            and event.key.isprintable()
            and not event.key.isalnum()
        ):
            with contextlib.suppress(ValueError):
                (name,) = _key_names(event.key)
                if name != event.key:
                    event = events.Key(name, event.character)
        await super().on_event(event)

    async def action_quit(self) -> None:
        """Ask first if a reply is being written; store it, let the feeders store the batch in
        hand (they watch ``stop``), then exit."""
        editors = [s for s in self.screen_stack if isinstance(s, ReplyEditor)]
        if any(editor.unsaved for editor in editors) and not isinstance(self.screen, ChoiceScreen):

            async def decided(answer: str | None) -> None:
                if answer is not None:
                    await self._quit(keep=answer == "save")

            await self.push_screen(
                ChoiceScreen(
                    "A reply is open with changes. Quit?",
                    [
                        Choice("s", "Save it as the draft and quit", "save"),
                        Choice("d", "Discard the changes and quit", "discard"),
                    ],
                    cancel="back to the reply",
                ),
                decided,
            )
            return
        await self._quit(keep=True)

    async def _quit(self, *, keep: bool) -> None:
        for editor in [s for s in self.screen_stack if isinstance(s, ReplyEditor)]:
            text = None if keep else editor.opened_with
            with contextlib.suppress(StoreError, KeyError, ValueError):
                await editor.store_text(text, record=True)
        await self._leave()
        await self._stop_feeders()
        self.exit()

    def _hang_up(self) -> None:
        """The terminal went away (SIGHUP: a dropped SSH session) or SIGTERM: keep every open
        reply as a draft and exit. With no terminal left, restoring the screen can block for
        ever, so a watchdog ends the process ``HANG_UP_SECONDS`` later whatever happens; what
        was saved is committed by then, and SQLite needs nothing more."""
        self._end_soon()
        if not self._quitting:  # a signal and the terminal watch may both say so
            self._quitting = True
            self.run_worker(self._quit(keep=True), group="quit", exit_on_error=False)

    def _hung_up(self, loop: asyncio.AbstractEventLoop) -> None:
        """The terminal hung up with no signal handled (``hangup``; in its thread): the loop
        may be stuck on the dead terminal, so the watchdog starts from here."""
        self._end_soon()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._hang_up)

    def _end_soon(self) -> None:
        """Start the watchdog that ends the process ``HANG_UP_SECONDS`` from now (once)."""
        with self._ending_lock:
            if self._ending:
                return
            self._ending = True
        watchdog = threading.Timer(HANG_UP_SECONDS, os._exit, args=(0,))
        watchdog.daemon = True
        watchdog.start()

    async def _stop_feeders(self) -> None:
        self.runtime.stop.set()
        feeders = [w for w in self.workers if w.group in ("collector", "demo")]

        async def finished() -> None:
            for worker in feeders:
                with contextlib.suppress(WorkerCancelled, WorkerFailed):
                    await worker.wait()

        try:
            await asyncio.wait_for(finished(), SHUTDOWN_SECONDS)
        except TimeoutError:
            for worker in feeders:
                worker.cancel()

    async def on_unmount(self) -> None:
        await self._leave()
        await self._stop_feeders()
        await self.runtime.close()
        for store in self._stores:
            await store.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A feeder or a write failed: say so, and keep the operator's session going."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                one_line(f"{event.worker.group or 'background task'} stopped: {error}"),
                severity="error",
                timeout=15,
                markup=False,
            )

    @property
    def mentions(self) -> MentionList:
        return self.query_one(MentionList)

    # -- keeping up with the store ---------------------------------------------------------

    async def _poll_store(self) -> None:
        self._show_held_toast()
        version = await self.store.data_version()
        if version != self._data_version:
            self._data_version = version
            await self._poll_alerts()
            # Every heartbeat is a commit too: re-read the list only when its data changed.
            stamp = await self.store.content_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                self._data_changed()
                return
            self._unseen_change = True
        if self._unseen_change and time.monotonic() - self._refreshed_at >= REFRESH_ANYWAY_SECONDS:
            self._data_changed()

    async def _poll_alerts(self) -> None:
        """Announce alerts stored since the last look (one toast and one bell per poll), and
        keep the unacknowledged count current. Alerts are rows like mentions: written by the
        lease holder, wherever it runs, and seen here by the same poll."""
        newest, open_count = await self.store.alert_status()
        if open_count != self.alerts_open:
            self.alerts_open = open_count
            self._render_status()
        if newest <= self._alert_seen:
            return
        seen, self._alert_seen = self._alert_seen, newest
        fresh = [a for a in await self.store.alerts(limit=2) if a.id > seen]
        if not fresh:
            return
        # One toast per poll, however many arrived: a storm must not bury the screen.
        newest_alert, more = fresh[0], newest - seen - 1
        if self._held_toast is not None:  # arrived while a dialog was open: still unseen
            more += self._held_toast[2] + 1
        self._held_toast = (newest_alert.title, newest_alert.explanation, more)
        self.bell()
        self._show_held_toast()

    def _show_held_toast(self) -> None:
        """The newest alert's toast, once the list is on screen: over a dialog, a prompt, the
        reply editor or the search box it would hide what the operator is reading or typing
        (the bell has rung; the toast waits until they are back)."""
        if self._held_toast is None or len(self.screen_stack) > 1:
            return
        if isinstance(self.focused, (Input, TextArea)):  # the search being typed, say
            return
        title, explanation, more = self._held_toast
        self._held_toast = None
        explanation = one_line(explanation, 300)
        if more:
            noun = "alert" if more == 1 else "alerts"
            explanation += f" (and {more:,} more new {noun}: ! lists them)"
        self.notify(
            explanation,
            title=one_line(title, 120),
            severity="warning",
            timeout=ALERT_TOAST_SECONDS,
            markup=False,
        )

    def _data_changed(self) -> None:
        if not self.query(MentionList):  # quitting: the screen went while the poll awaited
            return
        self._unseen_change = False
        self._refreshed_at = time.monotonic()
        self.mentions.post_message(MentionList.DataChanged())
        self._refresh_counts()
        self._show_detail(self.mentions.current)

    # -- presence ------------------------------------------------------------------------------

    def _own_state(self) -> bool:
        """Note what this app has selected and whether a reply is open; True if that changed."""
        row = self.mentions.current if self.query(MentionList) else None
        replying = any(isinstance(screen, ReplyEditor) for screen in self.screen_stack)
        activity: Activity = "browsing" if row is None else "replying" if replying else "looking"
        state = (row.id if row else None, activity)
        if state == self._presence_state:
            return False
        self._presence_state = state
        self._presence_since = utcnow()
        return True

    async def _start_presence(self) -> None:
        """Open the presence connection (after the list is shown), then beat and poll."""
        try:
            self.presence = await self._open()
            await self.presence.wait_for_lock(PRESENCE_LOCK_SECONDS)
        except StoreError as error:
            self._presence_error(error, at_once=True)
            return
        self._presence_ok_at = time.monotonic()  # (however long the first load took)
        if not self.read_only:  # a read-only app cannot write its row: it is not shown
            self.presence_id = new_app_id()
            self.set_interval(HEARTBEAT_SECONDS, self._write_presence)
            self._write_presence()
        self.set_interval(PRESENCE_SECONDS, self._poll_presence)
        await self._poll_presence()

    def _selection_changed(self) -> None:
        """Write the new selection once the cursor has stopped for ``PRESENCE_DEBOUNCE``."""
        self._own_state()
        if self.presence_id is None or self._presence_state == self._presence_written:
            return
        if self._presence_timer is not None:
            self._presence_timer.stop()
        self._presence_timer = self.set_timer(PRESENCE_DEBOUNCE, self._write_presence)

    def _write_presence(self) -> None:
        """The heartbeat: write this app's row off the key path (one write at a time)."""
        if self.presence_id is None:
            return
        if self._presence_writing:
            self._presence_again = True
            return
        self._presence_writing = True
        self.run_worker(self._beat(), group="presence", exit_on_error=False)

    async def _beat(self) -> None:
        try:
            again = True
            while again and self.presence_id is not None and self.presence is not None:
                self._presence_again = False
                self._own_state()
                state = self._presence_state
                try:
                    await self.presence.beat(
                        self.presence_id, self.started_at, *state, self._presence_since
                    )
                except StoreError as error:
                    self._presence_error(error)
                else:
                    self._presence_written = state
                    self._presence_ok_at = time.monotonic()
                    self._presence_failed = False
                again = self._presence_again
        finally:
            self._presence_writing = False

    def _presence_error(self, error: Exception, *, at_once: bool = False) -> None:
        """Say that presence is not shared once the others no longer see this app: when its
        row was last written ``STALE_SECONDS`` ago or more (``at_once``: presence cannot start
        at all). A write that lost the lock to a busy database is simply tried again: under
        load several can fail within seconds (each selection is a write) while the row the
        others read is still fresh. Said once until a write succeeds again."""
        gone = time.monotonic() - self._presence_ok_at >= STALE_SECONDS
        if (at_once or gone) and not self._presence_failed:
            self._presence_failed = True
            self.notify(
                one_line(f"Presence not shared: {error}"),
                severity="warning",
                timeout=8,
                markup=False,
            )

    async def _leave(self) -> None:
        """Delete this app's presence row (quitting): the others stop showing it at once."""
        app_id, self.presence_id = self.presence_id, None
        if app_id is not None and self.presence is not None:
            with contextlib.suppress(StoreError):
                await self.presence.leave(app_id)

    async def _poll_presence(self) -> None:
        """Read the others' presence; redraw the list's marks and the detail pane's line when it
        changed (no list rows are read). Also catches the reply editor opening or closing."""
        if self.presence is None or not self.query(MentionList):  # closing
            return
        if self._own_state():
            self._selection_changed()
        try:
            present = await self.presence.present()
        except StoreError as error:
            self._presence_error(error)
            return
        if not self.query(MentionList):  # the app closed while the store answered
            return
        others = [p for p in present if p.app != self.presence_id]
        key = [(p.app, p.operator, p.mention_id, p.activity, p.activity_since) for p in others]
        if key == self._present:
            return
        self._present = key
        by_mention: dict[int, list[Presence]] = {}
        for presence in others:
            if presence.mention_id is not None:
                by_mention.setdefault(presence.mention_id, []).append(presence)
        self.others = by_mention
        self.mentions.presence = by_mention
        self.mentions.refresh()
        self._show_presence()

    def _show_presence(self) -> None:
        if not self.query(MentionList) or not self.query(DetailPane):
            return
        row = self.mentions.current
        others = self.others.get(row.id, []) if row else []
        self.query_one(DetailPane).show_presence(row.id if row else None, others)

    def _refresh_ages(self) -> None:
        """Redraw what shows ages (no store read: the mention shown is redrawn as it is)."""
        self.query_one(DetailPane).refresh_ages()
        for mentions in self.query(MentionList):  # none until the store is open
            mentions.refresh()

    def _lease_changed(self, _held: bool) -> None:
        """The status line names the collector's holder: at once, not at the next counts
        refresh (and not while closing, when the stores are going)."""
        if not self.runtime.stop.is_set():
            self._refresh_lease()

    @work(exclusive=True, group="counts", exit_on_error=False)
    async def _refresh_counts(self) -> None:
        self.counts = await self.stats.counts()
        self.overdue = await self.stats.overdue()
        self._render_status()

    @work(exclusive=True, group="lease", exit_on_error=False)
    async def _refresh_lease(self) -> None:
        """Read who holds the collector lease (a holder whose process is gone is shown as
        gone, not as collecting), every ``LEASE_SECONDS``; redraw the status line if what it
        says about it changed."""
        lease = await self.stats.lease(self.runtime.lease_ttl)
        warning, text = lease_status(lease, self.runtime.holder, collects=bool(self.config.sources))
        if (warning, text) != (self.lease_warning, self.lease_text):
            self.lease_warning, self.lease_text = warning, text
            self._render_status()

    def _render_status(self) -> None:
        """One row, most important first, so a narrow terminal cuts the least useful part:
        open alerts, the filter the list is under (cut to ``FILTER_CELLS``: an operator who
        forgot it would read a filtered list as the whole stream), open negatives, due
        follow-ups and overdue mentions, arrivals above the view, where the selection went,
        the new and total counts, the collector holder, and last the brand. A collector that
        is gone, with nobody in its place, is said right after the alerts."""
        status = Text(no_wrap=True, overflow="ellipsis")
        if self.read_only:  # first, so a narrow terminal never cuts it
            status.append(" read-only │", "bold reverse")
        if self.alerts_open:
            noun = "alert" if self.alerts_open == 1 else "alerts"
            status.append(f" ! {self.alerts_open:,} {noun} (!) │", "bold reverse")
        if self.lease_warning:  # the collector is gone and nobody took over: before the counts
            status.append(f" {self.lease_warning} (H) │", "bold reverse")
        mentions = self.mentions
        if mentions.filter.active:
            # Made single-line (a search is typed text) and cut in cells, not characters.
            shown = Text(f"only {one_line(mentions.filter.describe())}", "bold italic")
            shown.truncate(FILTER_CELLS, overflow="ellipsis")
            status.append(" ").append_text(shown).append(" │")
        counts = self.counts
        if counts is not None:
            status.append(f" ▼ {counts.negative_open:,} open neg", "bold")
            status.append(f" · ◷ {counts.follow_ups_due:,} due")
            if self.overdue is not None:  # open mentions past their response due time
                status.append(f" · {self.overdue:,} overdue", "bold" if self.overdue else "")
        # Where the list went, before the totals: at 80 columns it must not be what is cut.
        if mentions.new_count:
            status.append(f" │ ↑ {mentions.new_count:,} new (g)", "bold reverse")
        offscreen = mentions.offscreen
        if offscreen:
            where = f"↓ {offscreen:,} below" if offscreen > 0 else f"↑ {-offscreen:,} above"
            status.append(f" │ selected: {where} the view", "bold")
        if counts is not None:
            status.append(" │ ")
            status.append(f"{counts.new:,} new", "bold")
            status.append(f" · {counts.total:,} total")
        # Every name here is made single-line: the status line must stay one row.
        if self.lease_text:
            status.append(f" │ {one_line(self.lease_text)}", "dim")
        status.append(f" │ {one_line(self.config.brand)} ", "bold")
        if status != self._status_shown:  # it is one row whatever it says: no layout
            self._status_shown = status
            self.query_one("#status", Static).update(status, layout=False)

    @on(MentionList.Highlighted)
    def _highlighted(self, message: MentionList.Highlighted) -> None:
        self._selection_changed()
        self._show_presence()
        self._show_detail(message.row)
        self._render_status()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def _show_detail(self, row: Row | None) -> None:
        await asyncio.sleep(0.03)  # let a run of cursor moves settle first
        mention = await self.store.mention(row.id) if row else None
        self.query_one(DetailPane).show(mention)

    @on(MentionList.NewArrivals)
    @on(MentionList.SelectionMoved)
    def _list_moved(self) -> None:
        self._render_status()

    # -- operator actions ----------------------------------------------------------------------

    def _selected(self) -> Row | None:
        row = self.mentions.current
        if row is None:
            self.notify("No mention selected.", severity="warning", timeout=2)
        return row

    def _read_only_message(self) -> str:
        reason = self.store.read_only_reason if self.read_only else ""
        return f"Read-only: nothing can be changed here ({reason})"

    def _refused(self) -> bool:
        """In read-only mode, say so (one message for every action) and refuse."""
        if self.read_only:
            self.notify(
                one_line(self._read_only_message()), severity="warning", timeout=5, markup=False
            )
        return self.read_only

    def _write(self, action: Callable[[], Awaitable[Any]], done: str | None = None) -> None:
        """Run a store write off the key handler; report failures, refresh on success.
        Every operator action goes through here; in read-only mode it is refused."""
        if self._refused():
            self.mentions.post_message(MentionList.DataChanged())  # undo what was shown
            return

        lists = list(self.query(MentionList))  # none while the app starts or quits
        for mentions in lists:
            mentions.writing += 1

        async def run() -> None:
            try:
                await action()
            except (StoreError, KeyError, ValueError) as error:
                self.notify(
                    one_line(f"Not saved: {error}"), severity="error", timeout=8, markup=False
                )
                for mentions in lists:
                    mentions.post_message(MentionList.DataChanged())
                return
            finally:
                for mentions in lists:
                    mentions.writing -= 1
            if done:
                self.notify(one_line(done), timeout=2, markup=False)  # may carry a tag name
            self._show_detail(self.mentions.current)

        self.run_worker(run(), group="writes", exit_on_error=False)

    async def _tag_choices(self) -> list[str]:
        """The config's quick tags and every tag in use."""
        return sorted({*self.config.quick_tags, *await self.store.known_tags()})

    def _toggle_tag(self, row: Row, tag: str) -> None:
        if tag in row.tags:
            tags = tuple(t for t in row.tags if t != tag)
            self.mentions.update_row(replace(row, tags=tags))
            self._write(lambda: self.writer.remove_tag(row.id, tag), f"Removed #{tag}")
        else:
            tags = tuple(sorted({*row.tags, tag}))
            self.mentions.update_row(replace(row, tags=tags))
            self._write(lambda: self.writer.add_tag(row.id, tag), f"Tagged #{tag}")

    async def action_tag(self) -> None:
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return
        known = await self._tag_choices()

        def chosen(tag: str | None) -> None:
            if tag:
                self._toggle_tag(row, tag)

        self.push_screen(TagPrompt(known, row.tags), chosen)

    def action_quick_tag(self, number: int) -> None:
        row = self._selected()
        if row is None:
            return
        if number > len(self.config.quick_tags):
            self.notify(f"No quick tag {number}; set quick_tags in the config.", timeout=3)
            return
        self._toggle_tag(row, self.config.quick_tags[number - 1])

    def action_snapshot(self) -> None:
        row = self._selected()
        if row is None:
            return

        async def snap() -> None:
            snapshot = await self.runtime.pages.snapshot(self.writer, row.id)
            self.notify(f"Snapshot saved · sha256 {snapshot.sha256[:12]}…", timeout=3)

        self._write(snap)

    async def action_reply(self) -> None:
        if self._refused():  # before the editor opens: a draft could not be saved
            return
        row = self._selected()
        if row is None:
            return
        mention = await self.store.mention(row.id)
        if mention is None:
            return
        mine = [d.text for d in mention.drafts if d.by == self.operator]

        async def save(text: str, record: bool) -> None:
            await self.writer.save_draft(row.id, text, event=record)
            self._show_detail(self.mentions.current)

        editor = ReplyEditor(
            author=mention.author,
            text=mention.text,
            draft=mine[-1] if mine else "",
            templates=self.config.templates,
            limit=self.char_limit(mention.source),
            brand=self.config.brand,
            operator=self.operator,
            save=save,
            count=partial(reply_length, self.source_kind(mention.source)),
            changes=partial(self._changes_since, row.id),
            mark_done=partial(self._reply_done, row.id),
            copied=partial(self._reply_copied, row.id),
        )
        opened_with = editor.opened_with

        def closed(text: str | None) -> None:
            if text is not None and text != opened_with:
                self.notify("Draft saved" if text else "Draft removed", timeout=2)

        await self.push_screen(editor, closed)

    def source_kind(self, source: str) -> str:
        """The kind of the configured source named ``source`` (a demo or imported mention's
        source name is taken as its kind: ``mastodon``, ``bluesky`` ...)."""
        return next((s.kind for s in self.config.sources if s.name == source), source)

    def char_limit(self, source: str) -> int | None:
        kind = self.source_kind(source)
        return self.config.char_limits.get(kind, CHAR_LIMITS.get(kind))

    def action_follow_up(self) -> None:
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return

        def chosen(request: FollowUpRequest | None) -> None:
            if request is None:
                return
            self.mentions.update_row(replace(row, follow_up_due=request.due_at))
            self._write(
                lambda: self.writer.set_follow_up(row.id, request.due_at, request.note),
                "Follow-up set",
            )

        self.push_screen(FollowUpPrompt(), chosen)

    def action_complete_follow_up(self) -> None:
        row = self._selected()
        if row is None:
            return
        if row.follow_up_due is None:
            self.notify("No follow-up on this mention: f sets one.", timeout=3)
            return
        self.mentions.update_row(replace(row, follow_up_due=None))
        self._write(lambda: self.writer.complete_follow_up(row.id), "Follow-up done")

    def action_toggle_done(self) -> None:
        row = self._selected()
        if row is None:
            return
        status = "new" if row.status == "done" else "done"
        self.mentions.update_row(replace(row, status=status))
        self._write(
            lambda: self.writer.set_status(row.id, status),
            "Marked done" if status == "done" else "Reopened",
        )

    def action_mark_replied(self) -> None:
        """Record that the selected mention was answered outside the app (its clock stops)."""
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return
        if row.answered_at is None:
            self.mentions.update_row(replace(row, answered_at=utcnow()))
        self._write(lambda: self.writer.mark_replied(row.id), "Marked replied")

    def action_override_label(self) -> None:
        row = self._selected()
        if row is None:
            return
        index = _LABEL_CYCLE.index(row.operator_label) if row.operator_label in _LABEL_CYCLE else -1
        label = _LABEL_CYCLE[(index + 1) % len(_LABEL_CYCLE)]
        self.mentions.update_row(replace(row, operator_label=label))
        self._write(
            lambda: self.writer.set_operator_label(row.id, label),
            f"Label: {label}" if label else "Label: back to the machine's",
        )

    # -- team work: claims, assignment, notes, undo (tui/store/claims.py, notes.py, undo.py) -----

    def action_claim(self) -> None:
        """Take the mention (release it when it is already mine); someone else's asks first."""
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return
        if row.assigned_to == self.operator:
            self._set_holder(row, None, expected=self.operator)
            return
        if row.assigned_to is None:
            self._set_holder(row, self.operator, expected=None)
            return
        holder = row.assigned_to

        def decided(answer: str | None) -> None:
            if answer == "take":
                self._set_holder(row, self.operator, expected=holder)

        self.push_screen(
            ChoiceScreen(
                f"{one_line(holder, 60)} holds this mention. Take it from them?",
                [
                    Choice("k", f"Leave it with {one_line(holder, 40)}", "keep"),
                    Choice("t", "Take it", "take"),
                ],
                cancel="leave it",
            ),
            decided,
        )

    def _set_holder(self, row: Row, holder: str | None, *, expected: str | None) -> None:
        """Claim, assign or release through the store's compare-and-set; a loss says who
        holds the mention instead."""
        self.mentions.update_row(replace(row, assigned_to=holder))

        async def write() -> None:
            if holder == self.operator:
                result = await self.writer.claim(row.id, taking_from=expected)
            else:
                result = await self.writer.assign(row.id, holder, expected=expected)
            if not result.won:
                self.notify(
                    one_line(f"Not changed: {result.holder or 'nobody'} holds it now."),
                    severity="warning",
                    timeout=6,
                    markup=False,
                )
            elif holder == self.operator:
                self.notify("Taken: assigned to you", timeout=2)
            else:
                said = f"Assigned to {holder}" if holder else "Released"
                self.notify(one_line(said), timeout=2, markup=False)
            self.mentions.post_message(MentionList.DataChanged())

        self._write(write)

    async def action_assign(self) -> None:
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return
        known = await self.store.operators()

        def chosen(name: str | None) -> None:
            if name is not None:
                self._set_holder(row, name or None, expected=row.assigned_to)

        self.push_screen(AssignPrompt(known, row.assigned_to), chosen)

    def action_note(self) -> None:
        if self._refused():
            return
        row = self._selected()
        if row is None:
            return

        def chosen(text: str | None) -> None:
            if text:
                self._write(lambda: self.writer.add_note(row.id, text), "Note added")

        self.push_screen(NotePrompt(), chosen)

    def action_undo(self) -> None:
        async def undo() -> None:
            undone = await self.writer.undo()
            if undone is None:
                self.notify("Nothing to undo.", timeout=2)
            else:
                self.notify(one_line(f"Undid {undone.describe()}"), timeout=3, markup=False)
            self.mentions.post_message(MentionList.DataChanged())

        self._write(undo)

    async def _changes_since(self, mention_id: int, since: datetime) -> list[str]:
        """What others did to the mention since ``since``, one line each (the reply editor's
        collision guard)."""
        changes = await self.store.changes_since(mention_id, since)
        return [f"{stamp(c.at)} {c.by} {c.what}" for c in changes]

    async def _reply_done(self, mention_id: int) -> None:
        await self.writer.set_status(mention_id, "done")
        self.mentions.post_message(MentionList.DataChanged())

    async def _reply_copied(self, mention_id: int) -> None:
        await self.writer.reply_copied(mention_id)

    # -- finding -------------------------------------------------------------------------------

    def _apply_filter(self, filt: Filter, *, stay: bool = False) -> None:
        """Show ``filt``'s rows; ``stay``: on the selected mention, when ``filt`` holds it
        (what clearing a search or a filter does)."""
        current = self.mentions.current if stay else None
        # Through the list's own queue, so a load never interleaves with a live refresh.
        self.mentions.post_message(MentionList.Load(filt, current.id if current else None))

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._debounced_search(event.value)

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _debounced_search(self, text: str) -> None:
        await asyncio.sleep(0.15)
        search = text.strip() or None
        self._apply_filter(replace(self.mentions.filter, search=search), stay=search is None)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter searches at once (no debounce), so keys after it act on the result."""
        self.workers.cancel_group(self, "search")
        search = event.value.strip() or None
        if search != self.mentions.filter.search:
            self._apply_filter(replace(self.mentions.filter, search=search), stay=search is None)
        self.mentions.focus()

    def _hide_search(self) -> None:
        search = self.query_one("#search", Input)
        search.remove_class("shown")
        with search.prevent(Input.Changed):
            search.value = ""

    def action_clear_search(self) -> None:
        if not self.query_one("#search").has_class("shown") and not self.mentions.filter.search:
            return
        self._hide_search()
        self.mentions.focus()
        self._apply_filter(replace(self.mentions.filter, search=None), stay=True)

    def action_urgent(self) -> None:
        """Toggle "most urgent first": open, unanswered mentions by response due time."""
        current = self.mentions.filter
        self._apply_filter(replace(current, urgent=not current.urgent), stay=current.urgent)

    def action_negatives(self) -> None:
        current = self.mentions.filter
        on = current.negative_only
        self._apply_filter(replace(current, negative_only=not on), stay=on)

    async def action_filter(self) -> None:
        tags = await self._tag_choices()
        sources = await self.store.sources()

        async def chosen(filt: Filter | None) -> None:
            if filt is not None:
                self._apply_filter(filt, stay=True)

        self.push_screen(FilterScreen(self.mentions.filter, tags, sources), chosen)

    def action_clear_filters(self) -> None:
        self._hide_search()
        self._apply_filter(Filter(), stay=True)

    # -- screens -------------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[HelpRow]:
        """Every binding, on the main screen and in the reply editor, with the keys in force
        (after the config's ``[keys]``) and its id; the reply editor's after the main screen's."""
        rows: list[HelpRow] = []
        keymap = dict(self.config.keys)
        for scope in KEY_SCOPES:
            lines = []
            for bound in _bound_keys():
                if bound.scope != scope or not bound.listed or bound.binding.system:
                    continue
                binding = bound.binding
                description = binding.description or binding.action.replace("_", " ")
                if binding.action.startswith("quick_tag("):
                    number = int(binding.action[len("quick_tag(") : -1])
                    tags = self.config.quick_tags
                    tag = f"#{tags[number - 1]}" if number <= len(tags) else "(none set)"
                    description = f"{description}: {tag}"
                keys = bound.keys
                if binding.id and binding.id in keymap:
                    keys = _key_names(keymap[binding.id])
                shown = ", ".join(self.get_key_display(binding.with_key(key)) for key in keys)
                lines.append(HelpRow(scope, shown, description, binding.id or ""))
            rows.extend(sorted(lines, key=lambda r: r.description.lower()))
        return rows

    def action_team(self) -> None:
        self.push_screen(TeamScreen(self.presence or self.stats, self.presence_id))

    def action_alerts(self) -> None:
        def chosen(mention_id: int | None) -> None:
            if mention_id is not None:
                self.mentions.post_message(MentionList.Show(mention_id))

        # The list shows them: nothing left to announce, and no toast left over it.
        self._held_toast = None
        self.clear_notifications()
        self.push_screen(
            AlertsScreen(self.stats, self.operator, acknowledge=self._acknowledge), chosen
        )

    def _acknowledge(self, alert_id: int) -> bool:
        """Acknowledge as this operator (False: refused, read-only)."""
        if self._refused():
            return False
        self._write(lambda: self.writer.acknowledge(alert_id), "Alert acknowledged")
        return True

    @on(MentionList.Shown)
    def _mention_shown(self, message: MentionList.Shown) -> None:
        if not message.found:
            self.notify(f"Mention {message.mention_id} is not stored.", severity="warning")

    def action_trends(self) -> None:
        terms = (self.config.brand, *self.config.brand_terms)
        weeks = self.config.on_call.baseline.weeks
        self.push_screen(TrendsScreen(self.stats, weeks=weeks, brand_terms=terms))

    def action_health(self) -> None:
        configured = [source.name for source in self.config.sources]
        self.push_screen(
            HealthScreen(
                self.stats,
                configured,
                demo=self.demo_rate is not None,
                lease_ttl=self.runtime.lease_ttl,
            )
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Tag", "Tag the selected mention", self.action_tag),
            ("Snapshot", "Save the selected mention as evidence", self.action_snapshot),
            ("Reply", "Draft a reply to the selected mention", self.action_reply),
            ("Follow up", "Set a follow-up on the selected mention", self.action_follow_up),
            (
                "Follow-up done",
                "Complete the selected mention's follow-up",
                self.action_complete_follow_up,
            ),
            ("Mark done / reopen", "Toggle the selected mention's status", self.action_toggle_done),
            (
                "Override sentiment",
                "Cycle the operator's label: neg/neu/pos/clear",
                self.action_override_label,
            ),
            ("Search", "Full-text search", self.action_search),
            (
                "Open negatives",
                "Toggle showing only open negatives (negative and not done)",
                self.action_negatives,
            ),
            ("Filter", "Filter by tag, status, source or due follow-ups", self.action_filter),
            ("Clear filters", "Show every mention", self.action_clear_filters),
            ("Follow-ups due", "Show mentions whose follow-up is due", self._due_filter),
            ("Source health", "State of each source and the collector", self.action_health),
            ("Alerts", "Recent alerts: jump to their mention, acknowledge", self.action_alerts),
            (
                "Trends",
                "Volume and negatives per hour against the usual, by source; rising words",
                self.action_trends,
            ),
            (
                "Most urgent first",
                "Toggle showing open, unanswered mentions by response due time",
                self.action_urgent,
            ),
            (
                "Mark replied",
                "Record that the selected mention was answered elsewhere",
                self.action_mark_replied,
            ),
            ("Team", "Who is running the app, what they have selected, handled", self.action_team),
            ("Take / release", "Take the selected mention, or release it", self.action_claim),
            ("Assign", "Assign the selected mention to another operator", self.action_assign),
            ("Team note", "Add an internal note to the selected mention", self.action_note),
            ("Undo", "Undo your last action", self.action_undo),
            ("My mentions", "Show the mentions assigned to you", partial(self._held, "mine")),
            ("Unassigned", "Show the mentions nobody holds", partial(self._held, "unassigned")),
            ("Assigned", "Show the mentions someone holds", partial(self._held, "assigned")),
            ("Help", "List every key", self.action_help),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)

    def _due_filter(self) -> None:
        self._apply_filter(Filter(follow_ups_due=True))

    def _held(self, assignment: Assignment) -> None:
        self._apply_filter(Filter(assignment=assignment))


KEY_SCOPES = ("main screen", "reply editor")
"""Where bindings are in force. A modal screen's bindings replace the main screen's while it
is open (Textual stops the binding chain at a modal screen), so the same key may do one thing
in the list and another in the reply editor; only the app's priority bindings (quit on
``ctrl+q``, the command palette) are in force everywhere."""


@dataclass(frozen=True, slots=True)
class _Bound:
    scope: str
    binding: Binding
    """The binding as declared (its first key), carrying its id, action and description."""
    keys: tuple[str, ...]
    """Its default keys, as key names."""
    listed: bool = True
    """Shown by ``?``: not for an app priority binding repeated in another scope (listed once,
    on the main screen), nor for the reply text box's own editing keys."""


def _bindings_of(owner: type) -> list[Binding]:
    """``owner``'s bindings with the ones it inherits, one ``Binding`` per key."""
    merged: list[Binding] = []
    for base in reversed(owner.__mro__):
        merged.extend(Binding.make_bindings(base.__dict__.get("BINDINGS", ())))
    palette_bound = any(b.action in ("command_palette", "app.command_palette") for b in merged)
    if issubclass(owner, App) and owner.ENABLE_COMMAND_PALETTE and not palette_bound:
        palette = Binding(
            owner.COMMAND_PALETTE_BINDING, "command_palette", "Command palette", priority=True
        )
        merged.extend(Binding.make_bindings([palette]))
    return merged


def _bound_keys() -> list[_Bound]:
    """Every binding of the main screen (the app, the list) and of the reply editor."""
    owners: dict[str, tuple[type, ...]] = {
        "main screen": (TriageApp, Screen, MentionList),
        "reply editor": (ReplyEditor, TextArea),
    }
    found: dict[tuple[str, str], _Bound] = {}
    for scope, classes in owners.items():
        for owner in classes:
            for binding in _bindings_of(owner):
                slot = (scope, binding.id or f"{owner.__name__}.{binding.action}")
                if slot in found:
                    bound = found[slot]
                    found[slot] = replace(bound, keys=(*bound.keys, binding.key))
                else:
                    listed = owner is not TextArea  # the text box's editing keys
                    found[slot] = _Bound(scope, binding, (binding.key,), listed)
    for bound in [b for b in found.values() if b.scope == "main screen" and b.binding.priority]:
        for scope in KEY_SCOPES[1:]:
            found.setdefault(
                (scope, bound.binding.id or f"App.{bound.binding.action}"),
                replace(bound, scope=scope, listed=False),
            )
    return list(found.values())


def _key_names(keys: str) -> tuple[str, ...]:
    """A ``[keys]`` value as Textual's key names (``?`` -> ``question_mark``)."""
    try:
        return tuple(b.key for b in Binding.make_bindings([Binding(keys, "noop")]))
    except (BindingError, InvalidBinding) as error:
        raise ValueError(str(error)) from None


def _printable_keys() -> frozenset[str]:
    """Key names of the printable ASCII characters (``a``, ``S``, ``question_mark`` ...)."""
    characters = [chr(code) for code in range(0x21, 0x7F) if chr(code) != ","]
    names = {b.key for c in characters for b in Binding.make_bindings([Binding(c, "type")])}
    return frozenset({*names, "space", "comma"})


_PRINTABLE = _printable_keys()


def _typed(key: str) -> bool:
    """Whether a text box takes ``key`` as typing (so no binding on it can fire there)."""
    return key in _PRINTABLE or (len(key) == 1 and key.isprintable())


def key_slots() -> list[KeySlot]:
    """The bindings a ``[keys]`` table is checked against: the app's and the list's on the main
    screen; the reply editor's, its text box's (editing keys and typing) and the app's priority
    ones in the reply editor."""
    slots = []
    for bound in _bound_keys():
        binding = bound.binding
        what = (binding.description or binding.action.replace("_", " ")).lower()
        name = f"the {what} key (built in)"
        if not bound.listed and not binding.priority:  # the reply text box's own
            name = f"the reply text's {what} key"
        slots.append(
            KeySlot(bound.scope, bound.keys, binding.action, binding.id, "" if binding.id else name)
        )
    slots.append(KeySlot("reply editor", (), "type", name="typing in the reply", takes=_typed))
    return slots


def binding_ids() -> set[str]:
    """Every binding id a ``[keys]`` table may remap."""
    return {slot.id for slot in key_slots() if slot.id}


def keymap_errors(config: Config) -> list[ConfigError]:
    """Each ``[keys]`` entry that is not a binding id or takes another binding's key."""
    return keymap_problems(config, key_slots(), _key_names)


def check_keymap(config: Config) -> None:
    """Raise the first ``keymap_errors`` (``triage`` and ``triage demo`` exit 2 with it)."""
    problems = keymap_errors(config)
    if problems:
        raise problems[0]


class Placeholder(Static):
    """Holds the list's place until the store is open."""
