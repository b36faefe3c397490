"""Prompts for team work: assign a mention to an operator, add an internal note. Each
dismisses with its text (or None when cancelled with ``escape``)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from tui.core.text import one_line


class AssignPrompt(ModalScreen[str | None]):
    """Type an operator's name (completion from the known operators; ``right`` accepts it)
    and press Enter; Enter on an empty line releases the mention (dismisses with "")."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, known: list[str], holder: str | None) -> None:
        super().__init__()
        self.known = known
        self.holder = holder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Assign to (Enter assigns; empty: nobody)", classes="title")
            held = f"held by {one_line(self.holder)}" if self.holder else "held by nobody"
            yield Label(Text(held))
            if self.known:
                yield Label(Text("known: " + ", ".join(one_line(k, 40) for k in self.known)))
            yield Input(
                placeholder="operator",
                suggester=SuggestFromList(self.known, case_sensitive=False),
                id="assign-input",
            )

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())


class NotePrompt(ModalScreen[str | None]):
    """An internal note for the team (never part of a reply); Enter adds it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Team note (internal, never sent; Enter adds it)", classes="title")
            yield Input(placeholder="what the team should know", id="note-input")
            yield Label("", id="note-error", classes="error")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#note-error", Label).update("Type the note, or escape to cancel.")
            return
        self.dismiss(event.value.strip())
