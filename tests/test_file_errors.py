"""Files named on the command line that cannot be read or written: one line on stderr naming
the path, the problem and the fix, exit 2, and nothing left behind or stored.

The permission cases run the real command in a child; as root, the child runs without the
capabilities that override file permissions, so the mode bits apply to it as to anyone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unprivileged import run_unprivileged
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    _, err = capsys.readouterr()
    return code, err


def one_error_line(err: str) -> str:
    assert err.startswith("triage: cannot ") and err.count("\n") == 1, err
    assert "Errno" not in err
    return err.strip()


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    source = tmp_path / "seed.jsonl"
    source.write_text('{"external_id": "1", "text": "my parcel is late"}\n', encoding="utf-8")
    path = tmp_path / "m.db"
    assert run(capsys, "import", str(source), "--db", str(path))[0] == 0
    source.unlink()
    return path


def stored(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT count(*) FROM mentions").fetchone()[0],
            conn.execute("SELECT count(*) FROM events").fetchone()[0],
        )


def files(folder: Path) -> list[str]:
    """What is in ``folder`` besides the database and the tests' home directory."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if "m.db" not in p.name and p.relative_to(folder).parts[0] != "home"
    )


def test_export_into_a_missing_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    target = tmp_path / "nowhere" / "out.csv"
    code, err = run(capsys, "export", "--db", str(db), "--format", "csv", "-o", str(target))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot write {target}: directory {tmp_path / 'nowhere'} does not exist; "
        "create it or choose another path"
    )
    assert files(tmp_path) == []


def test_export_onto_a_directory_leaves_no_partial_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    code, err = run(capsys, "export", "--db", str(db), "-o", str(target))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot write {target}: it is a directory; give a file name in it"
    )
    assert files(tmp_path) == ["out"]


def test_export_under_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("mine\n", encoding="utf-8")
    code, err = run(capsys, "export", "--db", str(db), "-o", str(plain / "out.jsonl"))
    assert code == 2
    assert f"{plain} is a file, not a directory; choose another path" in one_error_line(err)
    assert files(tmp_path) == ["notes.txt"] and plain.read_text(encoding="utf-8") == "mine\n"


@pytest.fixture
def locked(tmp_path: Path, db: Path) -> Iterator[Path]:
    """A directory nobody but root may write to, beside a database anyone may use (the
    command runs without root's override, ``run_unprivileged``)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    db.parent.chmod(0o777)
    db.chmod(0o666)
    yield folder
    folder.chmod(0o755)


def test_export_into_a_directory_that_may_not_be_written(locked: Path, db: Path) -> None:
    result = run_unprivileged("export", "--db", str(db), "-o", str(locked / "out.jsonl"))
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"triage: cannot write {locked / 'out.jsonl'}: permission denied in ")
    assert "choose a directory you may write to" in line
    assert list(locked.iterdir()) == []


def test_evidence_to_a_file_or_below_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("mine\n", encoding="utf-8")
    code, err = run(capsys, "evidence", "1", "--db", str(db), "-o", str(plain))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot write {plain}: it is a file, not a directory; choose another path"
    )
    code, err = run(capsys, "evidence", "1", "--db", str(db), "-o", str(plain / "sub"))
    assert code == 2
    assert f"{plain} is a file, not a directory" in one_error_line(err)
    assert files(tmp_path) == ["notes.txt"]


def test_evidence_into_a_folder_whose_parent_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    """The folder itself is made (as ``export -o`` makes its file), never the folders above
    it: a typo there made a tree of new folders."""
    code, err = run(capsys, "evidence", "1", "--db", str(db), "-o", str(tmp_path / "typo" / "ev"))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot write {tmp_path / 'typo' / 'ev'}: directory {tmp_path / 'typo'} does not "
        "exist; create it or choose another path"
    )
    assert not (tmp_path / "typo").exists()
    code, err = run(capsys, "evidence", "1", "--db", str(db), "-o", str(tmp_path / "case"))
    assert code == 0, err
    assert (tmp_path / "case" / "mention-1" / "manifest.json").is_file()


def test_evidence_into_a_directory_that_may_not_be_written(locked: Path, db: Path) -> None:
    result = run_unprivileged("evidence", "1", "--db", str(db), "-o", str(locked / "case"))
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"triage: cannot write {locked}: permission denied in {locked};")
    assert list(locked.iterdir()) == []


def test_import_of_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    before = stored(db)
    folder = tmp_path / "exports"
    folder.mkdir()
    code, err = run(capsys, "import", str(folder), "--db", str(db))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot read {folder}: it is a directory; give the path of a file"
    )
    assert stored(db) == before


def test_import_of_a_missing_file_creates_no_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = run(capsys, "import", str(tmp_path / "gone.csv"), "--db", str(tmp_path / "n.db"))
    assert code == 2
    assert "no such file" in one_error_line(err)
    assert files(tmp_path) == []


def test_import_of_an_unreadable_file(tmp_path: Path, db: Path) -> None:
    before = stored(db)
    source = tmp_path / "secret.jsonl"
    source.write_text('{"external_id": "2", "text": "hidden"}\n', encoding="utf-8")
    source.chmod(0o200)
    db.parent.chmod(0o777)
    db.chmod(0o666)
    result = run_unprivileged("import", str(source), "--db", str(db))
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr) == (
        f"triage: cannot read {source}: permission denied; ask its owner for read permission "
        "or copy it somewhere you may read"
    )
    assert stored(db) == before


def test_an_unreadable_or_directory_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    code, err = run(capsys, "--config", str(folder), "export", "--db", str(db))
    assert code == 2
    assert one_error_line(err) == (
        f"triage: cannot read config file {folder}: it is a directory; give the path of a file"
    )
    config = tmp_path / "config.toml"
    config.write_text('brand = "Acme"\n', encoding="utf-8")
    config.chmod(0o200)
    db.parent.chmod(0o777)
    db.chmod(0o666)
    result = run_unprivileged("--config", str(config), "export", "--db", str(db))
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr).startswith(
        f"triage: cannot read config file {config}: permission denied;"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["init"], ["import", "IN"], ["export"], ["collect"], ["who"], ["doctor"]],
    ids=lambda c: " ".join(c) or "the app",
)
def test_a_directory_as_the_database_is_one_line_for_every_command(
    tmp_path: Path, command: list[str]
) -> None:
    """Opening a directory as SQLite failed in aiosqlite's thread after the loop had closed:
    the one line was followed by two tracebacks."""
    folder = tmp_path / "adir"
    folder.mkdir()
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "one"}\n', encoding="utf-8")
    args = [str(source) if arg == "IN" else arg for arg in command]
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tui", *args, "--db", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TRIAGE_CONFIG": str(config)},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"triage: {folder} is a directory; give --db the database file\n"
    assert list(folder.iterdir()) == []


def test_export_writes_through_a_new_file_and_never_touches_one_of_the_user(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    """The file written first was ``NAME.partial``: a file of that name was overwritten and
    then deleted, and two exports to one path wrote into the same one."""
    mine = tmp_path / "out.csv.partial"
    mine.write_text("my notes\n", encoding="utf-8")
    old = os.umask(0o027)
    try:
        code, err = run(
            capsys, "export", "--db", str(db), "--format", "csv", "-o", str(tmp_path / "out.csv")
        )
    finally:
        os.umask(old)
    assert code == 0, err
    assert mine.read_text(encoding="utf-8") == "my notes\n"
    assert files(tmp_path) == ["out.csv", "out.csv.partial"]
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o640  # as the umask gives
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith('"id"')
