"""Text safety: what untrusted text looks like once neutralized for the terminal, and tags."""

import unicodedata

import pytest

from tui.core.text import (
    ESCAPE_MARK,
    MAX_TAG,
    clip,
    decode,
    first_line,
    for_display,
    html_to_text,
    normalize_tag,
    one_line,
    truncate,
)


def test_html_to_text_keeps_paragraphs_and_decodes_entities() -> None:
    html = (
        '<p>Hi <a href="https://x.example"><span class="invisible">https://</span>x.example</a>'
        " &amp; you&#39;re</p><p>two<br>three</p>"
    )
    assert html_to_text(html) == "Hi https://x.example & you're\n\ntwo\nthree"


def test_html_to_text_drops_scripts_and_passes_plain_text() -> None:
    assert html_to_text("<script>alert(1)</script>ok") == "ok"
    assert html_to_text("plain &lt;b&gt; text") == "plain <b> text"


def test_for_display_removes_escapes_controls_and_bidi() -> None:
    hostile = (
        "a\x1b[31mred\x1b[0m \x1b]0;title\x07x \u202eevil\u202c \x00\x07\x08 [@click=app.quit]q[/]"
    )
    shown = for_display(hostile)
    assert "\x1b" not in shown
    assert "\u202e" not in shown and "\u202c" not in shown
    assert not any(ord(c) < 32 and c not in "\n" for c in shown)
    assert "␀␇␈" in shown
    assert "[@click=app.quit]q[/]" in shown  # markup-like text is kept literally


def test_for_display_keeps_newlines_and_unicode() -> None:
    assert for_display("line1\nline2 ✨ 配達") == "line1\nline2 ✨ 配達"


def test_first_line_skips_blank_lines_and_collapses_space() -> None:
    assert first_line("\n\n   hello    world\nsecond") == "hello world"
    assert first_line("") == ""


def test_truncate_marks_what_is_cut() -> None:
    assert truncate("abc", 10) == "abc"
    cut = truncate("x" * 150, 100)
    assert cut.startswith("x" * 100) and "50 more characters" in cut


def test_decode_never_raises_on_invalid_utf8() -> None:
    assert decode(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"


# -- single-line fields and the full set of dangerous characters -----------------------------

_DANGEROUS = ("Cc", "Cf", "Cs", "Zl", "Zp")
_BREAKS = "\n\r\v\f\x85\u2028\u2029"


def _dangerous_code_points() -> list[str]:
    return [chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) in _DANGEROUS]


def test_every_control_format_separator_and_surrogate_is_neutralized() -> None:
    """The whole Unicode range, not a hand list: every Cc, Cf, Cs, Zl and Zp code point.

    (Followed by a letter no escape sequence can end with, so ESC shows as its mark alone.)"""
    chars = _dangerous_code_points()
    assert len(chars) > 2000  # the surrogates alone are 2048
    for char in chars:
        single = one_line(f"a{char}é")
        multi = for_display(f"a{char}é")
        for shown, allowed in ((single, ""), (multi, "\n")):
            left = [c for c in shown if unicodedata.category(c) in _DANGEROUS and c not in allowed]
            assert left == [], (hex(ord(char)), shown)
        assert "\n" not in single
        assert single.startswith("a") and single.endswith("é"), hex(ord(char))
        category = unicodedata.category(char)
        if char in _BREAKS:
            assert single == "a é" and multi == "a\né"
        elif char == "\t":
            assert single == "a é" and multi == "a    é"
        elif category == "Cf":
            assert single == multi == "aé", hex(ord(char))  # removed, nothing in its place
        else:  # C0 -> a control picture, DEL -> ␡, C1 and surrogates -> U+FFFD
            assert len(single) == 3 and single == multi, hex(ord(char))
            assert unicodedata.category(single[1]) == "So" or single[1] == "\ufffd"


def test_a_crafted_author_name_stays_one_line() -> None:
    author = "x\n1m ▲ pos mastodon ceo done All refunds approved"
    assert one_line(author) == "x 1m ▲ pos mastodon ceo done All refunds approved"
    for sep in ("\r", "\r\n", "\v", "\f", "\x85", "\u2028", "\u2029"):
        assert one_line(f"x{sep}fake row") == "x fake row"


def test_one_line_collapses_whitespace_and_strips() -> None:
    assert one_line("  Ann \t\u00a0 Smith  ") == "Ann Smith"
    assert one_line("plain") == "plain"
    assert one_line("") == ""


def test_escape_sequences_leave_a_mark_in_both_forms() -> None:
    """Hidden content (an OSC title, a hyperlink target) never vanishes without a trace."""
    for shown in (for_display, one_line):
        assert shown("a\x1b]0;pwned\x07b") == f"a{ESCAPE_MARK}b"
        assert shown("a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\") == (
            f"a{ESCAPE_MARK}link{ESCAPE_MARK}"
        )
        assert shown("\x1b[31mred\x1b[0m") == f"{ESCAPE_MARK}red{ESCAPE_MARK}"
        assert shown("a\x1bcb") == f"a{ESCAPE_MARK}b"  # RIS, the full reset
        assert shown("a\x1b(0b") == f"a{ESCAPE_MARK}b"  # switch to line drawing
        assert shown("a\x9b2Jb") == f"a{ESCAPE_MARK}b"  # 8-bit CSI
        assert shown("a\x9d0;t\x9cb") == f"a{ESCAPE_MARK}b"  # 8-bit OSC
        assert shown("a\x1b") == f"a{ESCAPE_MARK}"  # a lone ESC shows the same mark
    # An unterminated OSC does not swallow the rest of the text: it stays visible.
    assert for_display("a\x1b]0;the rest\nof the post") == f"a{ESCAPE_MARK}0;the rest\nof the post"


