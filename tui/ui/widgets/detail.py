"""The detail pane: everything about the selected mention, built as ``rich.text.Text``.

Nothing from a mention is ever parsed as markup: every value is appended as plain text after
``for_display`` has neutralized control, escape and bidi characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.core.format import MARKS, age, until
from tui.core.model import Mention, iso, utcnow
from tui.core.text import for_display, truncate

_HEAD = "bold"
_DIM = "dim"


def _line(label: str, value: str, style: str = "") -> Text:
    text = Text()
    text.append(f"{label:<9} ", _DIM)
    text.append(for_display(value), style)
    return text


def _section(title: str) -> Text:
    return Text(f"\n{title}", _HEAD)


def _time(moment: object) -> str:
    return iso(moment).replace("T", " ")[:19] + "Z" if moment else ""  # type: ignore[arg-type]


def render_mention(mention: Mention, palette: Mapping[str, str] | None = None) -> Group:
    """The pane's content; ``palette`` maps labels (and "negative"/"positive" weights) to colors."""
    palette = palette or {}
    now = utcnow()
    label = mention.effective_label
    parts: list[Text] = []
    heading = Text()
    heading.append(MARKS[label], f"bold {palette.get(label, '')}".strip())
    if mention.operator_label:
        heading.append(f" (operator; machine said {mention.score.label})", _DIM)
    heading.append(f"   {mention.status}", _HEAD)
    if mention.deleted_at:
        heading.append(f"  deleted at source {_time(mention.deleted_at)}", "bold")
    parts.append(heading)
    parts.append(_line("author", mention.author or "(unknown)", _HEAD))
    parts.append(_line("source", f"{mention.source}  #{mention.id}  ({mention.external_id})"))
    if mention.url:
        parts.append(_line("url", mention.url, "underline"))
    parts.append(
        _line("posted", f"{_time(mention.created_at)}  ({age(mention.created_at, now)} ago)")
    )
    parts.append(_line("collected", _time(mention.collected_at)))
    if mention.language:
        parts.append(_line("language", mention.language))
    parts.append(Text())
    parts.append(Text(for_display(truncate(mention.text)) or "(empty)"))

    score = Text()
    score.append("\n")
    score.append("sentiment ", _HEAD)
    if mention.score.compound is None:
        score.append("unscored (not English, or nothing to score)")
    else:
        score.append(f"{mention.score.compound:+.3f} {mention.score.label}")
    parts.append(score)
    if mention.score.reasons:
        reasons = Text("  ")
        for index, reason in enumerate(mention.score.reasons[:12]):
            if index:
                reasons.append(", ")
            reasons.append(for_display(reason.term))
            tone = palette.get("negative" if reason.weight < 0 else "positive", "")
            reasons.append(f" {reason.weight:+.2f}", tone)
        parts.append(reasons)

    parts.append(_line("tags", " ".join(f"#{t}" for t in mention.tags) or "none"))
    if mention.follow_up:
        follow = mention.follow_up
        state = "done" if follow.done else until(follow.due_at, now)
        parts.append(_line("follow-up", f"{_time(follow.due_at)} ({state}) {follow.note}"))

    if mention.versions:
        parts.append(_section(f"Earlier versions ({len(mention.versions)})"))
        for version in mention.versions:
            parts.append(_line(_time(version.replaced_at)[11:16], first_words(version.text)))
    if mention.snapshots:
        parts.append(_section(f"Snapshots ({len(mention.snapshots)})"))
        for snap in mention.snapshots:
            page = "no URL"
            if snap.url:
                page = "page: fetching…"
                if snap.fetched:
                    page = (
                        f"page: HTTP {snap.fetch_status}, {snap.page_size or 0:,} B"
                        if snap.fetch_status
                        else f"page: failed ({snap.fetch_error})"
                    )
            parts.append(
                _line(_time(snap.taken_at)[5:16], f"{snap.by}  sha256 {snap.sha256[:16]}…  {page}")
            )
    if mention.drafts:
        parts.append(_section("Drafts"))
        for draft in mention.drafts:
            parts.append(_line(draft.by, f"({_time(draft.updated_at)[5:16]}) {draft.text}"))
    if mention.events:
        parts.append(_section("History"))
        for event in mention.events:
            parts.append(
                _line(
                    _time(event.at)[5:16],
                    f"{event.by} {event.action} {_event_detail(event.detail)}".rstrip(),
                )
            )
    return Group(*parts)


def first_words(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _event_detail(detail: str) -> str:
    try:
        value = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    return str(value)


class DetailPane(VerticalScroll):
    """Scrollable; shows ``render_mention`` of the selected mention."""

    DEFAULT_CSS = """
    DetailPane { padding: 0 1; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Text("Select a mention to see it here.", _DIM), id="detail-body")

    plain = ""
    """The pane's text as shown, without styles (for tests and copying)."""

    def show(self, mention: Mention | None) -> None:
        body = self.query_one("#detail-body", Static)
        if mention is None:
            self.plain = ""
            body.update(Text("Select a mention to see it here.", _DIM))
        else:
            variables = self.app.theme_variables
            palette = {
                "negative": variables.get("error", ""),
                "positive": variables.get("success", ""),
                "neutral": variables.get("foreground", ""),
                "unscored": variables.get("warning", ""),
            }
            content = render_mention(mention, palette)
            self.plain = "\n".join(part.plain for part in content.renderables)  # type: ignore[attr-defined]
            body.update(content)
