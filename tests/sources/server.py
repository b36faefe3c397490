"""A real HTTP server on 127.0.0.1 for source tests.

Routes answer with scripted ``Reply`` objects (or functions of the ``Request``), one per
request in order with the last one repeating, and every request is recorded. Replies can
misbehave on purpose: answer after the client's read timeout (``delay``), announce a body and
hang up halfway (``truncate``), or stream chunks (server-sent events) and then drop the
connection mid-stream.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    """The last value of each query parameter."""
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering."""
    truncate: bool = False
    """Send the full Content-Length but only half the body, then close the connection."""
    chunks: Sequence[bytes] | None = None
    """Stream these (chunked encoding), then close without the final chunk: a dropped stream."""
    gap: float = 0.0
    """Seconds between streamed chunks."""

    @classmethod
    def json(
        cls,
        value: Any,
        status: int = 200,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        truncate: bool = False,
    ) -> Reply:
        body = json.dumps(value).encode()
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, body, all_headers, delay=delay, truncate=truncate)

    @classmethod
    def stream(cls, chunks: Sequence[bytes], gap: float = 0.0) -> Reply:
        return cls(200, b"", {"Content-Type": "text/event-stream"}, chunks=chunks, gap=gap)


Handler = Reply | Callable[[Request], Reply]


class Server:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Handler]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Handler, method: str = "GET") -> None:
        """Answer ``method path`` with ``replies`` in turn; the last one repeats."""
        with self._lock:
            self._routes[(method, path)] = list(replies)

    def to(self, path: str) -> list[Request]:
        """Requests received for ``path``."""
        return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get((request.method, request.path))
            if not queue:
                return Reply.json({"error": "Record not found"}, 404)
            handler = queue.pop(0) if len(queue) > 1 else queue[0]
        return handler(request) if callable(handler) else handler


def _make_handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            reply = server._answer(request)
            if reply.delay and server._closing.wait(reply.delay):
                return
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunks is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in reply.chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if reply.gap and server._closing.wait(reply.gap):
                        break
                self.close_connection = True  # no final chunk: the stream drops
                return
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.truncate:
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(reply.body)

    return _Handler
