"""The reply editor: template picker, placeholders, a count against the network's limit, save
(``ctrl+s``), copy to the clipboard over OSC 52 (works over SSH), and ``escape`` to close.

The text is never lost: it is saved as the operator's draft every few seconds while they type
(through ``save``, which writes to the store), and again when the editor closes. Closing with
changes asks whether to keep them (the default) or go back to the draft as it was; a template
chosen over existing text asks whether to replace or insert, and ``ctrl+z`` undoes either.

Never two replies to one complaint: before a save (``ctrl+s``), a copy (``ctrl+o``) or saving
and marking done (``ctrl+r``), the editor asks the store what others did to the mention since
it opened (a draft saved, marked done, a reply copied, taken or assigned, the post edited or
deleted: ``changes``); if anything, it shows the list and asks before going on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Label, OptionList, Select, TextArea

from tui.core.model import utcnow
from tui.core.templates import Template, fill, unfinished
from tui.core.text import first_line, one_line
from tui.ui.screens.prompts import Choice, ChoiceScreen

AUTOSAVE_SECONDS = 2.0
"""At most this long between a keystroke and the draft holding it."""

SaveDraft = Callable[[str, bool], Awaitable[None]]
"""Stores the draft text; the flag says whether the history records it (False: autosave)."""
Count = Callable[[str], int]
"""The reply's length as the network counts it."""
Changes = Callable[[datetime], Awaitable[list[str]]]
"""What others did to the mention since a moment, one line each (empty: nothing)."""
Act = Callable[[], Awaitable[None]]

GUARD_LINES = 8
"""Changes shown at most in the collision warning (the latest ones)."""


class _ReplyText(TextArea):
    """The reply's text area, wrapped again once a resize has been laid out: Textual wraps it
    during the resize, at the width it had before, so after a terminal got narrower words
    went past the edge (and after it got wider, showed twice) until the next key."""

    def on_resize(self) -> None:
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        self.soft_wrap = False  # (the public way to have it wrap again at its width now)
        self.soft_wrap = True