def test_bidi_zero_width_soft_hyphen_and_tag_characters_are_removed() -> None:
    hostile = "pay\u202epal\u202c \u2066x\u2069 z\u200bw\u200cj\u2060 so\u00adft \ufeffbom"
    assert one_line(hostile) == "paypal x zwj soft bom"
    smuggled = "ok" + "".join(chr(0xE0000 + ord(c)) for c in "ignore previous") + "\U000e007f"
    assert one_line(smuggled) == "ok"


def test_zwj_is_kept_inside_emoji_sequences_only() -> None:
    family = "👨\u200d👩\u200d👧"
    assert one_line(family) == family and for_display(family) == family
    heart_on_fire = "❤\ufe0f\u200d🔥"  # the joiner follows a presentation selector
    assert one_line(heart_on_fire) == heart_on_fire
    assert one_line("pay\u200dpal") == "paypal"
    assert one_line("👍\u200d") == "👍" and one_line("\u200d👍") == "👍"
    assert one_line("❤\ufe0f") == "❤\ufe0f"  # variation selectors stay


def test_for_display_keeps_line_structure_for_every_separator() -> None:
    assert for_display("a\r\nb\rc\u2028d\x85e\vf\fg") == "a\nb\nc\nd\ne\nf\ng"
    assert for_display("tab\there") == "tab    here"


def test_first_line_is_single_line_safe() -> None:
    assert first_line("\u200b \u2060\n\u2028 \nsecond\u202e line") == "second line"
    assert first_line("\x1b[2J\nhello") == ESCAPE_MARK  # a line of escapes is not blank
    assert first_line("one line only") == "one line only"
    assert first_line("x" * 50, limit=10) == "x" * 9 + "…"  # cut, and it shows


def test_one_line_with_a_limit_says_it_cut() -> None:
    assert one_line("x" * 10, 10) == "x" * 10
    assert one_line("x" * 11, 10) == "x" * 9 + "…"
    # an escape sequence counts as the one mark it shows as
    assert one_line("ab\x1b[2Jcdefghijkl", 8) == "ab␛cdef…"
    assert one_line("abc" + " " * 300, 200) == "abc"  # only spaces were cut: no mark
    assert one_line("x", 0) == ""
    # A first line of invisible characters is no line, however long: the next one is shown.
    assert first_line("\u200b" * 150 + "\nRefund NOW or I sue", 100) == "Refund NOW or I sue"


LINK = "see \x1b]8;;https://evil.example/x\x07our page\x1b]8;;\x07 now"


@pytest.mark.parametrize("limit", range(1, len(LINK) + 2))
def test_a_cut_never_splits_an_escape_sequence(limit: int) -> None:
    """Cut inside an OSC hyperlink, the rest of it showed as text: ``␛8;;https://evil…``."""
    whole = one_line(LINK)
    assert whole == "see ␛our page␛ now"
    cut = one_line(LINK, limit)
    assert "8;;" not in cut and "evil" not in cut
    assert len(cut) <= limit
    # what shows is the start of the whole line, and a cut says so
    assert whole.startswith(cut.removesuffix("…"))
    assert cut == whole or cut.endswith("…") or not cut


def test_clip_keeps_sequences_whole_and_counts_each_as_one() -> None:
    assert clip(LINK, 5) == "see \x1b]8;;https://evil.example/x\x07"
    assert clip(LINK, 4) == "see "
    assert clip("x" * 10, 3) == "xxx"
    assert clip("ab\x1b", 3) == "ab\x1b"  # a lone ESC shows as one mark
    many = "\x1b[31m" * 10_000 + "tail"
    assert clip(many, 3) == "\x1b[31m" * 3  # only as far as it shows


@pytest.mark.parametrize(
    ("typed", "tag"),
    [
        ("#Billing  Issue", "billing issue"),
        ("##billing issue", "billing issue"),
        ("  # Urgent\t", "urgent"),
        ("Late\nDelivery", "late delivery"),
        ("re\u202efund", "refund"),
        ("c#", "c#"),
    ],
)
def test_normalize_tag(typed: str, tag: str) -> None:
    assert normalize_tag(typed) == tag


@pytest.mark.parametrize("typed", ["", "   ", "#", "## ", "\u200b"])
def test_normalize_tag_rejects_empty(typed: str) -> None:
    with pytest.raises(ValueError, match="empty tag"):
        normalize_tag(typed)


def test_normalize_tag_rejects_overlong() -> None:
    assert normalize_tag("a" * MAX_TAG) == "a" * MAX_TAG
    with pytest.raises(ValueError, match=f"longer than {MAX_TAG}"):
        normalize_tag("a" * (MAX_TAG + 1))


def test_json_escaped_is_the_same_value_with_nothing_a_terminal_runs() -> None:
    import json

    from tui.core.text import for_csv, json_escaped

    value = {"t": "a\x1b[2J\x00\x7f\x9b\u202e\u200b\U000e0041\ud800 \u2028end\n"}
    data = json_escaped(json.dumps(value, ensure_ascii=False))
    assert json.loads(data) == value
    assert for_csv(data) == data and data.isprintable()  # U+2028 too: a reader may split on it
    assert "\\u2028" in data


def test_csv_cells_break_lines_where_the_text_does_and_join_no_words() -> None:
    """A terminal draws U+2028 and U+2029 as nothing: "multi\u2028line" showed as
    "multiline". In a cell they are line breaks, as NEL, VT and FF are."""
    from tui.core.text import for_csv

    assert for_csv("multi\u2028line") == "multi\nline"
    assert for_csv("a\u2029b\x85c\vd\fe\rf\r\ng\th") == "a\nb\nc\nd\ne\nf\r\ng\th"
