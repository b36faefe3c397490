"""Source health: per source its state, last success and error, mentions in the last hour,
rate-limit remaining and next poll, and who holds the collector lease.

Source names, errors (which can quote a server's reply) and the lease holder are shown as
``one_line`` makes them: plain text, one line each."""

from __future__ import annotations

from datetime import timedelta

from rich.table import Table
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
        self.query_one("#lease", Static).update(lease_text)
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        for column in (
            "source",
            "state",
            "last success",
            "last error",
            "1h",
            "rate left",
            "next poll",
        ):
            table.add_column(column, overflow="fold")
        states = {state.name: state for state in await self.store.source_states()}
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
        if not rows:
            table.add_row("(no sources configured)", "", "", "", "", "", "")
        for row in rows:
            # Each cell on one line: a source name or an error from a server cannot add rows.
            table.add_row(*(Text(one_line(cell)) for cell in row))
        self.query_one("#table", Static).update(table)
