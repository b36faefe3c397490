"""``!``: the recent alerts, newest first: when, which rule, who acknowledged it, its title, and
the selected one's explanation under the list, with each channel's delivery: sent, failed with
its reason, or pending with when the next try is due and why the last one did not go out.

``j``/``k`` move, PageDown/PageUp scroll the explanation and deliveries (which take what the
list leaves of the screen, however short the terminal), Enter closes the screen and selects the
alert's mention in the main list (the screen's result is that mention's id), ``a``
acknowledges as this operator. Titles and explanations quote mention text and author names:
each is shown as plain one-line text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.core.format import ago, delivery_line, stamp
from tui.core.model import Alert, utcnow
from tui.core.text import one_line
from tui.store import Store, StoreError

LIMIT = 200
"""The newest alerts listed."""
VISIBLE = 12
"""Alert rows shown at once at most (the list scrolls with the cursor); fewer on a short
terminal (``_visible``), so that the explanation keeps room."""
REFRESH_SECONDS = 2.0


def when(alert: Alert) -> str:
    """``11-23 09:30`` (UTC, as ``stamp`` writes it, without the year and seconds)."""
    return stamp(alert.at)[5:16]


def acked(alert: Alert) -> str:
    """``✓ by sam``, or empty while nobody has acknowledged it."""
    if alert.acked_at is None:
        return ""
    return f"✓ by {one_line(alert.acked_by or '?', 20)}"


class AlertsScreen(ModalScreen[int | None]):
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("j,down", "move(1)", "Down", show=False),
        Binding("k,up", "move(-1)", "Up", show=False),
        Binding("enter", "open", "Go to the mention"),
        Binding("a", "acknowledge", "Acknowledge"),
        Binding("r", "reload", "Refresh"),
        Binding("pagedown,space", "scroll_explanation(1)", "Scroll the explanation", show=False),
        Binding("pageup", "scroll_explanation(-1)", show=False),
    ]

    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen .alerts { width: 100; height: 90%; }
    AlertsScreen #alerts { height: auto; }
    AlertsScreen #about { height: 1fr; margin-top: 1; }
    AlertsScreen .hint { height: auto; }
    """

    def __init__(
        self, store: Store, operator: str, *, acknowledge: Callable[[int], bool] | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.operator = operator
        self.acknowledge = acknowledge
        """Writes an acknowledgement (the app's, through its writer); returns False when it
        refused (read-only). None: acknowledging is not offered."""
        self.alerts: list[Alert] = []
        self.cursor = 0
        self._acked: dict[int, Alert] = {}
        """Acknowledged here, shown so until the store has it too."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog alerts"):
            yield Label("Alerts", classes="title")
            yield Static(id="alerts")
            with VerticalScroll(id="about", can_focus=False):
                yield Static(id="explanation")
            yield Label(
                "j/k move · pgdn/pgup scroll · enter go to the mention · a acknowledge ·"
                " r refresh · escape close",
                classes="hint",
            )

    async def on_mount(self) -> None:
        await self.action_reload()
        self.set_interval(REFRESH_SECONDS, self.action_reload)

    @property
    def current(self) -> Alert | None:
        return self.alerts[self.cursor] if self.alerts else None

    async def action_reload(self) -> None:
        selected = self.current.id if self.current else None
        try:
            alerts = await self.store.alerts(limit=LIMIT)
        except StoreError as error:
            self.query_one("#alerts", Static).update(Text(one_line(f"cannot read alerts: {error}")))
            return
        for alert in alerts:
            if alert.acked_at is not None:
                self._acked.pop(alert.id, None)
        self.alerts = [self._acked.get(a.id, a) for a in alerts]
        ids = [a.id for a in self.alerts]
        self.cursor = ids.index(selected) if selected in ids else min(self.cursor, len(ids) - 1)
        self.cursor = max(0, self.cursor)
        self._draw()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The list as plain text: time, rule, acknowledged mark, title."""
        return [
            (when(a), one_line(a.rule, 40), acked(a), one_line(a.title, 200)) for a in self.alerts
        ]

    def _draw(self) -> None:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
        table.add_column("time (UTC)", no_wrap=True)
        table.add_column("rule", no_wrap=True, max_width=16, overflow="ellipsis")
        table.add_column("seen", no_wrap=True, max_width=14, overflow="ellipsis")
        table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=1)
        visible = self._visible()
        first = max(0, min(self.cursor - visible // 2, len(self.alerts) - visible))
        shown = self.rows()[first : first + visible]
        for index, cells in enumerate(shown, start=first):
            style = "reverse" if index == self.cursor else ""
            table.add_row(*(Text(cell) for cell in cells), style=style)
        if not self.alerts:
            table.add_row(Text("no alerts"), Text(""), Text(""), Text(""))
        self.query_one("#alerts", Static).update(table)
        self.query_one("#explanation", Static).update(self._explanation())

    def _explanation(self) -> Text:
        alert = self.current
        if alert is None:
            return Text("Alerts appear here as the rules raise them.")
        now = utcnow()
        text = Text(one_line(alert.title, 300), "bold")
        text.append("\n" + one_line(alert.explanation, 1000))
        text.append(f"\n{stamp(alert.at)} · rule {one_line(alert.rule, 60)}", "dim")
        if alert.mention_id is not None:
            text.append(f" · mention {alert.mention_id} (enter)", "dim")
        if alert.acked_at is not None:
            who = one_line(alert.acked_by or "?", 40)
            text.append(f"\nacknowledged by {who}, {ago(alert.acked_at, now)}")
        else:
            text.append("\nnot acknowledged (a)", "bold")
        for delivery in alert.deliveries:
            text.append("\n" + delivery_line(delivery, now), "dim")
        return text

    def _visible(self) -> int:
        """Alert rows to show: up to ``VISIBLE``, a third of the terminal's height at 24 rows."""
        return max(3, min(VISIBLE, self.app.size.height // 3))

    def action_scroll_explanation(self, pages: int) -> None:
        about = self.query_one("#about", VerticalScroll)
        about.scroll_to(y=about.scroll_y + pages * max(1, about.size.height - 1), animate=False)

    def on_resize(self) -> None:
        self._draw()

    def action_move(self, step: int) -> None:
        if self.alerts:
            self.cursor = max(0, min(self.cursor + step, len(self.alerts) - 1))
            self._draw()
            self.query_one("#about", VerticalScroll).scroll_home(animate=False)

    def action_open(self) -> None:
        alert = self.current
        if alert is None:
            return
        if alert.mention_id is None:
            self.notify("This alert is about a window of time, not one mention.", timeout=3)
            return
        self.dismiss(alert.mention_id)

    def action_acknowledge(self) -> None:
        alert = self.current
        if alert is None or self.acknowledge is None:
            return
        if alert.acked_at is not None:
            self.notify(one_line(f"Already acknowledged by {alert.acked_by}"), markup=False)
            return
        if not self.acknowledge(alert.id):
            return
        shown = replace(alert, acked_at=utcnow(), acked_by=self.operator)
        self._acked[alert.id] = shown
        self.alerts[self.cursor] = shown
        self._draw()
