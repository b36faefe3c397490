"""End to end in a real terminal: run the ``triage`` command in tmux, type keys as an operator
would, read the screen with ``capture-pane``, and check the database.

Also proves that nothing an operator did is lost when the app is killed with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux") or "tmux"
TRIAGE = Path(sys.executable).with_name("triage")


class Terminal:
    """One tmux session on a private socket, running one command."""

    def __init__(
        self, socket: Path, command: list[str], *, width: int, height: int, home: Path
    ) -> None:
        self.socket = socket
        # COLUMNS and LINES exported at the starting size, as some shells and tools (pytest
        # workers among them) do: the app must still follow every resize.
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "HOME": str(home),
            "COLUMNS": str(width),
            "LINES": str(height),
        }
        env.pop("NO_COLOR", None)
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            "exec " + " ".join(command),
            env=env,
        )

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [TMUX, "-S", str(self.socket), *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return result.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never matched; it shows:\n{screen}")
            time.sleep(0.1)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def pid(self) -> int:
        return int(self._tmux("list-panes", "-t", "t", "-F", "#{pane_pid}").split()[0])

    def alive(self) -> bool:
        try:
            self._tmux("has-session", "-t", "t")
        except subprocess.CalledProcessError:
            return False
        return True

    def close(self) -> None:
        subprocess.run(
            [TMUX, "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    assert shutil.which(TMUX), "tmux is required for terminal tests (.ci/run installs it)"
    opened: list[Terminal] = []

    def start(*args: str, width: int = 100, height: int = 30) -> Terminal:
        term = Terminal(
            tmp_path / f"tmux{len(opened)}.sock",
            [str(TRIAGE), *args],
            width=width,
            height=height,
            home=tmp_path,
        )
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until ``check`` holds; the timeout only costs time when something is wrong."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def test_demo_triage_session_then_kill_9_loses_nothing(terminal, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    term = terminal("demo", "--rate", "20", "--seed", "7", "--db", str(db))
    # the status line and the footer
    term.wait_for(lambda s: "total" in s and "▼ neg" in s and "Parcelly" in s and "Tag" in s)

    # Work the selected mention: quick tag, tag by name, snapshot, follow-up, reply, done.
    term.wait_for(lambda s: "new" in s)
    top_id = rows(db, "SELECT max(id) FROM mentions")[0][0]
    term.keys("g")
    term.keys("1")
    term.wait_for(lambda s: "#complaint" in s)
    term.keys("t")
    term.wait_for(lambda s: "Tag (Enter applies" in s)
    term.type("billing")
    term.keys("Enter")
    term.wait_for(lambda s: "#billing" in s)
    term.keys("s")
    term.wait_for(lambda s: "Snapshot saved" in s)
    term.keys("f")
    term.wait_for(lambda s: "Follow up when?" in s)
    term.type("2h")
    term.wait_for(lambda s: "→ due " in s)  # the prompt previews the time as it is typed
    term.keys("Tab")
    term.type("check the refund")
    term.keys("Enter")
    term.wait_for(lambda s: "Follow-up set" in s)
    term.keys("r")
    term.wait_for(lambda s: "Reply to" in s)
    term.type("Hi, we are on it.")
    term.wait_for(lambda s: "/500" in s or "/300" in s or "characters" in s)
    term.keys("C-s")
    term.wait_for(lambda s: "Draft saved" in s)
    term.keys("d")
    term.wait_for(lambda s: "Marked done" in s)

    # What the operator saw acknowledged is in the database...
    mention = rows(db, "SELECT id FROM mentions WHERE tags LIKE '%billing%'")
    assert len(mention) == 1
    (mid,) = mention[0]
    assert mid >= top_id - 5
    # ...and survives SIGKILL of the app in the middle of the session.
    os.kill(term.pid(), signal.SIGKILL)
    eventually(lambda: not term.alive())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sorted(
        t for (t,) in rows(db, f"SELECT tag FROM mention_tags WHERE mention_id = {mid}")
    ) == ["billing", "complaint"]
    assert rows(db, f"SELECT count(*) FROM snapshots WHERE mention_id = {mid}") == [(1,)]
    assert rows(db, f"SELECT note FROM follow_ups WHERE mention_id = {mid}") == [
        ("check the refund",)
    ]
    assert rows(db, f"SELECT text FROM drafts WHERE mention_id = {mid}") == [("Hi, we are on it.",)]
    assert rows(db, f"SELECT status FROM mentions WHERE id = {mid}") == [("done",)]
    actions = [
        action
        for (action,) in rows(db, f"SELECT action FROM events WHERE mention_id = {mid} ORDER BY id")
        if action != "snapshot_page"  # the page fetch finishes whenever the site answers
    ]
    assert actions == ["tag", "tag", "snapshot", "follow_up", "draft", "status"]


def test_search_help_and_quit(terminal, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    term = terminal("demo", "--rate", "1", "--seed", "3", "--db", str(db), width=80, height=24)

    def listed(screen: str) -> list[str]:
        return [line for line in screen.splitlines()[1:12] if " new " in line or " done " in line]

    # the backlog listed, not only the status line's counts (of an empty database at first)
    term.wait_for(lambda s: "total" in s and len(listed(s)) > 5)
    term.keys("/")
    term.type("refund")
    screen = term.wait_for(lambda s: "only search:refund │ ▼" in s and listed(s))
    assert all("refund" in line.lower() or "…" in line for line in listed(screen)), screen
    term.keys("Escape")
    term.wait_for(lambda s: "search:" not in s)
    term.keys("?")
    # the help rows, sorted by action, are waited for too: tmux may show a frame half drawn
    term.wait_for(lambda s: "Keys (remap" in s and "Bottom" in s and "Clear filters" in s)
    term.keys("Escape", "q")  # at once, as the terminal's bytes for alt+q: closes help, quits
    eventually(lambda: not term.alive())


def test_bad_database_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TRIAGE), "demo", "--db", str(tmp_path / "missing" / "x.db")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr


BURST_MENTIONS = [
    ("mastodon", "m1", "ann", "Parcel lost, want a refund"),
    ("bluesky", "b1", "bob", "Driver was lovely today"),
    ("reddit", "r1", "cat", "Cut-off time for pickups?"),
    ("mastodon", "m2", "dan", "Charged twice again"),
    ("hackernews", "h1", "eve", "Their API is down"),
]


@pytest.fixture
def burst_db(tmp_path: Path) -> Path:
    """A database filled by the real ``triage import``, newest mention (eve) on top."""
    import json

    db = tmp_path / "burst.db"
    data = tmp_path / "burst.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "source": source,
                    "external_id": external_id,
                    "author": author,
                    "text": text,
                    "created_at": f"2026-11-30T10:0{n}:00Z",
                }
            )
            + "\n"
            for n, (source, external_id, author, text) in enumerate(BURST_MENTIONS)
        )
    )
    done = subprocess.run(
        [str(TRIAGE), "import", str(data), "--db", str(db)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return db


def ids_by_author(db: Path) -> dict[str, int]:
    return dict(rows(db, "SELECT author, id FROM mentions"))


def test_whole_key_sequences_sent_at_once_land_where_meant(terminal, burst_db: Path) -> None:
    """Every prompt, each driven by one ``send-keys`` call holding the whole sequence, the way
    a laggy SSH link or a paste delivers it."""
    db = burst_db
    ids = ids_by_author(db)
    term = terminal("--db", str(db), width=80, height=24)
    term.wait_for(lambda s: "eve" in s and "total" in s)

    term.keys("t", "zz", "Enter", "j", "t", "q", "Enter")  # tag, move, tag again
    eventually(lambda: len(rows(db, "SELECT * FROM mention_tags")) == 2)
    assert sorted(rows(db, "SELECT tag, mention_id FROM mention_tags")) == [
        ("q", ids["dan"]),
        ("zz", ids["eve"]),
    ]
    assert term.alive()  # the "q" was a tag, not a quit

    term.keys("/", "refund", "Enter", "d")  # search, back to the list, act on the result
    eventually(lambda: rows(db, "SELECT author FROM mentions WHERE status='done'") == [("ann",)])
    term.wait_for(lambda s: "search:refund" in s)
    term.keys("x")  # clear filters
    term.wait_for(lambda s: "search:" not in s and "eve" in s)

    term.keys("g", "f", "2h", "Enter", "j", "f", "30m", "Tab", "call back", "Enter")
    eventually(lambda: len(rows(db, "SELECT * FROM follow_ups")) == 2)
    assert sorted(rows(db, "SELECT mention_id, note FROM follow_ups")) == sorted(
        [(ids["eve"], ""), (ids["dan"], "call back")]
    )

    term.keys("g", "r", "Sorry about that, checking now", "C-s", "j", "j", "o")
    eventually(
        lambda: (
            rows(db, "SELECT mention_id, text FROM drafts")
            == [(ids["eve"], "Sorry about that, checking now")]
        )
    )
    eventually(
        lambda: (
            rows(db, "SELECT author FROM mentions WHERE operator_label IS NOT NULL") == [("cat",)]
        )
    )

    term.keys("F", "Enter", "?", "j")  # the filter dialog applies on Enter; help opens
    term.wait_for(lambda s: "Keys (remap" in s)
    term.keys("Escape")
    term.wait_for(lambda s: "Keys (remap" not in s)
    term.keys("H")
    term.wait_for(lambda s: "r refresh · escape close" in s)
    term.keys("Escape")
    term.wait_for(lambda s: "r refresh · escape close" not in s)  # (ESC q at once reads as alt+q)
    term.keys("q")
    eventually(lambda: not term.alive())


def test_reply_text_survives_kill_9_while_typing(terminal, burst_db: Path) -> None:
    db = burst_db
    term = terminal("--db", str(db), width=80, height=24)
    term.wait_for(lambda s: "eve" in s and "total" in s)
    term.keys("r", "Half a reply, never saved by hand")
    term.wait_for(lambda s: "never saved by hand" in s)
    eventually(
        lambda: rows(db, "SELECT text FROM drafts") == [("Half a reply, never saved by hand",)]
    )
    os.kill(term.pid(), signal.SIGKILL)
    eventually(lambda: not term.alive())
    assert rows(db, "SELECT text FROM drafts") == [("Half a reply, never saved by hand",)]


def test_layout_follows_resizes_both_ways(terminal, burst_db: Path) -> None:
    term = terminal("--db", str(burst_db), width=80, height=24)
    term.wait_for(lambda s: "eve" in s and "total" in s)

    def beside(screen: str) -> bool:  # the detail pane's border runs down the middle
        return sum("│" in line[60:] for line in screen.splitlines()[2:12]) >= 8

    assert not beside(term.screen())
    term.resize(160, 30)
    term.wait_for(beside)
    term.resize(100, 30)
    term.wait_for(lambda s: not beside(s))
    term.resize(150, 40)
    term.wait_for(beside)
