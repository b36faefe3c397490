"""HTTP for every source: the shared client, retries with backoff, and errors that say why.

``make_client`` builds the one ``httpx.AsyncClient`` all sources share. Each source talks
through an ``Http``, a thin view of that client which

* retries 429, 5xx, timeouts and dropped connections with jittered exponential backoff,
  waiting as long as ``Retry-After`` or a rate-limit reset header asks (up to a limit);
* turns everything else into a ``SourceError`` whose class is the source's health state
  (401 -> ``NeedsCredentials``, 403 -> ``Unavailable``, bad payload -> ``BadResponse``) and
  whose message carries the server's own words;
* scrubs the source's secrets (tokens, passwords, client secrets) out of every message;
* remembers the rate-limit figures of the last response.

``iter_sse`` reads a server-sent event stream from a streamed response.
"""

from __future__ import annotations

import asyncio
import html
import json
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

import httpx

from tui.core.model import utcnow
from tui.core.text import decode

__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Backoff",
    "BadResponse",
    "Http",
    "NeedsCredentials",
    "RateInfo",
    "RateLimited",
    "ServerSentEvent",
    "SourceError",
    "Unavailable",
    "iter_sse",
    "make_client",
]


def _version() -> str:
    try:
        return version("mention-triage")
    except PackageNotFoundError:
        return "0"


USER_AGENT = f"mention-triage/{_version()} (brand mention monitor)"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=30.0)
"""Ten seconds to connect (and write, and wait for a pooled connection), thirty to read."""


def make_client(
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client every source shares: timeouts on every request, a descriptive User-Agent."""
    return httpx.AsyncClient(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        transport=transport,
    )


# -- errors ---------------------------------------------------------------------------------


class SourceError(Exception):
    """A poll failed; ``state`` is what the source's health shows, the message says why."""

    state: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status, when the server answered."""
        self.code = code
        """The server's error name (``"ExpiredToken"``, ``"invalid_grant"``), when it gave one."""
        self.retry_at = retry_at
        """When the server said to come back, if it did."""


class NeedsCredentials(SourceError):
    state = "needs credentials"


class Unavailable(SourceError):
    state = "unavailable"


class RateLimited(SourceError):
    state = "rate limited"


class BadResponse(SourceError):
    """The server answered, but with something that is not the JSON or XML expected."""


# -- rate limits and backoff ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateInfo:
    remaining: str | None
    """Requests left in the window, as the server said it (``"299"``; Reddit's ``"151.0"``)."""
    reset_at: datetime | None
    """When the window resets, if the server said."""


def _header(response: httpx.Response, *names: str) -> str | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _moment(value: str, now: datetime) -> datetime | None:
    """A reset header: an ISO time (Mastodon), unix seconds, or seconds from now (Reddit)."""
    try:
        number = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if number > 1e9:
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=max(number, 0.0))


