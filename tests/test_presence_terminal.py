"""Two real ``triage`` apps in tmux as two operators on one database: each sees, within a
second or two, what the other has selected and when they write a reply; the mark goes when
the other quits and, at once, when it is killed with SIGKILL; ``triage who`` lists them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests import test_terminal
from tests.test_terminal import TRIAGE, eventually, ids_by_author, rows

terminal = test_terminal.terminal
"""tmux sessions running ``triage`` (the fixture of ``tests/test_terminal.py``)."""
burst_db = test_terminal.burst_db
"""Five mentions imported by the real ``triage import``, eve's the newest."""


def _config(tmp_path: Path, operator: str) -> Path:
    path = tmp_path / f"{operator}.toml"
    path.write_text(f'brand = "Acme"\noperator = "{operator}"\n', encoding="utf-8")
    return path


def _line_of(screen: str, author: str) -> str:
    return next((line for line in screen.splitlines() if f" {author} " in line), "")


def _who(db: Path) -> list[dict]:  # type: ignore[type-arg]
    done = subprocess.run(
        [str(TRIAGE), "who", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_two_operators_see_each_other_live(terminal, burst_db: Path, tmp_path: Path) -> None:
    db = burst_db
    ids = ids_by_author(db)
    start = ("--db", str(db))
    kim = terminal("--config", str(_config(tmp_path, "kim")), *start, width=80, height=24)
    sam = terminal("--config", str(_config(tmp_path, "sam")), *start, width=80, height=24)
    kim.wait_for(lambda s: "eve" in s and "total" in s)
    sam.wait_for(lambda s: "eve" in s and "total" in s)

    sam.keys("j")  # sam selects dan's mention (the second newest)
    sam.wait_for(lambda s: "◉kim" in _line_of(s, "eve"))  # kim is on eve's, the first
    began = time.monotonic()
    kim.wait_for(lambda s: "◉sam" in _line_of(s, "dan"), timeout=30)
    seen_after = time.monotonic() - began
    # Promised within about a second (a 0.3 s debounce, a read every 0.5 s); the bounds
    # here leave room for a loaded machine (and for reading the screen through tmux).
    assert seen_after < 3.0, f"shown after {seen_after:.2f}s"

    sam.keys("r")
    kim.wait_for(lambda s: "✎sam" in _line_of(s, "dan"), timeout=30)
    members = {m["operator"]: m for m in _who(db)}
    assert set(members) == {"sam", "kim"}
    assert members["sam"]["mention_id"] == ids["dan"]
    assert members["sam"]["activity"] == "replying"
    assert members["sam"]["first_line"] == "Charged twice again"
    assert members["kim"]["mention_id"] == ids["eve"]
    assert members["kim"]["pid"] == kim.pid()
    text = subprocess.run(
        [str(TRIAGE), "who", "--db", str(db)], capture_output=True, text=True, check=True
    ).stdout
    assert text.splitlines()[0].split()[:3] == ["operator", "unix", "user"]
    assert "writing a reply" in text and "Charged twice again" in text

    sam.keys("Escape")
    kim.wait_for(lambda s: "◉sam" in _line_of(s, "dan"), timeout=30)  # the reply closed
    sam.keys("q")
    began = time.monotonic()
    kim.wait_for(lambda s: "sam" not in s, timeout=30)
    # The quit deleted the row: gone well before the 10 s after which a row is ignored.
    gone_after = time.monotonic() - began
    assert gone_after < 5.0, f"gone after {gone_after:.2f}s"
    eventually(lambda: not sam.alive())
    assert [m["operator"] for m in _who(db)] == ["kim"]

    # Killed with SIGKILL: no row is deleted, but its pid is gone, which counts at once.
    again = terminal("--config", str(_config(tmp_path, "sam")), *start, width=80, height=24)
    again.wait_for(lambda s: "eve" in s and "total" in s)
    again.keys("j")
    kim.wait_for(lambda s: "◉sam" in _line_of(s, "dan"), timeout=30)
    os.kill(again.pid(), signal.SIGKILL)
    began = time.monotonic()
    kim.wait_for(lambda s: "sam" not in s, timeout=30)
    # Its pid is gone: ignored well before the 10 s after which a row is ignored anyway.
    gone_after = time.monotonic() - began
    assert gone_after < 5.0, f"gone after {gone_after:.2f}s"
    assert rows(db, "SELECT operator FROM presence ORDER BY operator") in (
        [("kim",), ("sam",)],  # the dead row stays until the next heartbeat cleans it
        [("kim",)],
    )
    eventually(lambda: rows(db, "SELECT operator FROM presence") == [("kim",)], timeout=30)
