"""Untrusted text from the internet: HTML to plain text, and neutralizing before display.

Stored text is kept exactly as received. ``for_display`` is applied only when drawing, so that
control characters, ANSI escape sequences and bidirectional overrides cannot move the cursor,
recolor the terminal or reorder what the operator reads.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["MAX_TEXT", "decode", "first_line", "for_display", "html_to_text", "truncate"]

MAX_TEXT = 100_000
"""Characters kept for display in the detail pane; longer text is cut with a marker."""

_ANSI = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]        # CSI ... final byte
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC ... BEL or ST
    | \x1b[@-Z\\-_]                # other two-byte escapes
    | \x9b[0-?]*[ -/]*[@-~]        # 8-bit CSI
    """,
    re.VERBOSE,
)
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = "\u200b\u2060\ufeff"


def _control_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) in "\n\t":
            continue
        table[code] = chr(0x2400 + code)  # the Control Pictures block: NUL -> ␀, ESC -> ␛
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for char in _BIDI + _INVISIBLE:
        table[ord(char)] = ""
    table[ord("\t")] = "    "
    return table


_CONTROL = _control_table()


def for_display(text: str) -> str:
    """Text safe to put in a terminal cell: no escapes, no control or bidi characters.

    Newlines are kept; use ``first_line`` for single-line contexts.
    """
    return _ANSI.sub("", text).translate(_CONTROL)


def first_line(text: str) -> str:
    """The first non-blank line, neutralized, with runs of spaces collapsed."""
    for line in text.splitlines():
        if line.strip():
            return " ".join(for_display(line).split())
    return ""


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [{len(text) - limit:,} more characters not shown]"


def decode(data: bytes) -> str:
    """Bytes from the outside world as text; invalid UTF-8 becomes U+FFFD, never an error."""
    return data.decode("utf-8", errors="replace")


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4"})
    _SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in ("p", "div", "blockquote", "li"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs kept.

    Handles Mastodon content (``<p>``, ``<br>``, invisible link spans), HN comments and
    Google Alerts' escaped titles. Text without tags passes through with entities decoded.
    """
    if "<" not in markup:
        return html.unescape(markup).strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()