class ReplyEditor(ModalScreen[str | None]):
    """Dismisses with the text as it was stored last, or None when it was discarded."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save draft", id="reply_save"),
        Binding("ctrl+o", "copy", "Copy", id="reply_copy"),
        Binding("ctrl+r", "done", "Save and mark done", id="reply_done"),
        Binding("ctrl+t", "pick_template", "Template", id="reply_template"),
        Binding("escape", "close", "Close", id="reply_close"),
    ]

    def __init__(
        self,
        *,
        author: str,
        text: str,
        draft: str,
        templates: tuple[Template, ...],
        limit: int | None,
        brand: str,
        operator: str,
        save: SaveDraft,
        count: Count = len,
        changes: Changes | None = None,
        mark_done: Act | None = None,
        copied: Act | None = None,
    ) -> None:
        super().__init__()
        self.author = author
        self.mention_text = text
        self.opened_with = draft
        """The draft as it was when the editor opened: what "discard changes" goes back to."""
        self.stored = draft
        """The text the store holds now."""
        self.templates = templates
        self.limit = limit
        self.brand = brand
        self.operator = operator
        self._save = save
        self._count = count
        self._autosave: Timer | None = None
        self._changes = changes
        self._mark_done = mark_done
        self._copied = copied
        self.since = utcnow()
        """Others' changes after this moment are shown before a save, copy or done (the
        editor's opening; moved on each time the operator has seen them and gone on)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog reply"):
            title = Text("Reply to ")
            title.append(first_line(self.author) or "(unknown)", "bold")
            title.append(": ")
            title.append(first_line(self.mention_text)[:200], "italic")
            yield Label(title, classes="title")
            yield Select(
                [(Text(first_line(t.name)), index) for index, t in enumerate(self.templates)],
                prompt="Start from a template (ctrl+t)",
                id="template",
                compact=True,
            )
            yield _ReplyText(self.opened_with, id="reply-text", soft_wrap=True)
            with Horizontal(classes="reply-status"):
                yield Label("", id="count")
                yield Label(
                    "ctrl+s save · ctrl+o copy · ctrl+r done · ctrl+z undo · esc close",
                    classes="hint",
                )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.move_cursor(area.document.end)  # go on writing where the draft ends
        area.focus()
        self._update_count()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @property
    def unsaved(self) -> bool:
        """The text differs from the draft the editor opened with."""
        return self.text != self.opened_with

    # -- keeping the text --------------------------------------------------------------------

    @on(TextArea.Changed)
    def _changed(self) -> None:
        self._update_count()
        if self._autosave is None:
            self._autosave = self.set_timer(AUTOSAVE_SECONDS, self._autosave_now)

    def _autosave_now(self) -> None:
        self._autosave = None
        if self.text != self.stored:
            self.run_worker(self.store_text(record=False), group="autosave", exit_on_error=False)

    async def store_text(self, text: str | None = None, *, record: bool) -> None:
        """Store ``text`` (default: what is in the editor) as the draft now."""
        text = self.text if text is None else text
        if text == self.stored and not record:
            return
        await self._save(text, record)
        self.stored = text

    async def _close(self, text: str | None) -> None:
        """Store ``text`` as the draft (recorded in the history if it changed) and close."""
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None
        final = self.text if text is None else text
        if final != self.opened_with or final != self.stored:
            try:
                await self.store_text(final, record=final != self.opened_with)
            except Exception as error:  # a store failure must not eat the text: stay open
                self.notify(f"Draft not saved: {error}", severity="error", markup=False)
                return
        self.dismiss(final)

    # -- counting ------------------------------------------------------------------------------

    def _update_count(self) -> None:
        length = self._count(self.text)
        label = self.query_one("#count", Label)
        label.update(f"{length} chars" if self.limit is None else f"{length}/{self.limit}")
        label.set_class(self.limit is not None and length > self.limit, "over")

    # -- templates -----------------------------------------------------------------------------

    @on(Select.Changed, "#template")
    async def _template_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        template = self.templates[int(event.value)]  # type: ignore[arg-type]
        filled = fill(template.text, author=self.author, brand=self.brand, operator=self.operator)
        with event.select.prevent(Select.Changed):
            event.select.clear()
        area = self.query_one(TextArea)
        if not self.text.strip():
            self._put(filled, replace_all=True)
            return

        def decided(answer: str | None) -> None:
            if answer in ("replace", "insert"):
                self._put(filled, replace_all=answer == "replace")
            else:
                area.focus()

        self.app.push_screen(
            ChoiceScreen(
                f"The reply has text. Use the template {first_line(template.name)!r} how?",
                [
                    Choice("i", "Insert at the cursor", "insert"),
                    Choice("r", "Replace the text", "replace"),
                ],
                cancel="keep the text as it is",
            ),
            decided,
        )

    def _put(self, text: str, *, replace_all: bool) -> None:
        """Edit through the text area's own history, so ``ctrl+z`` undoes the template."""
        area = self.query_one(TextArea)
        if replace_all:
            area.replace(text, area.document.start, area.document.end)
        else:
            area.insert(text)
        area.focus()

    def action_pick_template(self) -> None:
        """Open the templates with the first one highlighted, every time: ``ctrl+t Down
        Enter`` typed ahead always picks the second (Textual would start from its prompt,
        or from where the last pick left the highlight)."""
        select = self.query_one("#template", Select)
        select.focus()
        select.expanded = True
        if self.templates:
            # (Textual's overlay, by its name: should a release rename it, ctrl+t still opens)
            with contextlib.suppress(NoMatches):
                overlay = select.query_one("SelectOverlay", OptionList)
                overlay.highlighted = 1  # (0 is the prompt, "Start from a template")

    # -- actions ---------------------------------------------------------------------------------

    async def _guarded(self, what: str, proceed: Act) -> None:
        """Go on with ``proceed`` unless someone else changed the mention since ``since``:
        then show what changed and ask first (going back to the reply is the default)."""
        if self._changes is None:
            await proceed()
            return
        checked = utcnow()
        try:
            found = await self._changes(self.since)
        except Exception as error:  # the guard must not lose the text: say so and go on
            self.notify(f"Could not check for others' changes: {error}", markup=False)
            found = []
        if not found:
            await proceed()
            return
        shown = found[-GUARD_LINES:]
        more = len(found) - len(shown)
        question = "Since you opened this reply:\n" + "\n".join(f"· {line}" for line in shown)
        if more:
            question += f"\n(and {more} earlier)"
        question += f"\n{what} anyway?"

        async def decided(answer: str | None) -> None:
            if answer == "go":
                self.since = checked
                await proceed()
            else:
                self.query_one(TextArea).focus()

        await self.app.push_screen(
            ChoiceScreen(
                question,
                [Choice("b", "Back to the reply", "back"), Choice("g", f"{what} anyway", "go")],
                cancel="back to the reply",
            ),
            decided,
        )

    async def action_save(self) -> None:
        await self._guarded("Save", lambda: self._close(None))

    def _not_ready(self) -> list[str]:
        """Why the reply cannot be posted as it is: longer than the network takes, or holding
        a template's fill-in not written yet."""
        problems = []
        length = self._count(self.text)
        if self.limit is not None and length > self.limit:
            problems.append(f"it is {length}/{self.limit} characters")
        left = unfinished(self.text, self.templates)
        if left:
            problems.append("it still holds " + ", ".join(one_line(p, 60) for p in left))
        return problems

    async def action_copy(self) -> None:
        async def copy() -> None:
            self.app.copy_to_clipboard(self.text)
            if self._copied is not None:
                try:
                    await self._copied()
                except Exception as error:  # copied all the same; only the record failed
                    self.notify(f"Copy not recorded: {error}", severity="error", markup=False)
            self.notify("Reply copied to the clipboard (OSC 52).", timeout=3)

        problems = self._not_ready()
        if not problems:
            await self._guarded("Copy", copy)
            return

        async def decided(answer: str | None) -> None:
            if answer == "copy":  # (it can be posted in two parts, or finished elsewhere)
                await self._guarded("Copy", copy)

        # Asked, not said in passing: a warning missed would leave the clipboard holding the
        # previous reply, perhaps to someone else, to be pasted instead.
        self.app.push_screen(
            ChoiceScreen(
                f"Not ready to post: {'; '.join(problems)}. Copy it anyway?",
                [Choice("b", "Back to the reply", "back"), Choice("c", "Copy anyway", "copy")],
                cancel="back to the reply",
            ),
            decided,
        )

    async def action_done(self) -> None:
        async def done() -> None:
            if self._mark_done is not None:
                try:
                    await self._mark_done()
                except Exception as error:  # stay open: nothing is lost
                    self.notify(f"Not marked done: {error}", severity="error", markup=False)
                    return
            await self._close(None)

        await self._guarded("Save and mark done", done)

    async def action_close(self) -> None:
        if not self.unsaved:
            await self._close(None)
            return

        async def decided(answer: str | None) -> None:
            if answer == "keep":
                await self._close(None)
            elif answer == "discard":
                await self._close(self.opened_with)
            else:
                self.query_one(TextArea).focus()

        await self.app.push_screen(
            ChoiceScreen(
                "Keep this reply as your draft?",
                [
                    Choice("k", "Keep the draft", "keep"),
                    Choice("d", "Discard the changes", "discard"),
                ],
                cancel="back to the reply",
            ),
            decided,
        )
