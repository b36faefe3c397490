"""``?``: every key binding in force (after the config's remapping), and what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "dismiss(None)", "Close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("key", no_wrap=True)
        table.add_column("action")
        for keys, description in self.rows:
            table.add_row(Text(keys), Text(description))
        with VerticalScroll(classes="dialog help"):
            yield Label(
                Text("Keys (remap them in the config's [keys] table by id)"), classes="title"
            )
            yield Static(table)
            yield Label("escape closes · ctrl+p opens the command palette", classes="hint")