def rate_info(response: httpx.Response, now: datetime | None = None) -> RateInfo | None:
    now = now or utcnow()
    remaining = _header(response, "x-ratelimit-remaining", "ratelimit-remaining")
    reset = _header(response, "x-ratelimit-reset", "ratelimit-reset")
    if remaining is None and reset is None:
        return None
    if remaining is not None:
        with suppress(ValueError):
            remaining = f"{float(remaining):g}"
    return RateInfo(remaining, _moment(reset, now) if reset else None)


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After``, else an exhausted window's reset."""
    now = now or utcnow()
    value = _header(response, "retry-after")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                return max((parsedate_to_datetime(value) - now).total_seconds(), 0.0)
            except (TypeError, ValueError):
                pass
    info = rate_info(response, now)
    exhausted = response.status_code == 429 or (info is not None and info.remaining in ("0", "-0"))
    if info is not None and info.reset_at is not None and exhausted:
        return max((info.reset_at - now).total_seconds(), 0.0)
    return None


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often and how long to retry. Tests pass tiny delays or a recording ``sleep``."""

    attempts: int = 4
    """Tries per request, the first included."""
    base: float = 1.0
    """First backoff step in seconds; doubles each retry."""
    cap: float = 30.0
    """Longest backoff step."""
    max_wait: float = 120.0
    """Longest wait the server may ask for within one poll; beyond it the poll gives up and
    the next one is scheduled for when the server said."""
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep)
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, asked: float | None = None) -> float:
        """Seconds before retry number ``attempt`` (0-based): what the server asked plus a
        little jitter, else "full jitter" over an exponentially growing step."""
        step = min(self.cap, self.base * 2**attempt)
        if asked is not None:
            return asked + self.jitter() * min(step, 1.0)
        return self.jitter() * step


# -- the per-source view of the client -------------------------------------------------------

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_HIDDEN = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
"""A tag: a word boundary, whatever the tag (nginx's "502 Bad Gateway</h1></center><hr>")."""


def server_message(response: httpx.Response, limit: int = 300) -> str:
    """The server's explanation: a JSON ``error``/``message`` field, else the start of the body
    (for an HTML or XML error page its words: no tags, head, scripts or styles)."""
    kind = response.headers.get("content-type", "")
    markup = response.content.lstrip()[:1] == b"<" or "html" in kind or "xml" in kind
    text = decode(response.content[: 65_536 if markup else 4096]).strip()
    if markup:
        text = html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        parts = [
            str(payload[key])
            for key in ("error", "message", "error_description", "reason")
            if isinstance(payload.get(key), str | int) and str(payload[key]).strip()
        ]
        if parts:
            text = ": ".join(dict.fromkeys(parts))
    text = " ".join(text.split())
    return text[:limit] or response.reason_phrase


def _error_code(response: httpx.Response) -> str | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return str(payload["error"])
    return None


class Http:
    """One source's access to the shared client: retries, error mapping, secret scrubbing."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        source: str,
        backoff: Backoff | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.source = source
        self.backoff = backoff or Backoff()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)
        self.rate: RateInfo | None = None
        """Rate-limit figures of the last response that carried them."""

    def add_secret(self, secret: str | None) -> None:
        """Never show ``secret`` in a message (tokens learnt at run time are added too)."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _error(self, cls: type[SourceError], message: str, **details: Any) -> SourceError:
        return cls(self.scrub(message), **details)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; a 2xx or 304 response, else a ``SourceError``."""
        backoff = self.backoff
        status: int | None = None
        asked: float | None = None
        for attempt in range(backoff.attempts):
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as error:
                status, asked = None, None
                failure = f"timed out ({type(error).__name__}) on {_where(url)}"
            except httpx.TransportError as error:
                status, asked = None, None
                failure = f"connection failed on {_where(url)}: {error or type(error).__name__}"
            else:
                self._note_rate(response)
                if response.status_code not in _RETRY_STATUSES:
                    return self._checked(response)
                status, asked = response.status_code, retry_after(response)
                failure = f"HTTP {status} on {_where(url)}: {server_message(response)}"
            if attempt + 1 == backoff.attempts:
                break
            wait = backoff.delay(attempt, asked)
            if wait > backoff.max_wait:
                break
            await backoff.sleep(wait)
        cls = RateLimited if status == 429 else SourceError
        tries = f"{attempt + 1} {'try' if attempt == 0 else 'tries'}"
        raise self._error(
            cls, f"{failure} (gave up after {tries})", status=status, retry_at=_after(asked)
        )

    def _note_rate(self, response: httpx.Response) -> None:
        info = rate_info(response)
        if info is not None:
            self.rate = info

    def _checked(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        message = f"HTTP {status} on {_where(str(response.url))}: {server_message(response)}"
        cls = {401: NeedsCredentials, 403: Unavailable}.get(status, SourceError)
        raise self._error(cls, message, status=status, code=_error_code(response))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.json(await self.request("GET", url, **kwargs))

    async def post_json(self, url: str, payload: Any = None, **kwargs: Any) -> Any:
        return self.json(await self.request("POST", url, json=payload, **kwargs))

    def json(self, response: httpx.Response) -> Any:
        """The body as JSON, or ``BadResponse`` naming the URL and the fault."""
        try:
            return json.loads(response.content)
        except ValueError as error:
            raise self._error(
                BadResponse, f"malformed JSON from {_where(str(response.url))}: {error}"
            ) from None

    @asynccontextmanager
    async def stream(self, method: str, url: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed response (no retries: the caller reconnects); errors as ``request``."""
        try:
            async with self.client.stream(method, url, **kwargs) as response:
                self._note_rate(response)
                if response.status_code >= 400:
                    await response.aread()
                    status = response.status_code
                    if status in _RETRY_STATUSES:
                        raise self._error(
                            RateLimited if status == 429 else SourceError,
                            f"HTTP {status} on {_where(url)}: {server_message(response)}",
                            status=status,
                            retry_at=_after(retry_after(response)),
                        )
                    self._checked(response)
                yield response
        except httpx.TimeoutException as error:
            message = f"timed out ({type(error).__name__}) on {_where(url)}"
            raise self._error(SourceError, message) from None
        except httpx.TransportError as error:
            raise self._error(
                SourceError, f"connection lost on {_where(url)}: {error or type(error).__name__}"
            ) from None


def _where(url: str) -> str:
    """Scheme, host and path of a URL: query strings may carry secrets and are long."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}{parsed.path}"


def _after(seconds: float | None) -> datetime | None:
    return utcnow() + timedelta(seconds=seconds) if seconds is not None else None


# -- server-sent events -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str
    data: str


async def iter_sse(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """Events of a ``text/event-stream`` body, as the HTML standard's parsing rules say:
    ``:`` lines are comments (heartbeats), a blank line dispatches, and an event cut off by
    the end of the stream is discarded."""
    event, data = "", []
    async for line in response.aiter_lines():
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
