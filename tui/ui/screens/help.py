"""``?``: every key binding (after the config's remapping), what it does, and its id.

The id is what the config's ``[keys]`` table remaps; bindings without one are Textual's own.
Bindings are grouped by where they are in force: the main screen (the list and the app) and
the reply editor.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.core.text import one_line


class HelpRow(NamedTuple):
    """One line of the help: where, which keys, what it does, and the id to remap it by."""

    scope: str
    keys: str
    description: str
    id: str
    """The binding id for ``[keys]``; empty for a binding the config cannot remap."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "dismiss(None)", "Close")]

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("key", no_wrap=True)
        table.add_column("action")
        table.add_column("id", no_wrap=True, style="dim")
        scope = None
        for row in self.rows:
            if row.scope != scope:
                if scope is not None:
                    table.add_row("", "", "")
                scope = row.scope
                table.add_row(Text(scope.capitalize(), "bold underline"), "", "")
            # Keys and quick tag names come from the config: plain text, one line each.
            table.add_row(
                Text(one_line(row.keys)),
                Text(one_line(row.description)),
                Text(one_line(row.id) or "(built in)"),
            )
        with VerticalScroll(classes="dialog help"):
            yield Label(
                Text("Keys (remap them in the config's [keys] table by id)"), classes="title"
            )
            yield Static(table)
            yield Label(
                "In alerts (!): j/k move, enter goes to the mention, a acknowledges."
                " In trends (T): r re-reads. escape closes · ctrl+p opens the command palette",
                classes="hint",
            )
