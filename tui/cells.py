"""Fitting one-line text into terminal cells: wide characters (CJK, emoji) take two cells, so
widths are counted in cells (``rich.cells``), never in characters; a text cut short ends in
(or, with ``middle``, holds) ``…`` so that the cut shows. For the screens and for the plain
tables commands print (``triage who``, ``doctor``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def fit(text: str, width: int) -> str:
    """``text`` cut (with ``…``) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if text.isascii() and text.isprintable():  # one cell per character: most fields
        if len(text) > width:
            return text[: width - 1] + ELLIPSIS
        return text + " " * (width - len(text))
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + ELLIPSIS
    return set_cell_size(text, width)


def shorten(text: str, width: int, *, middle: bool = False) -> str:
    """``text`` as it is when it fits in ``width`` cells, else cut to ``width`` with ``…``: at
    the end, or (``middle``) in the middle, keeping the end, where names that begin alike
    (``alerts-acme-eu``, ``alerts-acme-us``) differ."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if not middle:
        return set_cell_size(text, width - 1).rstrip() + ELLIPSIS
    tail = (width - 1) // 2
    head = width - 1 - tail
    end = ""
    for char in reversed(text):  # the last ``tail`` cells, whole characters only
        if cell_len(char + end) > tail:
            break
        end = char + end
    return set_cell_size(text, head).rstrip() + ELLIPSIS + end


def aligned(rows: Sequence[Sequence[str]]) -> str:
    """Rows of one-line cells as plain text in columns two spaces apart, each as wide as its
    widest cell counted in terminal cells (a CJK name or an emoji takes two), the last
    column left as it is."""
    if not rows:
        return ""
    columns = len(rows[0])
    widths = [max(cell_len(r[i]) for r in rows) for i in range(columns - 1)]

    def line(cells: Sequence[str]) -> str:
        padded = (cell + " " * (w - cell_len(cell)) for cell, w in zip(cells, widths, strict=False))
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join(line(r) for r in rows)
