"""The command line, run as a user would: real files, real database, exit codes, messages."""

from __future__ import annotations

import csv
import importlib.metadata
import json
import sqlite3
from pathlib import Path

import pytest

from tests.unprivileged import run_unprivileged
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps(
            {
                "source": "mastodon",
                "external_id": "1",
                "text": "My parcel is late again, still no answer",
                "author": "ann",
                "created_at": "2026-11-20T10:00:00Z",
                "url": "https://m.example/1",
            }
        ),
        json.dumps(
            {
                "source": "mastodon",
                "external_id": "2",
                "text": "Thanks, great service!",
                "author": "bob",
                "created_at": "2026-11-21T10:00:00Z",
            }
        ),
        "{not json",
        json.dumps({"source": "reddit", "text": 42}),
        "",
        json.dumps(
            {"text": "no id at all [@click=app.quit]x[/] \u202eevil", "created_at": "yesterday"}
        ),
        json.dumps({"text": "no id at all, fine"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_reports_bad_lines_and_is_idempotent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jsonl: Path
) -> None:
    db = str(tmp_path / "m.db")
    code, _, err = run(capsys, "import", str(jsonl), "--db", db)
    assert code == 1  # some lines were skipped
    assert f"{jsonl}:3: not valid JSON" in err
    assert f"{jsonl}:4: missing or non-string 'text'" in err
    assert f"{jsonl}:6: bad time 'yesterday'" in err
    assert "imported 3 new mentions" in err
    code, _, err = run(capsys, "import", str(jsonl), "--db", db)
    assert "imported 0 new mentions (3 already present" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM mentions").fetchone()[0] == 3


def test_import_skips_a_line_with_nothing_to_triage(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No text to read (empty, blanks, invisible characters) and no URL to open is no mention;
    a post with only a link (a feed entry, an image post) is one."""
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"external_id": "1", "text": ""}),
        json.dumps({"external_id": "2", "text": " \u200b\u202e\n\t "}),
        json.dumps({"external_id": "3", "text": "", "url": "https://m.example/3"}),
        json.dumps({"external_id": "4", "text": "a real one"}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "import", str(path), "--db", str(db))
    assert code == 1
    fix = "empty 'text' and no 'url': nothing to triage; fill in either"
    assert f"{path}:1: {fix}" in err and f"{path}:2: {fix}" in err
    assert "imported 2 new mentions" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT external_id FROM mentions ORDER BY 1").fetchall() == [
            ("3",),
            ("4",),
        ]


def test_import_counts_lines_skipped_apart_from_mentions_imported_without_marks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"external_id": "1", "text": "fine"}),
        "{not json",
        json.dumps({"external_id": "2"}),  # no text: skipped
        json.dumps({"external_id": "3", "text": "b", "sentiment": {"operator_label": "meh"}}),
        json.dumps({"external_id": "4", "text": "c", "status": "closed"}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run(capsys, "import", str(path), "--db", str(tmp_path / "m.db"))
    assert code == 1
    assert (
        "imported 3 new mentions (0 already present: 0 updated with new text, 0 unchanged; "
        "2 lines skipped, 2 imported without the operators' work on them)" in err
    )


def test_import_csv_with_optional_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "author", "created_at"])
        writer.writerow(["a1", "Billing charged me twice", "cat", "2026-11-01T08:00:00Z"])
        writer.writerow(["a2", "Love it", "dan", ""])
    db = str(tmp_path / "m.db")
    assert run(capsys, "import", str(path), "--db", db)[0] == 0
    assert run(capsys, "import", str(path), "--db", db)[0] == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT source, external_id, author FROM mentions ORDER BY id"
        ).fetchall()
    assert rows == [("import", "a2", "dan"), ("import", "a1", "cat")] or rows == [
        ("import", "a1", "cat"),
        ("import", "a2", "dan"),
    ]


def test_a_csv_quote_never_closed_is_named_not_read_into_one_mention(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'id,text,author\n1,first ok,a\n2,"multi\nline, fine",b\n3,x"y is fine,c\n'
        '4,"oops stray quote,d\n5,fifth,e\n6,sixth,f\n',
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "import", str(path), "--db", str(db))
    assert code == 1
    assert f"{path}:6: a quoted cell is never closed" in err  # the line where it opened
    with sqlite3.connect(db) as conn:
        texts = [t for (t,) in conn.execute("SELECT text FROM mentions ORDER BY external_id")]
    assert texts == ["first ok", "multi\nline, fine", 'x"y is fine']  # nothing swallowed


def test_a_stray_quote_inside_a_cell_does_not_cost_the_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What spreadsheets and hand edits write ("He said "refund me" twice") is read as the
    lenient reader reads it; a row with too many cells is named at its own line."""
    path = tmp_path / "in.csv"
    path.write_text(
        'id,text\n1,fine\n2,"He said "refund me" twice"\n3,"quoted" text\n4,a,b,c\n5,last\n',
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "import", str(path), "--db", str(db))
    assert (
        code == 1 and f"{path}:5: more cells than columns" in err and err.count("line skipped") == 1
    )
    with sqlite3.connect(db) as conn:
        ids = [i for (i,) in conn.execute("SELECT external_id FROM mentions ORDER BY external_id")]
    assert ids == ["1", "2", "3", "5"]


def test_import_csv_without_text_column_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(path), "--db", str(tmp_path / "m.db"))
    assert code == 2 and "no 'text' column" in err and err.count("\n") == 1


def test_import_keeps_invalid_utf8_and_nul_exactly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    line = b'{"external_id": "x", "text": "bad \xff\xfe bytes \\u0000 nul"}'
    path.write_bytes(line + b"\n")
    db = str(tmp_path / "m.db")
    assert run(capsys, "import", str(path), "--db", db)[0] == 0
    with sqlite3.connect(db) as conn:
        text, raw = conn.execute("SELECT text, raw FROM mentions").fetchone()
    assert text == "bad \ufffd\ufffd bytes \x00 nul"
    assert raw == line  # the payload as collected, byte for byte


def test_export_jsonl_has_every_documented_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jsonl: Path
) -> None:
    db = str(tmp_path / "m.db")
    run(capsys, "import", str(jsonl), "--db", db)
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "export", "--db", db, "-o", str(out))
    assert code == 0 and "exported 3 mentions" in err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3
    first = records[0]
    assert set(first) >= {
        "id",
        "source",
        "external_id",
        "url",
        "author",
        "text",
        "created_at",
        "collected_at",
        "language",
        "sentiment",
        "tags",
        "status",
        "follow_up",
        "snapshots",
        "drafts",
        "deleted_at",
        "versions",
    }
    assert set(first["sentiment"]) >= {"compound", "label", "reasons", "operator_label"}
    assert first["created_at"].endswith("Z")
    # The export is importable: re-importing it into a new database brings every mention.
    db2 = str(tmp_path / "m2.db")
    code, _, err = run(capsys, "import", str(out), "--db", db2)
    assert code == 0 and "imported 3 new mentions" in err


