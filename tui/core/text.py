"""Untrusted text from the internet: HTML to plain text, neutralizing before display, tags.

Stored text is kept exactly as received. Neutralizing happens only when drawing, in two forms:

* ``for_display`` for multi-line text (the detail pane's body): line breaks stay line breaks;
* ``one_line`` for every single-line field (author, source, tag, URL, the list's first line of
  the text, names in the status line and messages): line breaks become spaces and runs of
  whitespace collapse, so one field can never draw a second row.

Both apply the same rules, built once from ``unicodedata.category`` rather than a hand list:

* A terminal escape sequence (CSI, OSC, DCS, ... in 7- or 8-bit form) is replaced as a whole
  by ``ESCAPE_MARK`` (␛), so hidden content such as an OSC title payload never vanishes
  silently; a lone ESC shows as the same mark.
* Other C0 controls show as Control Pictures (NUL -> ␀, BEL -> ␇), DEL as ␡, C1 controls and
  lone surrogates as U+FFFD.
* Every line or paragraph separator (LF, CR, CRLF, VT, FF, NEL, U+2028, U+2029) is a line
  break (``for_display``) or a space (``one_line``). The information separators U+001C-U+001E,
  which ``str.splitlines`` also breaks on, are controls and show as pictures.
* Every format character (category Cf) is removed: bidi embeddings, overrides, isolates and
  marks, zero-width space and non-joiner, word joiner, BOM, the invisible math operators, the
  interlinear annotation marks, the soft hyphen U+00AD (terminals disagree on whether it takes
  a cell, which would shift the columns after it) and the tag characters U+E0000-U+E007F
  (which can smuggle invisible ASCII; subdivision flags fall back to a plain black flag).
  The one exception is ZERO WIDTH JOINER between two emoji, which keeps sequences such as
  👨‍👩‍👧 whole; elsewhere it is removed too. Variation selectors and combining marks stay.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache, lru_cache
from html.parser import HTMLParser

__all__ = [
    "ESCAPE_MARK",
    "ESCAPE_STARTS",
    "MAX_TAG",
    "MAX_TEXT",
    "clip",
    "decode",
    "first_line",
    "for_csv",
    "for_display",
    "html_to_text",
    "json_escaped",
    "normalize_tag",
    "one_line",
    "truncate",
]

MAX_TEXT = 100_000
"""Characters kept for display in the detail pane; longer text is cut with a marker."""

ESCAPE_MARK = "\u241b"
"""Shown in place of each terminal escape sequence (and each lone ESC): ␛."""

MAX_TAG = 50
"""The longest tag name, in characters, after normalizing."""

_ESCAPE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                                  # CSI ... final byte
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)       # OSC, DCS, SOS, PM, APC ... BEL/ST
    | \x1b[ -/]*[0-~]                                        # other escapes (nF, Fp, Fe, Fs)
    | \x9b[0-?]*[ -/]*[@-~]                                  # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)  # 8-bit string controls
    """,
    re.VERBOSE,
)
"""A string control without its terminator matches only as far as its introducer, so an
unterminated OSC never swallows the rest of the text: the rest stays visible."""

ESCAPE_STARTS = "\x1b\x90\x98\x9b\x9d\x9e\x9f"
"""Every character an escape sequence can start with (ESC and the 8-bit introducers)."""
_INTRODUCER = re.compile(f"[{ESCAPE_STARTS}]")
"""Where ``_ESCAPE`` can start a match."""

_LINE_BREAKS = "\n\r\v\f\x85\u2028\u2029"
_LINE = re.compile(f"[^{_LINE_BREAKS}]+")

_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf"
    "\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_EMOJI_LEFT = _EMOJI + "\ufe0f"  # a joiner may follow an emoji's presentation selector
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI_LEFT}])\u200d|\u200d(?![{_EMOJI}])")
"""ZERO WIDTH JOINER not between two emoji (skin-tone modifiers are emoji in this range)."""

_SCANNED = (range(0x20000), range(0xE0000, 0xE1000))
"""Planes holding every Cc, Cf, Cs, Zl and Zp code point (a test checks the whole range)."""


@cache
def _tables() -> tuple[dict[int, str], dict[int, str]]:
    """(multi-line table, single-line table) for ``str.translate``; built on first use."""
    multi: dict[int, str] = {}
    for code in (c for block in _SCANNED for c in block):
        category = unicodedata.category(chr(code))
        if category == "Cf" and code != 0x200D:
            multi[code] = ""
        elif category == "Cs":
            multi[code] = "\ufffd"
        elif category == "Cc":
            if code < 0x20:
                multi[code] = chr(0x2400 + code)  # the Control Pictures block: NUL -> ␀
            elif code == 0x7F:
                multi[code] = "\u2421"  # ␡
            else:
                multi[code] = "\ufffd"
    for char in _LINE_BREAKS:
        multi[ord(char)] = "\n"
    multi[ord("\t")] = "    "
    single = dict(multi)
    for char in _LINE_BREAKS:
        single[ord(char)] = " "
    single[ord("\t")] = " "
    return multi, single


