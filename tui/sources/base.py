"""What every source adapter is: ``Source.poll(http, cursor) -> PollResult``.

A cursor is an opaque string the adapter writes and reads back (most keep a small JSON
object). The collector stores it in the same transaction as the mentions it led to, so an
adapter only has to make ``poll`` repeatable: polling again from the same cursor must return
the same mentions (or newer ones), never skip any. Duplicates are harmless (the store drops
them), so when in doubt an adapter overlaps.

A first poll (no cursor) fetches the newest page only; no adapter walks back through history.
"""

from __future__ import annotations

import asyncio
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from tui.config import ConfigError, SourceConfig
from tui.core.model import IncomingMention
from tui.sources.http import Http, NeedsCredentials, RateInfo

__all__ = ["PollResult", "Source", "as_raw", "dump_cursor", "load_cursor", "parse_iso"]


@dataclass(frozen=True, slots=True)
class PollResult:
    mentions: Sequence[IncomingMention]
    """New (or possibly already stored) mentions, oldest first."""
    cursor: str | None
    """Where the next poll starts; stored together with ``mentions``."""
    rate: RateInfo | None = None
    """The server's rate-limit figures after this poll."""
    deletions: Sequence[str] = ()
    """External ids the source reported deleted."""
    edits: Sequence[IncomingMention] = ()
    """Posts the source reported edited, with their new text."""
    warnings: Sequence[str] = ()
    """Problems that did not fail the poll (a malformed line skipped), for the log."""


class Source(ABC):
    """One configured source. Subclasses set ``kind`` and implement ``poll`` and ``check``."""

    kind: ClassVar[str]
    streaming: bool = False
    """Whether ``stream`` pushes events between polls (Mastodon's ``stream = true``)."""

    def __init__(self, config: SourceConfig, env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.interval = config.interval
        self._env = os.environ if env is None else env

    # -- what adapters implement ------------------------------------------------------------

    @abstractmethod
    async def poll(self, http: Http, cursor: str | None) -> PollResult:
        """Fetch what is new since ``cursor``. Raise ``SourceError`` (from ``http``) on failure;
        the collector then keeps the cursor and records the error."""

    @abstractmethod
    async def check(self, http: Http) -> str:
        """A cheap request proving the source is reachable and the credentials work; returns a
        short detail for ``triage doctor``."""

    async def stream(self, http: Http, out: asyncio.Queue[PollResult]) -> None:
        """Push results to ``out`` as the server sends them, reconnecting, until cancelled."""
        raise NotImplementedError(f"{self.kind} sources do not stream")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credential values read from the environment, scrubbed from every message."""
        return tuple(
            value
            for key, name in self.config.options.items()
            if key.endswith("_env") and (value := self._env.get(name))
        )

    # -- option helpers for subclasses -----------------------------------------------------

    def _config_error(self, key: str, problem: str, fix: str) -> ConfigError:
        where = f"{self.config.where}: " if self.config.where else ""
        return ConfigError(f"{where}source {self.name!r} ({self.kind}): {key}: {problem}; {fix}")

    def _str_option(self, key: str, *, required: bool = False, example: str = "...") -> str | None:
        value = self.config.options.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self._config_error(key, "missing", f'add {key} = "{example}"')
            return None
        if not isinstance(value, str):
            raise self._config_error(
                key, f"expected a string, got {value!r}", f'write {key} = "{example}"'
            )
        return value.strip()

    def _list_option(self, key: str, *, example: str) -> tuple[str, ...]:
        value = self.config.options.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self._config_error(
                key, f"expected a list of names, got {value!r}", f"write {key} = {example}"
            )
        return tuple(v.strip() for v in value)

    def _bool_option(self, key: str) -> bool:
        value = self.config.options.get(key, False)
        if not isinstance(value, bool):
            raise self._config_error(
                key, f"expected true or false, got {value!r}", f"write {key} = true"
            )
        return value

    def _credential(self, key: str) -> str | None:
        """The secret in the environment variable that option ``key`` names; None when the
        option is not set; ``NeedsCredentials`` when it names a variable that is unset."""
        variable = self.config.options.get(key)
        if not variable:
            return None
        value = self._env.get(variable, "")
        if not value:
            raise NeedsCredentials(f"environment variable {variable} (from {key}) is not set")
        return value


def load_cursor(cursor: str | None) -> dict[str, Any]:
    """A JSON-object cursor, or ``{}`` for none (or one written by an older version)."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


Moment = TypeVar("Moment", datetime, int)


def advance_window(
    newest: Moment | None, seen: set[str], window: Mapping[str, Moment], overlap: Any
) -> tuple[Moment | None, list[str]]:
    """The next position of an overlap-window cursor, for APIs with no ``since_id``.

    Each poll asks again from ``newest - overlap`` (results are indexed late and timestamps
    are coarse) and skips the ids already ``seen``; ``window`` maps the ids this poll saw to
    their times. Returns the newest time now known and the ids inside the next overlap (all
    of ``seen`` if this poll saw nothing).
    """
    if window:
        newest = max(window.values()) if newest is None else max(newest, *window.values())
    if newest is None:
        return None, []
    if not window:
        return newest, sorted(seen)
    horizon = newest - overlap
    return newest, sorted(item for item, at in window.items() if at >= horizon)


def dump_cursor(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def as_raw(item: Any) -> bytes:
    """One item of a JSON response as the bytes kept with the mention."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 time from an API (``Z`` or offset) as aware UTC, or None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