def test_export_filters_and_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jsonl: Path
) -> None:
    db = str(tmp_path / "m.db")
    run(capsys, "import", str(jsonl), "--db", db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE mentions SET status = 'done' WHERE external_id = '1'")
    code, out, _ = run(capsys, "export", "--db", db, "--status", "done")
    assert code == 0 and [json.loads(x)["external_id"] for x in out.splitlines()] == ["1"]
    code, out, _ = run(capsys, "export", "--db", db, "--since", "2026-11-21T00:00:00Z")
    assert {json.loads(x)["external_id"] for x in out.splitlines()} == {"2"} | {
        json.loads(x)["external_id"]
        for x in out.splitlines()
        if json.loads(x)["source"] == "import"
    }
    code, out, _ = run(capsys, "export", "--db", db, "--format", "csv")
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == 3 and "sentiment_label" in rows[0]
    assert run(capsys, "export", "--db", db, "--since", "whenever")[0] == 2


def test_evidence_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path, jsonl: Path) -> None:
    import asyncio

    from tui.store import Store

    db = tmp_path / "m.db"
    run(capsys, "import", str(jsonl), "--db", str(db))

    async def snap() -> None:
        store = await Store.open(db, "eve")
        snapshot = await store.add_snapshot(1)
        await store.add_snapshot_page(snapshot.id, status=200, error=None, page=b"<html>hi</html>")
        await store.close()

    asyncio.run(snap())
    code, out, _ = run(capsys, "evidence", "1", "-o", str(tmp_path / "ev"), "--db", str(db))
    assert code == 0
    folder = Path(out.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert any(name.endswith("page.html") for name in manifest["files"])
    assert manifest["snapshots"][0]["by"] == "eve"
    code, _, err = run(capsys, "evidence", "99", "-o", str(tmp_path / "ev"), "--db", str(db))
    assert code == 2 and "no mention 99" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('brand = "x"\nbrnad_terms = []\n', ":2: brnad_terms: unknown key"),
        ("brand = \n", "invalid TOML"),
        ('auto_snapshot = "sometimes"\n', ":1: auto_snapshot: unknown mode"),
        (
            '[sentiment]\nnegative_threshold = "low"\n',
            ":2: sentiment.negative_threshold: expected a number",
        ),
        ('[[sources]]\nkind = "myspace"\n', ":2: sources.kind: unknown or missing source kind"),
        ('[[sources]]\nkind = "feed"\nurl = "x"\ninterval = "soon"\n', ":4: sources.interval"),
        ("brand = \n", ":1: invalid TOML: Invalid value (column 9)"),
        ('"a.b" = 1\n', ":1: a.b: unknown key"),
        ('brand = "x"\nsentiment.negative_threshold = "low"\n', ":2: sentiment.negative_th"),
        ('brand = "x"\nsentiment = {negative_threshold = "low"}\n', ":2: sentiment.negative_th"),
        ('brand = "x"\n[char_limits]\nbrand = 5\n', ":3: char_limits.brand: unknown source"),
        ('brand = "x"\n[char_limits]\n"mastodon.brand" = 5\n', ":3: char_limits.mastodon.brand"),
        (  # a triple quote in a comment or a one-line string opens no string
            'brand = "x"\n# templates use """ for text\nbrand_terms = ["a\'\'\'b"]\n'
            '[learning]\nfolds = "five"\n',
            ":5: learning.folds: expected an integer",
        ),
        (  # a [[sources]] line inside a template's text is no table
            '[[templates]]\nname = "a"\ntext = """\n[[sources]]\n"""\n'
            '[[sources]]\nkind = "feed"\nurl = "x"\ninterval = "soon"\n',
            ":9: sources.interval",
        ),
        (  # a line inside a multi-line string is text, not the key it looks like
            'operator = """\nauto_snapshot = "sometimes"\n"""\nauto_snapshot = "sometimes"\n',
            ":4: auto_snapshot: unknown mode",
        ),
        ("k" * 500 + " = 1\n", ":1: " + "k" * 79 + "…: unknown key"),
        (f'brand = "x"\noperator = "{"o" * 65}"\n', ":2: operator: 65 characters, at most 64"),
    ],
)
def test_config_errors_name_key_and_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "export", "--config", str(config), "--db", str(tmp_path / "m.db"))
    assert code == 2
    assert expected in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "text",
    [
        'brand = "x"\n"\\u001b[2Jbad\\nkey" = 1\n',
        '[learning.tags]\n"\\u001b]0;x\\u0007ko\\nx" = "angry"\n',
    ],
    ids=["top-level", "learning-tags"],
)
def test_a_config_key_with_control_characters_is_shown_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "learn", "--config", str(config), "--db", str(tmp_path / "m.db"))
    assert code == 2 and err.count("\n") == 1 and err.startswith("triage: ")
    assert "\x1b" not in err and "\x07" not in err
    assert err.startswith(f"triage: {config}:2: ")  # the line of the key, as TOML decoded it


