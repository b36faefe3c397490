from tui.core.text import decode, first_line, for_display, html_to_text, truncate


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
