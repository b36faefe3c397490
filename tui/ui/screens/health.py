"""Source health: per source its state, last success and error, mentions in the last hour,
rate-limit remaining and next poll, and who holds the collector lease.

Source names, errors (which can quote a server's reply) and the lease holder are shown as
``one_line`` makes them: plain text, one line each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from rich.cells import cell_len, set_cell_size
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.core.format import ago, until
from tui.core.model import utcnow
from tui.core.text import one_line
from tui.store import Store


class HealthScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, store: Store, configured: list[str]) -> None:
        super().__init__()
        self.store = store
        self.configured = configured
        self.rows: list[tuple[str, ...]] = []
        """The table as plain text: source, state, last success, last error, 1h, rate, next."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog health"):
            yield Label("Sources", classes="title")
            yield Static(id="lease")
            yield Static(id="table")
            yield Label("r refresh · escape close", classes="hint")

    async def on_mount(self) -> None:
        await self.action_reload()
        self.set_interval(2.0, self.action_reload)

    async def action_reload(self) -> None:
        now = utcnow()
        lease = await self.store.lease_holder()
        lease_text = Text("collector: ", style="bold")
        if lease is None:
            lease_text.append("nobody is collecting")
        else:
            holder, beat = lease
            lease_text.append(f"{one_line(holder)} (heartbeat {ago(beat, now)})")
        states = {state.name: state for state in await self.store.source_states()}
        if lease is None and any(state.kind == "demo" for state in states.values()):
            lease_text.append(" (the demo stream feeds this app itself)")
        self.query_one("#lease", Static).update(lease_text)
        rows: list[tuple[str, ...]] = []
        for name in dict.fromkeys([*self.configured, *states]):
            state = states.get(name)
            hour = str(await self.store.mentions_since(name, now - timedelta(hours=1)))
            if state is None:
                rows.append((name, "not polled yet", "", "", hour, "", ""))
                continue
            error = ""
            if state.last_error:
                when = f"{ago(state.last_error_at, now)}: " if state.last_error_at else ""
                error = when + state.last_error
            rows.append(
                (
                    f"{name} (demo)" if state.kind == "demo" else name,
                    state.state,
                    ago(state.last_success, now) if state.last_success else "never",
                    error,
                    hour,
                    state.rate_remaining or "",
                    until(state.next_poll, now) if state.next_poll else "",
                )
            )
        self.rows = rows
        self.query_one("#table", Static).update(render_table(rows))


_COLUMNS = ("source", "state", "last success", "1h", "rate left", "next poll")
_CELLS = (0, 1, 2, 4, 5, 6)
"""Where each column's cell is in a row (the error, at 3, gets a line of its own)."""
_NAME_WIDTH = 24
"""A longer source name is cut short (``…``), so that the columns fit 80 columns."""


def render_table(rows: list[tuple[str, ...]]) -> RenderableType:
    """One line per source, its columns aligned, and under a source with an error the error,
    indented, wrapped to the screen's width: a source name or a server's reply can neither add
    rows of its own nor push the columns off the screen."""
    if not rows:
        return Text("(no sources configured)")
    cells = [[one_line(row[i]) for i in _CELLS] for row in rows]
    for line in cells:
        if cell_len(line[0]) > _NAME_WIDTH:
            line[0] = set_cell_size(line[0], _NAME_WIDTH - 1) + "…"
    widths = [max(cell_len(c) for c in column) for column in zip(_COLUMNS, *cells, strict=True)]

    def aligned(line: Sequence[str]) -> str:
        return "  ".join(
            set_cell_size(cell, width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()

    parts: list[RenderableType] = [Text(aligned(_COLUMNS), "bold")]
    for row, line in zip(rows, cells, strict=True):
        parts.append(Text(aligned(line)))
        if row[3]:
            parts.append(Padding(Text(f"last error {one_line(row[3])}", "dim"), (0, 0, 0, 2)))
    return Group(*parts)
