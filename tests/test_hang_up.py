"""The terminal going away ends the app, with what the operator was typing kept as a draft:
SIGHUP (a dropped SSH session), and a hang-up that no signal reports (the app run under a
program that does not pass SIGHUP on), which used to leave the process spinning for ever.

The app runs on a pseudo-terminal in a session of its own: the terminal is not its
controlling one, so closing it sends no signal, as when ``su`` or a wrapper swallows it."""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.test_exchange_safety import _feed


class App:
    """``triage`` on a pseudo-terminal whose output is read all the time (as a terminal does)."""

    def __init__(self, tmp_path: Path, db: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text('operator = "ann"\n', encoding="utf-8")
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", "--db", str(db)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={
                **os.environ,
                "TERM": "xterm-256color",
                "TRIAGE_CONFIG": str(config),
                "COLUMNS": "100",
                "LINES": "30",
            },
            start_new_session=True,
        )
        os.close(slave)
        self.screen = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen.extend(chunk)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            assert self.process.poll() is None, self.screen.decode("utf-8", "replace")[-2000:]
            assert time.monotonic() < deadline, f"{text!r} never showed"
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def write_reply(self, text: str) -> None:
        """Open the reply editor on the selected mention and type ``text`` into it."""
        self.wait_for("total")
        self.type("r")
        self.wait_for("Reply to")
        self.type(text)
        self.wait_for(text)

    def ended_within(self, seconds: float) -> bool:
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        with contextlib.suppress(OSError):  # closed already by the hang-up test
            os.close(self.master)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "m.db"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "import",
            str(_feed(tmp_path / "in.jsonl", 3)),
            "--db",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return path


def drafts(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT text FROM drafts")]


def test_sighup_keeps_the_reply_being_typed_and_ends_the_app(tmp_path: Path, db: Path) -> None:
    app = App(tmp_path, db)
    try:
        app.write_reply("we are on it")
        app.process.send_signal(signal.SIGHUP)
        assert app.ended_within(30), "the app did not end after SIGHUP"
    finally:
        app.close()
    assert drafts(db) == ["we are on it"]


def test_a_terminal_that_hangs_up_without_a_signal_ends_the_app(tmp_path: Path, db: Path) -> None:
    app = App(tmp_path, db)
    try:
        app.write_reply("sorry")
        os.close(app.master)  # the terminal is gone; no SIGHUP reaches the app
        assert app.ended_within(30), "the app went on after its terminal hung up"
    finally:
        app.close()
    assert drafts(db) == ["sorry"]
