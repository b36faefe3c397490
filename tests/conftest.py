"""Shared fixtures: every test gets its own config and data directories and a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.sources.server import Server
from tui.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point config and data lookups at a temporary home so no test sees the user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("TRIAGE_CONFIG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mentions.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(db_path, "tester")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def shared_dir() -> Path:
    import os

    path = Path(os.environ.get("TRIAGE_SHARED_DIR", SHARED))
    assert path.is_dir(), f"shared data not found at {path}; set TRIAGE_SHARED_DIR"
    return path


@pytest.fixture
def http_page():  # type: ignore[no-untyped-def]
    """Serve fixed bytes on 127.0.0.1; returns a function giving the URL of a page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page(body: bytes) -> str:
        path = f"/page{len(pages)}"
        pages[path] = body
        return f"http://127.0.0.1:{server.server_port}{path}"

    yield page
    server.shutdown()
    server.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    """A real HTTP server on 127.0.0.1 that each test tells how to answer (and misbehave)."""
    running = Server()
    running.start()
    try:
        yield running
    finally:
        running.stop()
