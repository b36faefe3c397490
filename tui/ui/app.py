"""The Textual app: the live list, the detail pane, and the operator's actions.

The app reads and writes only through the store (``tui.store``). It opens separate
connections for reading the list, for the operator's writes, for the header's counts and for
ingest, so a write waiting on another process's lock never freezes the list.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tui.config import Config, config_error
from tui.core.model import Counts, Filter, Label, Row
from tui.core.templates import CHAR_LIMITS
from tui.core.text import for_display
from tui.runtime import SHUTDOWN_SECONDS, Runtime
from tui.store import Store, StoreError
from tui.ui.keys import OrderedKeysApp
from tui.ui.screens.health import HealthScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.prompts import FilterScreen, FollowUpPrompt, FollowUpRequest, TagPrompt
from tui.ui.screens.reply import ReplyEditor
from tui.ui.widgets.detail import DetailPane
from tui.ui.widgets.mention_list import MentionList

POLL_SECONDS = 0.25
"""How often the store is checked for changes made by other processes and connections."""
COUNTS_SECONDS = 10.0

_LABEL_CYCLE: tuple[Label | None, ...] = ("negative", "neutral", "positive", None)


def _quick_tag_bindings() -> list[BindingType]:
    return [
        Binding(str(n), f"quick_tag({n})", f"Quick tag {n}", show=False, id=f"quick_tag_{n}")
        for n in range(1, 10)
    ]


class TriageApp(OrderedKeysApp[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mention-triage"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "tag", "Tag", id="tag"),
        *_quick_tag_bindings(),
        Binding("s", "snapshot", "Snapshot", id="snapshot"),
        Binding("r", "reply", "Reply", id="reply"),
        Binding("f", "follow_up", "Follow-up", id="follow_up"),
        Binding("c", "complete_follow_up", "Follow-up done", show=False, id="complete_follow_up"),
        Binding("d", "toggle_done", "Done", id="done"),
        Binding("o", "override_label", "Label", show=False, id="override_label"),
        Binding("slash", "search", "Search", id="search"),
        Binding("n", "negatives", "Negatives", id="negatives"),
        Binding("F", "filter", "Filter", id="filter"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="clear_filters"),
        Binding("escape", "clear_search", "Clear search", show=False, id="clear_search"),
        Binding("H", "health", "Sources", show=False, id="health"),
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
    ) -> None:
        super().__init__()
        self.config = config
        self.db_path = db_path
        self.operator = operator
        self.demo_rate = demo_rate
        self.demo_seed = demo_seed
        self.demo_backlog = demo_backlog
        self.collect = collect
        self.counts: Counts | None = None
        self.lease_text = ""
        self._data_version = -1
        self._stores: list[Store] = []
        self.runtime = Runtime(config, db_path, operator, log=lambda line: self.log.info(line))

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
        mentions = MentionList(self.store, id="list")
        await self.query_one(Placeholder).remove()
        await self.query_one("#main").mount(mentions, before=0)
        mentions.focus()
        await mentions.load()
        self._data_version = await self.store.data_version()
        self.set_interval(POLL_SECONDS, self._poll_store)
        self.set_interval(COUNTS_SECONDS, self._refresh_counts)
        self._refresh_counts()
        self._apply_width()
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

    async def _open(self) -> Store:
        store = await Store.open(self.db_path, self.operator)
        self._stores.append(store)
        return store

    async def action_quit(self) -> None:
        """Let the feeders store the batch in hand (they watch ``stop``), then exit."""
        await self._stop_feeders()
        self.exit()

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
        await self._stop_feeders()
        await self.runtime.close()
        for store in self._stores:
            await store.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A feeder or a write failed: say so, and keep the operator's session going."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{event.worker.group or 'background task'} stopped: {error}",
                severity="error",
                timeout=15,
                markup=False,
            )

    def on_resize(self) -> None:
        self._apply_width()

    def _apply_width(self) -> None:
        self.query_one("#main").set_class(self.size.width >= 140, "wide")

    @property
    def mentions(self) -> MentionList:
        return self.query_one(MentionList)

    # -- keeping up with the store ---------------------------------------------------------

    async def _poll_store(self) -> None:
        version = await self.store.data_version()
        if version != self._data_version:
            self._data_version = version
            self.mentions.post_message(MentionList.DataChanged())
            self._refresh_counts()
            self._show_detail(self.mentions.current)

    @work(exclusive=True, group="counts", exit_on_error=False)
    async def _refresh_counts(self) -> None:
        self.counts = await self.stats.counts()
        lease = await self.stats.lease_holder()
        if lease is None:
            self.lease_text = "no collector" if self.config.sources else ""
        elif lease[0] == self.runtime.holder:
            self.lease_text = "collecting"
        else:
            self.lease_text = f"collector: {lease[0]}"
        self._render_status()

    def _render_status(self) -> None:
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(f" {for_display(self.config.brand)} ", "bold reverse")
        counts = self.counts
        if counts is not None:
            status.append(f" {counts.total:,} total · ")
            status.append(f"{counts.new:,} new", "bold")
            status.append(" · ")
            status.append(f"▼ {counts.negative_open:,} neg", "bold")
            status.append(f" · ◷ {counts.follow_ups_due:,} due")
        mentions = self.mentions
        if mentions.new_count:
            status.append(f" │ ↑ {mentions.new_count:,} new (g)", "bold reverse")
        if mentions.filter.active:
            status.append(f" │ {for_display(mentions.filter.describe())}", "italic")
        if self.lease_text:
            status.append(f" │ {for_display(self.lease_text)}", "dim")
        self.query_one("#status", Static).update(status)

    @on(MentionList.Highlighted)
    def _highlighted(self, message: MentionList.Highlighted) -> None:
        self._show_detail(message.row)
        self._render_status()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def _show_detail(self, row: Row | None) -> None:
        await asyncio.sleep(0.03)  # let a run of cursor moves settle first
        mention = await self.store.mention(row.id) if row else None
        self.query_one(DetailPane).show(mention)

    @on(MentionList.NewArrivals)
    def _new_arrivals(self) -> None:
        self._render_status()

    # -- operator actions ----------------------------------------------------------------------

    def _selected(self) -> Row | None:
        row = self.mentions.current
        if row is None:
            self.notify("No mention selected.", severity="warning", timeout=2)
        return row

    def _write(self, action: Callable[[], Awaitable[Any]], done: str | None = None) -> None:
        """Run a store write off the key handler; report failures, refresh on success."""

        async def run() -> None:
            try:
                await action()
            except (StoreError, KeyError, ValueError) as error:
                self.notify(f"Not saved: {error}", severity="error", timeout=8, markup=False)
                self.mentions.post_message(MentionList.DataChanged())
                return
            if done:
                self.notify(done, timeout=2, markup=False)  # may carry a tag name
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
        row = self._selected()
        if row is None:
            return
        mention = await self.store.mention(row.id)
        if mention is None:
            return
        mine = [d.text for d in mention.drafts if d.by == self.operator]
        editor = ReplyEditor(
            author=mention.author,
            text=mention.text,
            draft=mine[-1] if mine else "",
            templates=self.config.templates,
            limit=self.char_limit(mention.source),
            brand=self.config.brand,
            operator=self.operator,
        )

        def saved(text: str | None) -> None:
            if text is not None:
                self._write(lambda: self.writer.save_draft(row.id, text), "Draft saved")

        self.push_screen(editor, saved)

    def char_limit(self, source: str) -> int | None:
        kind = next((s.kind for s in self.config.sources if s.name == source), source)
        return self.config.char_limits.get(kind, CHAR_LIMITS.get(kind))

    def action_follow_up(self) -> None:
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
        if row is None or row.follow_up_due is None:
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

    # -- finding -------------------------------------------------------------------------------

    def _apply_filter(self, filt: Filter) -> None:
        # Through the list's own queue, so a load never interleaves with a live refresh.
        self.mentions.post_message(MentionList.Load(filt))

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
        self._apply_filter(replace(self.mentions.filter, search=text.strip() or None))

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter searches at once (no debounce), so keys after it act on the result."""
        self.workers.cancel_group(self, "search")
        search = event.value.strip() or None
        if search != self.mentions.filter.search:
            self._apply_filter(replace(self.mentions.filter, search=search))
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
        self._apply_filter(replace(self.mentions.filter, search=None))

    def action_negatives(self) -> None:
        current = self.mentions.filter
        self._apply_filter(replace(current, negative_only=not current.negative_only))

    async def action_filter(self) -> None:
        tags = await self._tag_choices()
        sources = await self.store.sources()

        async def chosen(filt: Filter | None) -> None:
            if filt is not None:
                self._apply_filter(filt)

        self.push_screen(FilterScreen(self.mentions.filter, tags, sources), chosen)

    def action_clear_filters(self) -> None:
        self._hide_search()
        self._apply_filter(Filter())

    # -- screens -------------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[tuple[str, str]]:
        """(keys, description) for every binding in force on the main screen."""
        grouped: dict[tuple[int, str], tuple[list[str], str]] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            description = binding.description or binding.action
            if binding.action.startswith("quick_tag("):
                number = int(binding.action[len("quick_tag(") : -1])
                tags = self.config.quick_tags
                tag = f"#{tags[number - 1]}" if number <= len(tags) else "(none set)"
                description = f"{description}: {tag}"
            keys, _ = grouped.setdefault((id(active.node), binding.action), ([], description))
            keys.append(self.get_key_display(binding) if binding.key == key else key)
        rows = [(", ".join(dict.fromkeys(keys)), text) for keys, text in grouped.values()]
        return sorted(rows, key=lambda r: r[1].lower())

    def action_health(self) -> None:
        self.push_screen(HealthScreen(self.stats, [s.name for s in self.config.sources]))

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
            ("Negatives only", "Toggle showing only negative mentions", self.action_negatives),
            ("Filter", "Filter by tag, status, source or due follow-ups", self.action_filter),
            ("Clear filters", "Show every mention", self.action_clear_filters),
            ("Follow-ups due", "Show mentions whose follow-up is due", self._due_filter),
            ("Source health", "State of each source and the collector", self.action_health),
            ("Help", "List every key", self.action_help),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)

    def _due_filter(self) -> None:
        self._apply_filter(Filter(follow_ups_due=True))


def binding_ids() -> set[str]:
    """Every binding id a ``[keys]`` table may remap."""
    return {
        binding.id
        for owner in (TriageApp, MentionList, ReplyEditor)
        for binding in owner.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }


def check_keymap(config: Config) -> None:
    """``ConfigError`` naming the first ``[keys]`` entry that is not a binding id."""
    known = binding_ids()
    for name in config.keys:
        if name not in known:
            raise config_error(
                config,
                f"keys.{name}",
                "unknown binding id",
                f"valid ids are {', '.join(sorted(known))}",
            )


class Placeholder(Static):
    """Holds the list's place until the store is open."""
