"""The headless collector delivers each alert once to a loopback webhook, across a restart and a
``kill -9`` in the middle of a send: the real ``triage collect`` in its own process."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.sources.server import Reply, Server
from tui.core.model import iso, utcnow

TRIAGE = Path(sys.executable).with_name("triage")


def write_config(tmp_path: Path, server: Server, feed: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
brand = "Acme"

[[sources]]
kind = "jsonl"
name = "bridge"
path = "{feed}"
interval = "1s"

[[channels]]
name = "team"
kind = "webhook"
url = "{server.url}/hook"
timeout = "30s"

[[alerts]]
name = "negatives"
when = "negative"
notify = ["team"]
cooldown = "0s"
""",
        encoding="utf-8",
    )
    return path


def append(feed: Path, *ids: str) -> None:
    with feed.open("a", encoding="utf-8") as out:
        for external_id in ids:
            line = {
                "source": "bridge",
                "id": external_id,
                "text": f"terrible service, still no refund {external_id}",
                "author": "kim",
                "created_at": iso(utcnow() - timedelta(minutes=1)),
            }
            out.write(json.dumps(line) + "\n")


def collect(config: Path, db: Path) -> subprocess.Popen[str]:
    """``triage collect``, its log appended to ``collect.log`` beside the config."""
    with (config.parent / "collect.log").open("a") as log:
        return subprocess.Popen(
            [str(TRIAGE), "collect", "--config", str(config), "--db", str(db)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def deliveries(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(
                "SELECT a.key, d.state FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                " ORDER BY a.key"
            ).fetchall()
        except sqlite3.OperationalError:
            return []


def received(server: Server) -> dict[str, list[str]]:
    """Delivery id -> the alert keys of each request that carried it."""
    out: dict[str, list[str]] = {}
    for request in server.to("/hook"):
        body = json.loads(request.body)
        keys = [f"{a['rule']}:m{a['mention']['id']}" for a in body["alerts"]]
        out.setdefault(request.headers["x-triage-delivery"], []).extend(keys)
    return out


def test_each_alert_reaches_the_webhook_once_across_a_restart_and_a_kill(
    tmp_path: Path, server: Server
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("", encoding="utf-8")
    db = tmp_path / "mentions.db"
    config = write_config(tmp_path, server, feed)
    # The first request hangs (the collector is killed while it waits); the rest are answered.
    server.route("/hook", Reply(204, delay=20), Reply(204), method="POST")

    first = collect(config, db)
    try:
        append(feed, "p1")
        wait_for(lambda: len(server.to("/hook")) == 1)
        assert deliveries(db) == [("negatives:m1", "sending")]
        first.send_signal(signal.SIGKILL)  # kill -9 in the middle of the send
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()

    second = collect(config, db)
    try:
        # The dead process's claim is taken again at once (its pid is gone on this host).
        wait_for(lambda: deliveries(db) == [("negatives:m1", "sent")])
        append(feed, "p2", "p3")
        wait_for(lambda: [s for _, s in deliveries(db)] == ["sent"] * 3)
        second.send_signal(signal.SIGTERM)  # a clean restart
        assert second.wait(timeout=15) == 0, (tmp_path / "collect.log").read_text()
    finally:
        if second.poll() is None:
            second.kill()

    third = collect(config, db)
    try:
        append(feed, "p4")
        wait_for(lambda: [s for _, s in deliveries(db)] == ["sent"] * 4)
        time.sleep(2.5)  # a few more polls and passes: nothing is sent again
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=15)

    by_id = received(server)
    # The kill left one request unanswered, repeated under the same delivery id (a receiver
    # drops it); every alert arrived, and nothing else was ever sent twice.
    keys = sorted(key for keys in by_id.values() for key in dict.fromkeys(keys))
    assert keys == ["negatives:m1", "negatives:m2", "negatives:m3", "negatives:m4"]
    repeats = {d: k for d, k in by_id.items() if len(k) > len(set(k))}
    assert list(repeats.values()) == [["negatives:m1", "negatives:m1"]]
    assert len(server.to("/hook")) == len(by_id) + 1