def _neutralize(text: str, table: dict[int, str]) -> str:
    text = _ESCAPE.sub(ESCAPE_MARK, text)
    if "\u200d" in text:
        text = _STRAY_ZWJ.sub("", text)
    return text.translate(table)


def for_display(text: str) -> str:
    """Multi-line text safe to put in terminal cells (see the module docstring).

    Every line separator becomes ``\\n`` (CRLF counts as one); tabs become four spaces.
    """
    if text.isprintable():
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _neutralize(text, _tables()[0])


@cache
def _csv_table() -> dict[int, str]:
    """``for_display``'s table without the whitespace a CSV cell keeps as it is."""
    table = dict(_tables()[0])
    for char in "\n\r\t":
        del table[ord(char)]
    return table


_LONE_CR = re.compile(r"\r(?!\n)")


def for_csv(text: str) -> str:
    """A CSV cell's text safe to print to a terminal (``triage export --format csv`` with no
    ``-o``, or ``cat`` of the file): neutralized like ``for_display``, but LF, CRLF and tabs
    stay as they are (the cell is quoted, a spreadsheet shows them). A lone CR, which would
    draw the rest of the line over its start, and VT, FF, NEL and the Unicode line and
    paragraph separators (which a terminal draws as nothing, joining the words) become LF."""
    if text.isprintable():
        return text
    text = _neutralize(text, _csv_table())
    return _LONE_CR.sub("\n", text) if "\r" in text else text


@cache
def _json_escapes() -> dict[int, str]:
    escapes: dict[int, str] = {}
    for code in _csv_table():
        if code > 0xFFFF:  # a surrogate pair, as JSON writes a character beyond the BMP
            high, low = divmod(code - 0x10000, 0x400)
            escapes[code] = f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
        else:
            escapes[code] = f"\\u{code:04x}"
    return escapes


def json_escaped(data: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with every character ``for_csv``
    would change written as a ``\\u`` escape instead: the same JSON value, exactly, that is
    safe to print to a terminal."""
    return data if data.isprintable() else data.translate(_json_escapes())


def one_line(text: str, limit: int | None = None) -> str:
    """A single-line field safe to put in terminal cells: never more than one row.

    Neutralized like ``for_display``; line breaks and tabs become spaces, runs of whitespace
    collapse to one space and the ends are stripped. With ``limit``, only the first ``limit``
    characters are looked at (the list draws a few dozen cells of a field at most), and a
    text that was longer is cut to ``limit - 1`` of them and ``…``, so that the cut shows.
    """
    if limit is not None and len(text) > limit:
        if limit <= 0:
            return ""
        shown = clip(text, limit - 1)
        head = one_line(shown)
        # The mark only where something was cut: not after nothing (a line of invisible
        # characters stays empty, so ``first_line`` goes on to the next), nor for spaces.
        rest = text[len(shown) :]
        return head + "…" if head and rest and not rest.isspace() else head
    if not text.isprintable():
        return _cached_line(text) if len(text) <= _CACHED_CHARS else _clean_line(text)
    if "  " in text or text[:1] == " " or text[-1:] == " ":
        return " ".join(text.split())
    return text


_CACHED_CHARS = 1_000


def _clean_line(text: str) -> str:
    return " ".join(_neutralize(text, _tables()[1]).split())


_cached_line = lru_cache(maxsize=4096)(_clean_line)
"""The list draws the same fields every frame: remember the short ones."""


def clip(text: str, limit: int) -> str:
    """The start of ``text`` that shows at most ``limit`` characters, each escape sequence
    counting as the one mark it shows as, and never cut inside one. (Cut inside, an OSC
    hyperlink would show its target, ``␛8;;https://…``, as text.)"""
    if len(text) <= limit:
        return text
    at, room = 0, limit
    while room > 0 and (found := _INTRODUCER.search(text, at, at + room)):
        sequence = _ESCAPE.match(text, found.start())
        room -= found.start() - at + 1
        at = sequence.end() if sequence else found.end()
    return text[: at + max(room, 0)]


def first_line(text: str, limit: int | None = None) -> str:
    """The first line with something to show, as ``one_line`` makes it.

    A line holding only an escape sequence counts (it shows as ␛); one holding only spaces or
    invisible characters does not.
    """
    if text.isprintable():  # no line breaks, nothing to neutralize
        return one_line(text, limit)
    for match in _LINE.finditer(text):
        line = one_line(match.group(), limit)
        if line:
            return line
    return ""


def normalize_tag(text: str) -> str:
    """The one form a tag is stored, matched and shown in: ``"#Billing  Issue"`` ->
    ``"billing issue"``.

    Single-line safe (``one_line``), leading ``#`` signs dropped, whitespace collapsed,
    lowercased, at most ``MAX_TAG`` characters. ``ValueError`` (with the fix) when nothing is
    left or the result is too long.
    """
    tag = " ".join(one_line(text).lstrip("# ").split()).lower()
    if not tag:
        raise ValueError(f"empty tag {text!r}: type a name (a leading # is dropped)")
    if len(tag) > MAX_TAG:
        raise ValueError(f"tag longer than {MAX_TAG} characters: shorten it")
    return tag


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
