"""The reply editor: template picker, placeholders, a character count against the source's
limit, save (``ctrl+s``), copy to the clipboard over OSC 52 (works over SSH), and ``escape``
that asks before discarding unsaved text."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Select, TextArea

from tui.core.templates import Template, fill
from tui.core.text import first_line
from tui.ui.screens.prompts import ConfirmScreen


class ReplyEditor(ModalScreen[str | None]):
    """Dismisses with the text to save, or None when closed without saving."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save draft", id="reply_save"),
        Binding("ctrl+o", "copy", "Copy", id="reply_copy"),
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
    ) -> None:
        super().__init__()
        self.author = author
        self.mention_text = text
        self.saved = draft
        self.templates = templates
        self.limit = limit
        self.brand = brand
        self.operator = operator

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog reply"):
            title = Text("Reply to ")
            title.append(first_line(self.author) or "(unknown)", "bold")
            title.append(": ")
            title.append(first_line(self.mention_text)[:200], "italic")
            yield Label(title, classes="title")
            yield Select(
                [(Text(t.name), index) for index, t in enumerate(self.templates)],
                prompt="Start from a template (ctrl+t)",
                id="template",
            )
            yield TextArea(self.saved, id="reply-text", soft_wrap=True)
            with Horizontal(classes="reply-status"):
                yield Label("", id="count")
                yield Label("ctrl+s save · ctrl+o copy · escape close", classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self._update_count()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @on(TextArea.Changed)
    def _update_count(self) -> None:
        length = len(self.text)
        label = self.query_one("#count", Label)
        if self.limit is None:
            label.update(f"{length} characters")
        else:
            label.update(f"{length}/{self.limit}")
        label.set_class(self.limit is not None and length > self.limit, "over")

    @on(Select.Changed, "#template")
    def _template_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        template = self.templates[int(event.value)]  # type: ignore[arg-type]
        filled = fill(template.text, author=self.author, brand=self.brand, operator=self.operator)
        area = self.query_one(TextArea)
        area.text = filled
        area.focus()
        area.move_cursor(area.document.end)

    def action_pick_template(self) -> None:
        select = self.query_one("#template", Select)
        select.focus()
        select.expanded = True

    def action_save(self) -> None:
        self.dismiss(self.text)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Reply copied to the clipboard (OSC 52).", timeout=3)

    def action_close(self) -> None:
        if self.text == self.saved:
            self.dismiss(None)
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard the unsaved reply?"), decided)
