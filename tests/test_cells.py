"""Fitting text into cells: wide characters take two, and a cut always shows."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tui.cells import aligned, fit, shorten

TEXTS = ["", "ann", "a" * 30, "naïve café", "東京の配達", "late 🤬🤬", "x\u0301y"]
"""(No tabs or controls: ``one_line`` has made every text one line of printable cells.)"""


def test_a_cell_is_exactly_its_width_whatever_the_text() -> None:
    for text in TEXTS:
        assert fit(text, 0) == ""
        for width in range(1, 14):
            cut = fit(text, width)
            assert cell_len(cut) == width, (text, width, cut)
            if cell_len(text) <= width:
                assert cut.rstrip(" ") == text.rstrip(" ")  # padded, never cut
            else:
                assert cut.endswith("…") or cut.endswith("… ")  # cut, and says so


@pytest.mark.parametrize("middle", [False, True])
def test_shorten_keeps_what_fits_and_cuts_the_rest_within_the_width(middle: bool) -> None:
    for text in [*TEXTS, "google-alerts-acme-brand-eu", "最悪のサービスです本当に最悪"]:
        for width in range(1, 30):
            cut = shorten(text, width, middle=middle)
            assert cell_len(cut) <= width, (text, width, cut)
            if cell_len(text) <= width:
                assert cut == text
            else:
                assert "…" in cut


def test_a_cut_in_the_middle_keeps_the_ends_that_tell_names_apart() -> None:
    assert shorten("google-alerts-acme-brand-eu", 19, middle=True) == "google-al…-brand-eu"
    assert shorten("google-alerts-acme-brand-us", 19, middle=True) == "google-al…-brand-us"
    assert shorten("kimberly-the-night-shift-lead", 15) == "kimberly-the-n…"
    assert shorten("最悪のサービスです本当に最悪", 11, middle=True) == "最悪…最悪"


def test_aligned_columns_count_terminal_cells_not_characters() -> None:
    rows = [("operator", "host", "detail"), ("東京さん", "vm", "ok"), ("ann 🙂", "db", "x")]
    text = aligned(rows)
    lines = text.splitlines()
    hosts = ["host", "vm", "db"]
    starts = {cell_len(line[: line.index(h)]) for line, h in zip(lines, hosts, strict=True)}
    assert starts == {10}, text  # the second column starts at the same cell on every line
    assert lines[1].endswith("ok") and lines[2].endswith("x")


def test_the_team_table_fits_a_terminal_by_cutting_the_selected_mention() -> None:
    from datetime import timedelta

    from tui.core.model import utcnow
    from tui.store.presence import Presence, TeamMember
    from tui.team import table

    now = utcnow()
    members = [
        TeamMember(
            Presence(
                "a1", name, "root", "vm", 4242, now - timedelta(hours=1), now, 7, "looking", now
            ),
            "The parcel never came and nobody at support answers the phone, three days now",
            3,
            now - timedelta(hours=8),
        )
        for name in ("sam", "東京さん")
    ]
    wide = table(members, now).splitlines()
    assert max(cell_len(line) for line in wide) > 80
    fitted = table(members, now, width=100).splitlines()
    assert all(cell_len(line) <= 100 for line in fitted), fitted
    assert "#7 The parcel" in fitted[1] and "…" in fitted[1]
    narrow = table(members, now, width=40).splitlines()  # it cannot fit: the mention keeps 12
    assert "#7 The parc…  looking" in narrow[1]
