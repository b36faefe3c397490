"""Small modal prompts: tag, follow-up, confirm, filters. Each dismisses with its result
(or None when cancelled with ``escape``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Select

from tui.core.model import ASSIGNMENTS, STATUSES, Filter, utcnow
from tui.core.text import normalize_tag, one_line
from tui.core.when import PastTime, parse_when


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
        try:
            tag = normalize_tag(event.value)  # "#Billing  Issue" -> "billing issue"
        except ValueError as error:
            message = str(error)
            self.query_one("#tag-error", Label).update(
                Text(f"{message[:1].upper()}{message[1:]}, or escape to cancel.")
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
            if quiet and isinstance(exc, PastTime):  # said as typed, as a hint: "today 1"
                message.update(Text(f"→ {exc}"))  # is on its way to a later time, maybe
            elif quiet:  # (a time being typed: no error yet)
                message.update(Text(_FOLLOW_UP_HINT))
            else:
                message.update(Text(str(exc)))  # it quotes what was typed: never markup
                self.query_one("#when", Input).focus()
            message.set_class(not quiet, "error")
            return None
        local = due.astimezone().strftime("%a %d %b %H:%M %Z")
        message.update(Text(f"→ due {local} · Enter sets it · Tab: add a note"))
        message.set_class(False, "error")
        return due


@dataclass(frozen=True)
class Choice:
    key: str
    """The key that picks it (also shown on its button)."""
    label: str
    value: str


class ChoiceScreen(ModalScreen[str | None]):
    """A question with a few answers, each on a key and a button; ``escape`` answers None.

    The first choice is the default: its button has focus, so Enter picks it. Put the choice
    that keeps the operator's work first.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, choices: list[Choice], *, cancel: str = "") -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        self.cancel = cancel

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question), classes="title")
            with Horizontal(classes="buttons"):
                for index, choice in enumerate(self.choices):
                    yield Button(
                        Text(f"{choice.label} ({choice.key})"),
                        id=f"choice-{index}",
                        variant="primary" if index == 0 else "default",
                        compact=True,
                    )
            hint = "Enter: the highlighted answer"
            if self.cancel:
                hint += f" · escape: {self.cancel}"
            yield Label(hint, classes="hint")

    def on_mount(self) -> None:
        self.query_one("#choice-0", Button).focus()
        self.call_after_refresh(self._fit_buttons)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_buttons)

    def _fit_buttons(self) -> None:
        """The buttons side by side when they fit the dialog, else one under the other, so
        that no answer is cut (long answers at 80 columns)."""
        row = self.query_one(".buttons", Horizontal)
        needed = sum(cell_len(f"{c.label} ({c.key})") + 3 for c in self.choices)
        row.set_class(needed > row.size.width > 0, "stacked")

    def on_key(self, event: events.Key) -> None:
        for choice in self.choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.value)
                return

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        index = int((event.button.id or "choice-0").removeprefix("choice-"))
        self.dismiss(self.choices[index].value)


class _Choice(Select[str], inherit_bindings=False):
    """A drop-down that opens with space or an arrow, leaving Enter to apply the dialog."""

    BINDINGS = [Binding("space,down,up", "show_overlay", "Show menu", show=False)]


class _Check(Checkbox, inherit_bindings=False):
    """A check box that toggles with space, leaving Enter to apply the dialog. It shows ``X``
    only when checked: Textual's draws an ``X`` either way, told apart by color alone, which
    a monochrome terminal (or ``NO_COLOR``) does not show."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False)]

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "X" if self.value else " "


class FilterScreen(ModalScreen[Filter | None]):
    """Tag, status, source, assignment, open negatives only, follow-ups due. Enter applies;
    space or an arrow opens a drop-down and toggles a check box; Tab moves between them."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("enter,ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, current: Filter, tags: list[str], sources: list[str]) -> None:
        super().__init__()
        self.current = current
        self.tags = tags
        self.sources = sources

    def compose(self) -> ComposeResult:
        current = self.current

        def choice(name: str, options: list[str], value: str | None) -> ComposeResult:
            with Horizontal(classes="field"):
                yield Label(name, classes="field-name")
                yield _Choice(
                    [(Text(one_line(option)), option) for option in options],
                    prompt=f"any {name}",
                    value=value or Select.NULL,
                    id=name,
                    compact=True,
                )

        with Vertical(classes="dialog filter"):
            yield Label("Filter the list", classes="title")
            yield from choice("tag", self.tags, current.tag)
            yield from choice("status", list(STATUSES), current.status)
            yield from choice("source", self.sources, current.source)
            yield from choice("assigned", list(ASSIGNMENTS), current.assignment)
            yield _Check("open negatives only", current.negative_only, id="negative", compact=True)
            yield _Check("follow-ups due", current.follow_ups_due, id="due", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Apply (Enter)", id="apply", variant="primary", compact=True)
                yield Button("Clear", id="clear", compact=True)
            yield Label("Tab moves · space opens or toggles · escape cancels", classes="hint")

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
                assignment=self._value("#assigned"),  # type: ignore[arg-type]
            )
        )

    @on(Button.Pressed, "#apply")
    def apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#clear")
    def clear_pressed(self) -> None:
        self.dismiss(Filter())