def test_argument_errors_are_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["learn", "--folds", "abc"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1
    assert (
        err
        == "triage learn: argument --folds: invalid int value: 'abc'; see `triage learn --help`\n"
    )
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    version = importlib.metadata.version("mention-triage")
    assert done.value.code == 0 and capsys.readouterr().out == f"triage {version}\n"
    with pytest.raises(SystemExit) as done:
        main(["no-such-command"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1 and "invalid choice" in err
    assert main(["init", "--db", str(tmp_path / "m.db")]) == 0
    for flag in (["--lexicon"], ["--rescore", "all"], ["--folds", "3"]):
        code, _, err = run(capsys, "learn", "--list", *flag, "--db", str(tmp_path / "m.db"))
        assert code == 2 and "--list only lists" in err, flag


def test_collect_errors_are_usage_errors_and_leave_no_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "m.db"
    code, _, err = run(capsys, "collect", "--once", "--db", str(db))
    assert code == 2 and err.startswith("triage: no enabled sources;") and err.count("\n") == 1
    assert not db.exists()
    config = tmp_path / "config.toml"
    feed = tmp_path / "feed.jsonl"
    feed.write_text("", encoding="utf-8")
    config.write_text(
        f'[[sources]]\nkind = "jsonl"\nname = "bridge"\npath = "{feed}"\n', encoding="utf-8"
    )
    db.write_bytes(b"not sqlite at all" * 100)
    code, _, err = run(capsys, "collect", "--once", "--config", str(config), "--db", str(db))
    assert code == 2 and err.startswith("triage: ") and "is not a database" in err
    assert db.read_bytes() == b"not sqlite at all" * 100


@pytest.mark.parametrize("command", [[], ["collect", "--once"], ["doctor"]])
@pytest.mark.parametrize(
    ("url", "problem"),
    [('"htps://example.com/feed"', "not an http(s) URL"), ("5", "url"), (None, "url: missing")],
)
def test_a_misconfigured_source_is_refused_with_its_line_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
    url: str | None,
    problem: str,
) -> None:
    """The app would otherwise open with a collector that stopped at once, every source
    unpolled, and only a passing toast to say so."""
    config, db = tmp_path / "config.toml", tmp_path / "m.db"
    bad = f"url = {url}\n" if url else ""
    feed = tmp_path / "feed.jsonl"
    feed.write_text("", encoding="utf-8")
    config.write_text(
        f'[[sources]]\nkind = "jsonl"\nname = "good"\npath = "{feed}"\n\n'
        f'# the second one\n[[sources]]\nkind = "feed"\nname = "typo"\n{bad}',
        encoding="utf-8",
    )
    code, out, err = run(capsys, *command, "--config", str(config), "--db", str(db))
    assert code == 2
    said = err.strip() if not command or command[0] != "doctor" else out
    assert f"{config}:7: source 'typo' (feed): " in said and problem in said, said
    if command != ["doctor"]:
        assert err.count("\n") == 1 and err.startswith("triage: ")
        assert not db.exists()  # refused before the database was opened


def test_missing_config_file_named_explicitly_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "export", "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "config file not found" in err


def test_example_config_is_valid() -> None:
    from tui.config import load_config

    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    config = load_config(example)
    assert config.brand_terms and config.sources and config.templates


def test_database_on_missing_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "init", "--db", str(tmp_path / "no" / "where.db"))
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [["export"], ["report"], ["who"], ["learn"], ["learn", "--list"], ["evidence", "1", "-o", "e"]],
    ids=["export", "report", "who", "learn", "learn-list", "evidence"],
)
def test_a_command_that_reads_refuses_a_database_that_is_not_there(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "mentoins.db"
    code, _, err = run(capsys, *command, "--db", str(typo))
    assert code == 2 and err.count("\n") == 1
    assert f"no database at {typo}; give --db the team's database" in err
    assert not list(tmp_path.glob("mentoins.db*"))  # no empty database left behind
    typo.touch()  # an empty file is not a database either, and stays empty
    code, _, err = run(capsys, *command, "--db", str(typo))
    assert code == 2 and f"no database at {typo}" in err and typo.stat().st_size == 0
    code, _, err = run(capsys, *command, "--db", str(tmp_path))
    assert code == 2 and f"{tmp_path} is a directory; give --db the database file" in err


def test_read_only_database_is_a_one_line_error_and_stays_intact(tmp_path: Path) -> None:
    """The database file is read-only for the user running triage. As root, the child runs
    without the capability to override file permissions, so the mode bits apply to it too."""
    db = tmp_path / "m.db"
    source = tmp_path / "in.jsonl"
    source.write_text('{"external_id": "1", "text": "kept"}\n', encoding="utf-8")
    assert main(["import", str(source), "--db", str(db)]) == 0
    before = db.read_bytes()
    db.chmod(0o444)
    result = run_unprivileged("import", str(source), "--db", str(db))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("triage: ") and result.stderr.count("\n") == 1
    assert "writable" in result.stderr
    assert db.read_bytes() == before


def test_doctor_fails_for_a_channel_whose_secret_is_not_in_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, db, feed = tmp_path / "config.toml", tmp_path / "m.db", tmp_path / "feed.jsonl"
    feed.write_text("", encoding="utf-8")
    config.write_text(
        f'[[sources]]\nkind = "jsonl"\nname = "local"\npath = "{feed}"\n\n'
        '[[channels]]\nname = "ops-hook"\nkind = "webhook"\nurl = "http://127.0.0.1:9/h"\n'
        'secret_env = "OPS_HOOK_SECRET"\n\n'
        '[[channels]]\nname = "phone"\nkind = "ntfy"\nurl = "http://127.0.0.1:9/t"\n'
        'secret_env = "NTFY_TOKEN"\n\n'
        '[[channels]]\nname = "plain"\nkind = "slack"\nurl = "http://127.0.0.1:9/s"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("OPS_HOOK_SECRET", raising=False)
    monkeypatch.setenv("NTFY_TOKEN", "tok-value-123456")
    code, out, _ = run(capsys, "doctor", "--config", str(config), "--db", str(db))
    assert code == 1, out
    (missing,) = [line for line in out.splitlines() if line.startswith("ops-hook")]
    assert "webhook channel" in missing and "needs credentials" in missing
    assert "OPS_HOOK_SECRET" in missing and "export it where triage collect" in missing
    (present,) = [line for line in out.splitlines() if line.startswith("phone")]
    assert " ok " in present and "NTFY_TOKEN is set" in present
    assert "tok-value-123456" not in out
    assert not [line for line in out.splitlines() if line.startswith("plain")]
    monkeypatch.setenv("OPS_HOOK_SECRET", "hook-value-654321")
    code, out, _ = run(capsys, "doctor", "--config", str(config), "--db", str(db))
    assert code == 0, out
    assert "hook-value-654321" not in out
