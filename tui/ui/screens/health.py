"""Source health: per source its state, last success and error, mentions in the last hour,
rate-limit remaining and next poll, and who holds the collector lease.

Source names, errors (which can quote a server's reply) and the lease holder are shown as
``one_line`` makes them: plain text, one line each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.cells import aligned, fit, shorten
from tui.core.format import ago, until
from tui.core.model import utcnow
from tui.core.text import one_line
from tui.store import LEASE_TTL, Store
from tui.team import lease_line


class HealthScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(
        self,
        store: Store,
        configured: list[str],
        *,
        demo: bool = False,
        lease_ttl: float = LEASE_TTL,
    ) -> None:
        super().__init__()
        self.store = store
        self.lease_ttl = lease_ttl
        """Seconds without a heartbeat after which the collector's holder counts as gone."""
        self.configured = configured
        self.demo = demo
        """Whether this app feeds itself the demo stream (no collector lease is involved)."""
        self.rows: list[SourceRow] = []
        """The table as plain text, a row per source."""

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
        lease = await self.store.lease(self.lease_ttl)
        lease_text = Text("collector: ", style="bold")
        lease_text.append(lease_line(lease, now, demo=self.demo))
        states = {state.name: state for state in await self.store.source_states()}
        self.query_one("#lease", Static).update(lease_text)
        rows: list[SourceRow] = []
        for name in dict.fromkeys([*self.configured, *states]):
            state = states.get(name)
            hour = str(await self.store.mentions_since(name, now - timedelta(hours=1)))
            if state is None:
                rows.append(SourceRow(name, "not polled yet", "", "", hour, "", ""))
                continue
            error = ""
            if state.last_error:
                when = f"{ago(state.last_error_at, now)}: " if state.last_error_at else ""
                error = when + state.last_error
            rows.append(
                SourceRow(
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
        self.query_one("#table", Static).update(SourcesTable(rows))


class SourceRow(NamedTuple):
    """One source as the view shows it, as plain text."""

    name: str
    state: str
    last_success: str
    error: str
    hour: str
    """Mentions in the last hour."""
    rate: str
    next_poll: str


_COLUMNS = ("source", "state", "last success", "1h", "rate left", "next poll")
_CAPS = (0, 14, 12, 6, 12, 10)
"""The most cells each column but the name takes (a rate header is the server's to word)."""
_NARROWEST_NAME = 12
_ERROR_LINES = 2
"""Lines an error takes at most, under its source (a server's reply can be kilobytes)."""


class SourcesTable:
    """One line per source, its columns aligned, never wrapped; under a source with an error,
    the error, indented, in at most ``_ERROR_LINES`` lines. The name takes the room the other
    columns leave, and a name too long is cut in the middle (``google-al…brand-eu``), where
    names that begin alike differ."""

    def __init__(self, rows: Sequence[SourceRow]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if not self.rows:
            yield Text("(no sources configured)")
            return
        cells = [
            [one_line(c) for c in (r.name, r.state, r.last_success, r.hour, r.rate, r.next_poll)]
            for r in self.rows
        ]
        for line in cells:
            for index in range(1, len(_COLUMNS)):
                line[index] = shorten(line[index], _CAPS[index])
        widths = [max(cell_len(c) for c in column) for column in zip(_COLUMNS, *cells, strict=True)]
        rest = sum(widths[1:]) + 2 * (len(_COLUMNS) - 1)  # (``aligned`` puts two spaces between)
        widths[0] = min(widths[0], max(_NARROWEST_NAME, width - rest))
        for line in cells:
            line[0] = shorten(line[0], widths[0], middle=True)

        header, *lines = aligned([_COLUMNS, *cells]).splitlines()
        yield Text(fit(header, width).rstrip(), "bold", no_wrap=True)
        for row, line in zip(self.rows, lines, strict=True):
            yield Text(fit(line, width).rstrip(), no_wrap=True)
            if row.error:
                said = Text(f"last error {one_line(row.error)}", "dim")
                lines = list(said.wrap(console, max(1, width - 2)))
                if len(lines) > _ERROR_LINES:  # the rest joins the last line, cut with …
                    rest = " ".join(piece.plain.strip() for piece in lines[_ERROR_LINES - 1 :])
                    lines[_ERROR_LINES - 1 :] = [Text(shorten(rest, width - 2), "dim")]
                for piece in lines:
                    yield Text("  ") + piece
