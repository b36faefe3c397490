"""Small modal prompts: tag, follow-up, confirm, filters. Each dismisses with its result
(or None when cancelled with ``escape``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Select

from tui.core.model import STATUSES, Filter, utcnow
from tui.core.when import parse_when


class TagPrompt(ModalScreen[str | None]):
    """Type a tag (completion from known tags; ``right`` accepts it) and press Enter."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, known: list[str], current: tuple[str, ...]) -> None:
        super().__init__()
        self.known = known
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Tag (Enter applies; a tag it already has is removed)", classes="title")
            if self.current:
                yield Label(Text("has: " + " ".join(f"#{t}" for t in self.current)))
            yield Input(
                placeholder="complaint",
                suggester=SuggestFromList(self.known, case_sensitive=False),
                id="tag-input",
            )
            yield Label("", id="tag-error", classes="error")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        tag = " ".join(event.value.split()).lower()
        if not tag:
            self.query_one("#tag-error", Label).update(
                Text("Type a tag name, or escape to cancel.")
            )
            return
        self.dismiss(tag)


@dataclass(frozen=True)
class FollowUpRequest:
    due_at: datetime
    note: str


_FOLLOW_UP_HINT = "Enter sets it · Tab: add a note · escape cancels"


class FollowUpPrompt(ModalScreen[FollowUpRequest | None]):
    """When (``30m``, ``2h``, ``tomorrow 09:00``, ISO); Enter sets it. Tab moves to an optional
    note, where Enter sets it too."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                "Follow up when? (30m, 2h, tomorrow 09:00, 2026-05-01T09:00)", classes="title"
            )
            yield Input(placeholder="2h", id="when")
            yield Input(placeholder="note (optional; Tab to reach it)", id="note")
            yield Label(_FOLLOW_UP_HINT, id="when-error", classes="hint")

    @on(Input.Changed, "#when")
    def _preview(self) -> None:
        if self.query_one("#when", Input).value.strip():
            self._parse(quiet=True)

    @on(Input.Submitted)
    def submitted(self) -> None:
        due = self._parse()
        if due is not None:
            self.dismiss(FollowUpRequest(due, self.query_one("#note", Input).value.strip()))

    def _parse(self, *, quiet: bool = False) -> datetime | None:
        """The due time typed so far, previewed under the fields; None (and, unless ``quiet``,
        the error, with focus back on the time) when it does not parse."""
        message = self.query_one("#when-error", Label)
        try:
            due = parse_when(self.query_one("#when", Input).value, utcnow())
        except ValueError as exc:
            if quiet:
                message.update(Text(_FOLLOW_UP_HINT))
            else:
                message.update(Text(str(exc)))  # it quotes what was typed: never markup
                self.query_one("#when", Input).focus()
            message.set_class(not quiet, "error")
            return None
        local = due.astimezone().strftime("%a %d %b %H:%M %Z")
        message.update(Text(f"→ due {local}"))
        message.set_class(False, "error")
        return due


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "dismiss(True)", "Yes"),
        Binding("n,escape", "dismiss(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="title")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class FilterScreen(ModalScreen[Filter | None]):
    """Tag, status, source, negatives only, follow-ups due. Enter applies."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, current: Filter, tags: list[str], sources: list[str]) -> None:
        super().__init__()
        self.current = current
        self.tags = tags
        self.sources = sources

    def compose(self) -> ComposeResult:
        current = self.current
        with Vertical(classes="dialog"):
            yield Label("Filter the list", classes="title")
            yield Select(
                [(Text(t), t) for t in self.tags],
                prompt="any tag",
                value=current.tag or Select.NULL,
                id="tag",
            )
            yield Select(
                [(s, s) for s in STATUSES],
                prompt="any status",
                value=current.status or Select.NULL,
                id="status",
            )
            yield Select(
                [(Text(s), s) for s in self.sources],
                prompt="any source",
                value=current.source or Select.NULL,
                id="source",
            )
            yield Checkbox("negatives only", current.negative_only, id="negative")
            yield Checkbox("follow-ups due", current.follow_ups_due, id="due")
            with Horizontal(classes="buttons"):
                yield Button("Apply (ctrl+s)", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else str(value)

    def action_apply(self) -> None:
        self.dismiss(
            Filter(
                negative_only=self.query_one("#negative", Checkbox).value,
                tag=self._value("#tag"),
                status=self._value("#status"),  # type: ignore[arg-type]
                source=self._value("#source"),
                search=self.current.search,
                follow_ups_due=self.query_one("#due", Checkbox).value,
            )
        )

    @on(Button.Pressed, "#apply")
    def apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#clear")
    def clear_pressed(self) -> None:
        self.dismiss(Filter())
