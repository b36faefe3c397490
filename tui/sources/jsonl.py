"""JSON Lines, one mention per line in the import shape: the bridge for anything else.

``path`` is a file that some other program appends to (followed like ``tail -f``; the cursor
is the byte offset after the last complete line, and a file that shrank or was replaced is
read again from the start) or ``"-"`` for standard input (each poll takes the lines that have
arrived, waiting briefly for more while they keep coming). A malformed line is skipped with a
warning rather than failing the poll, so one bad line cannot stall the source. A line for a post
already stored (same ``id``) with a new text is an edit: ingest stores it as a new version.
A line may carry the post's ``reach`` (``{"followers": 1204, "likes": 80}``); it is kept only
when every key is a known figure and every value a believable count, else left out.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from tui.config import SourceConfig
from tui.core.format import reach_counts
from tui.core.model import IncomingMention, utcnow
from tui.core.records import from_record
from tui.core.text import decode
from tui.sources.base import PollResult, Source, dump_cursor, load_cursor
from tui.sources.http import Http, Unavailable

MAX_BYTES = 8 * 1024 * 1024
"""Bytes read from the file per poll; the rest comes next poll."""
MAX_LINES = 5000
"""Lines taken from standard input per poll."""
IDLE = 0.2
"""Seconds standard input may stay quiet before a poll returns what it has."""


class JsonlSource(Source):
    kind = "jsonl"

    def __init__(
        self,
        config: SourceConfig,
        env: Mapping[str, str] | None = None,
        *,
        stdin: BinaryIO | None = None,
    ) -> None:
        super().__init__(config, env)
        path = str(self._str_option("path", required=True, example="/var/spool/mentions.jsonl"))
        self.path = None if path == "-" else Path(path).expanduser()
        self._stdin = stdin
        self._lines: asyncio.Queue[bytes | None] | None = None
        self._eof = False
        self._count = 0

    def parse(self, lines: list[tuple[int, bytes]]) -> tuple[list[IncomingMention], list[str]]:
        """Mentions from ``(position, line)`` pairs, and a warning for each line skipped."""
        mentions: list[IncomingMention] = []
        warnings: list[str] = []
        now = utcnow()
        for position, line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(decode(line))
                mention = from_record(record, default_source=self.name, raw=line, now=now)
            except ValueError as error:
                warnings.append(f"{self._where(position)}: {error}; line skipped")
                continue
            reach = line_reach(record.get("reach")) if isinstance(record, dict) else None
            mentions.append(replace(mention, source=self.name, reach=reach))
        return mentions, warnings

    def _where(self, position: int) -> str:
        return f"{self.path} at byte {position}" if self.path else f"stdin line {position}"

    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        if self.path is None:
            lines = await self._read_stdin()
            next_cursor = None
        else:
            lines, next_cursor = await asyncio.to_thread(self._read_file, self.path, cursor)
        mentions, warnings = self.parse(lines)
        return PollResult(mentions, next_cursor, warnings=warnings)

    # -- a file -----------------------------------------------------------------------------

    def _read_file(self, path: Path, cursor: str | None) -> tuple[list[tuple[int, bytes]], str]:
        try:
            with path.open("rb") as file:
                info = os.fstat(file.fileno())
                state = load_cursor(cursor)
                offset = state.get("offset", 0)
                same = state.get("inode") == info.st_ino and isinstance(offset, int)
                if not same or offset > info.st_size:
                    offset = 0  # replaced or truncated: read the new file from the start
                file.seek(offset)
                data = file.read(MAX_BYTES)
        except OSError as error:
            raise Unavailable(f"cannot read {path}: {error.strerror or error}") from None
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) == MAX_BYTES:
            end = len(data)  # a line longer than MAX_BYTES: skip it rather than stall
        lines, position = [], offset
        for line in data[:end].splitlines(keepends=True):
            lines.append((position, line))
            position += len(line)
        return lines, dump_cursor({"inode": info.st_ino, "offset": offset + end})

    # -- standard input ---------------------------------------------------------------------

    async def _read_stdin(self) -> list[tuple[int, bytes]]:
        if self._lines is None:
            self._lines = asyncio.Queue()
            stream = self._stdin or sys.stdin.buffer
            loop = asyncio.get_running_loop()
            threading.Thread(
                target=_pump, args=(stream, loop, self._lines), name="stdin-reader", daemon=True
            ).start()
        lines: list[tuple[int, bytes]] = []
        while not self._eof and len(lines) < MAX_LINES:
            try:
                line = await asyncio.wait_for(self._lines.get(), IDLE)
            except TimeoutError:
                break
            if line is None:
                self._eof = True
            else:
                self._count += 1
                lines.append((self._count, line))
        return lines

    async def check(self, http: Http) -> str:
        if self.path is None:
            return "reads standard input"
        if not self.path.is_file():
            raise Unavailable(f"{self.path} does not exist (yet)")
        if not os.access(self.path, os.R_OK):
            raise Unavailable(f"{self.path} is not readable")
        return f"{self.path} readable ({self.path.stat().st_size:,} bytes)"


def line_reach(value: Any) -> dict[str, int] | None:
    """A line's ``reach`` object if all of it is believable (``tui.core.format.reach_counts``
    keeps every key and value), else None: a half-wrong object says nothing to rely on."""
    if not isinstance(value, dict):
        return None
    counts = reach_counts(value)
    return counts if counts is not None and len(counts) == len(value) else None


def _pump(
    stream: BinaryIO, loop: asyncio.AbstractEventLoop, out: asyncio.Queue[bytes | None]
) -> None:
    """Blocking reads of ``stream`` in a thread, each line handed to the event loop."""
    try:
        for line in iter(stream.readline, b""):
            loop.call_soon_threadsafe(out.put_nowait, line)
        loop.call_soon_threadsafe(out.put_nowait, None)
    except (RuntimeError, ValueError, OSError):  # the loop closed, or the stream did
        return
