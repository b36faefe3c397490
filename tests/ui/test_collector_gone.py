"""A real ``triage collect`` holds the collector lease and is killed with SIGKILL: its
heartbeat is fresh, but its process is gone. An app with sources takes the lease over within
seconds, and every app stops naming the dead process as the collector: an app without
sources of its own (it cannot collect: sources and their credentials are each operator's
config) says that nobody collects, and since when, until a collector is back."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.ui.conftest import seed, settle, wait_until
from tui.config import Config, SourceConfig
from tui.core.format import clock_time, stamp
from tui.core.model import utcnow
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.screens.health import HealthScreen

TAKEN_WITHIN = 5.0
"""Seconds after the kill by which the apps must have seen it: well under the 60 s a stale
heartbeat takes, with room for a loaded machine."""


def status_text(app: TriageApp) -> str:
    return str(app.query_one("#status").render())


def start_collector(tmp_path: Path, db_path: Path, operator: str) -> subprocess.Popen[bytes]:
    """``triage collect`` as ``operator`` on a JSON Lines feed, in its own process."""
    feed = tmp_path / "feed.jsonl"
    if not feed.exists():
        feed.write_text("", encoding="utf-8")
    config = tmp_path / f"{operator}.toml"
    config.write_text(
        f'operator = "{operator}"\n\n[[sources]]\nkind = "jsonl"\nname = "bridge"\n'
        f'interval = "1s"\npath = "{feed}"\n',
        encoding="utf-8",
    )
    log = (tmp_path / f"{operator}.log").open("wb")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "tui", "collect", "--config", str(config), "--db", str(db_path)],
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        log.close()


def holder(operator: str, process: subprocess.Popen[bytes]) -> str:
    return f"{operator}@{socket.gethostname()} pid {process.pid}"


async def held_by(db_path: Path, name: str, timeout: float = 20.0) -> None:
    """Wait until ``name`` holds the collector lease."""
    async with await Store.open(db_path, "watch") as store, asyncio.timeout(timeout):
        while await store.lease_active(60) != name:
            await asyncio.sleep(0.05)


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


async def test_an_app_with_sources_takes_over_from_a_killed_collector_and_all_show_it(
    db_path: Path, tmp_path: Path
) -> None:
    await seed(db_path, [])
    ghost = start_collector(tmp_path, db_path, "ghost")
    try:
        await held_by(db_path, holder("ghost", ghost))
        ghost_name = holder("ghost", ghost)
        feed = tmp_path / "feed.jsonl"
        source = SourceConfig("jsonl", "bridge", "", interval=0.2, options={"path": str(feed)})
        taker = TriageApp(Config(brand="Acme", sources=(source,)), db_path, "ana")
        watcher = TriageApp(Config(brand="Acme"), db_path, "ben")  # no sources of its own
        async with (
            taker.run_test(size=(160, 30)) as pilot,
            watcher.run_test(size=(160, 30)) as pilot2,
        ):
            await wait_until(lambda: taker.lease_text == f"collector: {ghost_name}", pilot)
            await wait_until(lambda: watcher.lease_text == f"collector: {ghost_name}", pilot2)
            assert taker.runtime.collector is not None
            assert not taker.runtime.collector.holding  # the live holder's lease stands

            kill(ghost)
            loop = asyncio.get_running_loop()
            killed = loop.time()
            await wait_until(lambda: taker.lease_text == "collecting", pilot, 15)
            took = loop.time() - killed
            new_name = taker.runtime.holder
            await wait_until(lambda: watcher.lease_text == f"collector: {new_name}", pilot2, 15)
            seen = loop.time() - killed
            assert took < TAKEN_WITHIN, took
            assert seen < TAKEN_WITHIN, seen
            assert "│ collecting │" in status_text(taker)
            line = status_text(watcher)
            assert f"collector: {new_name}" in line
            assert ghost_name not in line and "no collector" not in line

            # The new holder collects: a post written to the feed reaches both apps.
            with feed.open("a", encoding="utf-8") as out:
                out.write('{"external_id": "1", "text": "Parcel lost again"}\n')
            await wait_until(lambda: len(watcher.mentions.shown()) == 1, pilot2)

            await pilot2.press("H")
            await settle(watcher, pilot2)
            assert isinstance(watcher.screen, HealthScreen)
            lease = str(watcher.screen.query_one("#lease").render())
            assert lease.startswith(f"collector: {new_name} (heartbeat ")
            assert ghost_name not in lease
    finally:
        kill(ghost)


async def test_an_app_without_sources_says_nobody_collects_once_the_collector_is_killed(
    db_path: Path, tmp_path: Path
) -> None:
    await seed(db_path, [])
    ghost = start_collector(tmp_path, db_path, "ghost")
    second: subprocess.Popen[bytes] | None = None
    try:
        ghost_name = holder("ghost", ghost)
        await held_by(db_path, ghost_name)
        watcher = TriageApp(Config(brand="Acme"), db_path, "ben")
        async with watcher.run_test(size=(160, 30)) as pilot:
            await wait_until(lambda: watcher.lease_text == f"collector: {ghost_name}", pilot)
            assert watcher.lease_warning == ""

            kill(ghost)
            loop = asyncio.get_running_loop()
            killed = loop.time()
            await wait_until(lambda: watcher.lease_warning != "", pilot, 15)
            assert loop.time() - killed < TAKEN_WITHIN
            async with await Store.open(db_path, "watch") as store:
                lease = await store.lease(60)
            assert lease is not None and lease.state == "gone" and lease.holder == ghost_name
            since = stamp(lease.heartbeat)  # the dead holder's last heartbeat
            at = clock_time(lease.heartbeat, utcnow())  # its time of day, as the line says it
            assert watcher.lease_warning == f"no collector since {at}"
            assert watcher.lease_text == f"collector gone: {ghost_name}"
            line = status_text(watcher)
            # Said first (after any alerts), so that a narrow terminal never cuts it.
            assert line.startswith(f" no collector since {at} (H) │")
            assert f"collector: {ghost_name}" not in line

            await pilot.press("H")
            await settle(watcher, pilot)
            assert isinstance(watcher.screen, HealthScreen)
            shown = str(watcher.screen.query_one("#lease").render())
            assert shown.startswith(
                f"collector: nobody is collecting since {since}: {ghost_name} held the lease,"
                " its process has ended (last heartbeat "
            )
            await pilot.press("escape")

            # A collector started again takes over at once (the lease is free), and the
            # warning goes.
            second = start_collector(tmp_path, db_path, "cy")
            second_name = holder("cy", second)
            await held_by(db_path, second_name, timeout=20)
            await wait_until(lambda: watcher.lease_text == f"collector: {second_name}", pilot)
            assert watcher.lease_warning == ""
            assert "no collector" not in status_text(watcher)
    finally:
        kill(ghost)
        if second is not None:
            kill(second)
