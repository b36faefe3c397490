"""Deliver one alert message to one configured channel, once; the caller decides on retries.

``send`` makes a single attempt and either returns (delivered) or raises ``DeliveryFailed``,
whose ``permanent`` and ``retry_after`` tell the caller whether and when to try again
(``backoff`` gives the wait). Every attempt of one delivery carries the same delivery id, so a
receiver can drop repeats.

Kinds:

* ``webhook``: POSTs the payload as compact JSON (sorted keys, UTF-8, not ASCII-escaped) with
  ``X-Triage-Delivery: <delivery id>`` and ``X-Triage-Timestamp: <unix seconds>``. With
  ``secret_env``, also ``X-Triage-Signature: sha256=<hex>``, the HMAC-SHA256, keyed with the
  secret's UTF-8 bytes, of exactly::

      <X-Triage-Timestamp value> "." <request body bytes>

  e.g. ``b"1718000000." + body``. A receiver recomputes it over the raw body it received,
  compares with ``hmac.compare_digest`` and rejects old timestamps to stop replays.
* ``slack``: POSTs ``{"text": "<title>\\n<text>"}`` to an incoming webhook. ``&``, ``<`` and
  ``>`` are escaped as Slack asks, so text quoted from a mention cannot ping ``<!channel>``.
* ``ntfy``: POSTs the text (UTF-8, cut to ntfy's 4096-byte message limit so it is never turned
  into an attachment) to the topic URL with ``Title`` (latin-1, one line), ``Priority``
  (``high`` when urgent, else ``default``), ``Tags: warning`` and ``X-Triage-Delivery``; with
  ``secret_env``, ``Authorization: Bearer <token>``.
* ``command``: runs the program (no shell) with the payload JSON on stdin; exit status 0 is
  delivered. A program still running after the channel's timeout is killed with its whole
  process group. It gets a minimal environment, not ours: ``PATH``, ``HOME``, ``LANG``,
  ``LC_*`` and ``TZ`` when set, the channel's ``secret_env`` and ``env`` variables, and
  ``TRIAGE_DELIVERY_ID`` (``command_env``).

HTTP answers: any 2xx is delivered, even when the body is cut short, since the receiver has
already accepted the request; redirects are not followed (a redirected POST may be replayed as a
GET or lose its body) and fail, permanently for 301/308; 408, 429 and 5xx are worth retrying and
429/503 carry the server's ``Retry-After``; other 4xx are permanent. The whole attempt, connect
to answer, must finish within the channel's timeout.

Error messages are one line, ``"<channel name>: <problem>"``, with control characters
neutralized (``tui.core.text.one_line``). The channel URL (Slack and ntfy URLs are secrets in
themselves), its long path segments, the channel's secret and the value of every other
variable the config names as a secret (``secret_names``) are replaced by ``***`` in every part
a server or program could echo them in, and quoted server bodies and program output (the first
line of its stderr) are cut to 200 characters.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import signal
import tempfile
import time
from collections.abc import Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tui.alert_config import ChannelConfig
from tui.core.text import decode, first_line, one_line

__all__ = [
    "BACKOFF_MAX",
    "DeliveryFailed",
    "Message",
    "backoff",
    "command_env",
    "missing_secret",
    "send",
]

BACKOFF_MAX = 3600.0
"""Longest wait before the next try, in seconds, whatever a server's ``Retry-After`` asks."""

QUOTE_LIMIT = 200
"""Longest server body or program output quoted in an error message, in characters."""

NTFY_LIMIT = 4096
"""ntfy stores a longer message body as an attachment instead of showing it."""

_READ_LIMIT = 4096
"""Bytes of an error response or of a program's stderr read to find the words to quote."""

_URL_PART_MIN = 8
"""URL path segments and query values this long or longer are scrubbed as possible tokens."""

_KILL_WAIT = 5.0
"""Seconds to wait for a killed program to be reaped."""


class DeliveryFailed(Exception):
    """One attempt failed; the message is one line naming the channel and the problem."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        """Retrying cannot help: a 4xx other than 408/429, a permanent redirect, a missing
        secret, a program that cannot be found or run, a channel with no URL or command."""
        self.retry_after = retry_after
        """Seconds the server asked us to wait (``Retry-After`` on 429/503), else ``None``."""


@dataclass(frozen=True)
class Message:
    """What one delivery says; the same object is sent on every retry."""

    delivery_id: str
    """Stable id of this delivery: ``X-Triage-Delivery`` / ``TRIAGE_DELIVERY_ID``."""
    payload: dict[str, Any]
    """The JSON document: ``{"alerts": [...], "digest": bool, "text": "...", ...}``."""
    title: str
    """Short title: ntfy's ``Title``, Slack's first line."""
    text: str
    """Human text: the summary, then each alert's explanation, one per line."""
    urgent: bool = False
    """ntfy ``Priority: high`` instead of ``default``."""


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait after ``attempts`` failed attempts (1 after the first failure).

    15 s doubling per attempt up to ``BACKOFF_MAX`` (an hour), or longer when the server asked
    for longer, but never more than ``BACKOFF_MAX``: a receiver asking for days would otherwise
    park the alert past any use. Deterministic, without jitter: deliveries are few and go to
    different receivers, so there is no herd to spread out, and a fixed schedule is one the
    operator can predict.
    """
    step = min(BACKOFF_MAX, 15.0 * 2.0 ** min(max(attempts, 1) - 1, 20))
    asked = retry_after if retry_after is not None and math.isfinite(retry_after) else 0.0
    return min(BACKOFF_MAX, max(asked, step))


def missing_secret(channel: ChannelConfig, env: Mapping[str, str] = os.environ) -> str | None:
    """The name of the variable ``channel`` takes its secret from when ``env`` lacks it (unset
    or blank), else ``None``."""
    name = channel.secret_env
    if name and not (env.get(name) or "").strip():
        return name
    return None


_PASSED_ENV = ("PATH", "HOME", "LANG", "TZ")


def command_env(
    channel: ChannelConfig, delivery_id: str, env: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The environment a ``command`` channel's program runs with: ``PATH``, ``HOME``,
    ``LANG``, ``LC_*`` and ``TZ`` from ``env`` when set, the channel's ``secret_env`` and
    ``env`` variables, and ``TRIAGE_DELIVERY_ID``; nothing else of ``env`` (the secrets of
    other channels and sources stay out of a program that has no use for them)."""
    wanted = {*_PASSED_ENV, *channel.env}
    if channel.secret_env:
        wanted.add(channel.secret_env)
    out = {k: v for k, v in env.items() if k in wanted or k.startswith("LC_")}
    out["TRIAGE_DELIVERY_ID"] = delivery_id
    return out


async def send(
    channel: ChannelConfig,
    message: Message,
    client: httpx.AsyncClient,
    env: Mapping[str, str] = os.environ,
    secret_names: Collection[str] = (),
) -> None:
    """Deliver ``message`` to ``channel`` once; ``DeliveryFailed`` on any failure.

    ``env`` is where ``secret_env`` is looked up and what a ``command``'s environment is taken
    from (``command_env``). ``secret_names``: every variable the config names as a secret
    (``tui.config.secret_names``); their values in ``env`` never appear in an error.
    """
    scrub = _Scrubber(channel, env, secret_names)
    try:
        if channel.kind == "webhook":
            await _webhook(channel, message, client, env, scrub)
        elif channel.kind == "slack":
            await _slack(channel, message, client, scrub)
        elif channel.kind == "ntfy":
            await _ntfy(channel, message, client, env, scrub)
        elif channel.kind == "command":
            await _command(channel, message, env, scrub)
        else:
            raise _Problem(f"unknown channel kind {channel.kind!r}", permanent=True)
    except _Problem as problem:
        text = one_line(f"{channel.name}: {scrub(problem.message)}")
        raise DeliveryFailed(
            text, permanent=problem.permanent, retry_after=problem.retry_after
        ) from None


class _Problem(DeliveryFailed):
    """What went wrong, before the channel's name is put in front and secrets scrubbed out
    (``send`` raises the named, scrubbed ``DeliveryFailed``; this never leaves it)."""


# -- kinds ------------------------------------------------------------------------------------


async def _webhook(
    channel: ChannelConfig,
    message: Message,
    client: httpx.AsyncClient,
    env: Mapping[str, str],
    scrub: _Scrubber,
) -> None:
    body = _json(message.payload)
    timestamp = str(int(time.time()))
    headers: dict[str, bytes] = {
        "Content-Type": b"application/json",
        "X-Triage-Delivery": _header_value(message.delivery_id),
        "X-Triage-Timestamp": timestamp.encode(),
    }
    if channel.secret_env:
        secret = _secret(channel, env)
        digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
        headers["X-Triage-Signature"] = f"sha256={digest.hexdigest()}".encode()
    await _post(channel, client, body, headers, scrub)


async def _slack(
    channel: ChannelConfig, message: Message, client: httpx.AsyncClient, scrub: _Scrubber
) -> None:
    text = "\n".join(part for part in (message.title, message.text) if part)
    body = _json({"text": _slack_escape(text)})
    headers = {
        "Content-Type": b"application/json",
        "X-Triage-Delivery": _header_value(message.delivery_id),
    }
    await _post(channel, client, body, headers, scrub)


async def _ntfy(
    channel: ChannelConfig,
    message: Message,
    client: httpx.AsyncClient,
    env: Mapping[str, str],
    scrub: _Scrubber,
) -> None:
    headers = {
        "Content-Type": b"text/plain; charset=utf-8",
        "Title": _header_value(message.title),
        "Priority": b"high" if message.urgent else b"default",
        "Tags": b"warning",
        "X-Triage-Delivery": _header_value(message.delivery_id),
    }
    if channel.secret_env:
        token = _secret(channel, env).strip()
        if not token.isascii() or not token.isprintable() or " " in token:
            raise _Problem(
                f"{channel.secret_env} holds characters a bearer token cannot have",
                permanent=True,
            )
        headers["Authorization"] = f"Bearer {token}".encode()
    await _post(channel, client, _fit(message.text, NTFY_LIMIT), headers, scrub)


async def _command(
    channel: ChannelConfig, message: Message, env: Mapping[str, str], scrub: _Scrubber
) -> None:
    if not channel.command:
        raise _Problem("no command configured", permanent=True)
    program = channel.command[0]
    body = _json(message.payload)
    child_env = command_env(channel, message.delivery_id, env)
    # stderr goes to a file, not a pipe: a background process the program leaves behind could
    # hold a pipe open and make the program look like it never ends.
    with tempfile.TemporaryFile() as errors:
        try:
            process = await asyncio.create_subprocess_exec(
                *channel.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errors,
                env=child_env,
                start_new_session=True,
            )
        except (FileNotFoundError, NotADirectoryError):
            raise _Problem(f"{program} not found", permanent=True) from None
        except PermissionError:
            raise _Problem(f"{program} is not executable", permanent=True) from None
        except ValueError:
            raise _Problem(f"{program} is not a usable program name", permanent=True) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _Problem(f"cannot start {program} ({reason})") from None
        try:
            async with asyncio.timeout(channel.timeout):
                await _feed(process, body)
                status = await process.wait()
        except TimeoutError:
            raise _Problem(f"{program} still running after {channel.timeout:g}s; killed") from None
        finally:
            if process.returncode is None:
                await _kill(process)
        if status == 0:
            return
        errors.seek(0)
        output = errors.read(_READ_LIMIT + 1)
        cut = len(output) > _READ_LIMIT
        said = _quote(output[:_READ_LIMIT], scrub, cut=cut, first=True)
        ended = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
        raise _Problem(f"{program} {ended}" + (f": {said}" if said else ""))


async def _feed(process: asyncio.subprocess.Process, body: bytes) -> None:
    """Write the payload to the program's stdin and close it; a program that exits without
    reading it is judged by its exit status alone."""
    stdin = process.stdin
    if stdin is None:
        return
    with suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(body)
        await stdin.drain()
    stdin.close()
    with suppress(BrokenPipeError, ConnectionResetError):
        await stdin.wait_closed()


async def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill the program and everything it started (its own session), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    except OSError:
        with suppress(ProcessLookupError):
            process.kill()
    if process.stdin is not None:
        process.stdin.close()
    with suppress(TimeoutError):
        async with asyncio.timeout(_KILL_WAIT):
            await process.wait()


# -- HTTP -------------------------------------------------------------------------------------


async def _post(
    channel: ChannelConfig,
    client: httpx.AsyncClient,
    body: bytes,
    headers: Mapping[str, bytes],
    scrub: _Scrubber,
) -> None:
    if not channel.url:
        raise _Problem("no url configured", permanent=True)
    status: int | None = None
    answer: httpx.Headers | None = None
    quoted = b""
    cut = False
    try:
        async with asyncio.timeout(channel.timeout):
            request = client.build_request(
                "POST",
                channel.url,
                content=body,
                headers={**headers, "Accept-Encoding": b"identity"},
                timeout=channel.timeout,
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                status, answer = response.status_code, response.headers
                quoted, cut = await _read_start(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        if status is None:
            raise _Problem(f"no answer within {channel.timeout:g}s") from None
    except httpx.UnsupportedProtocol:
        raise _Problem("url is not an http or https address", permanent=True) from None
    except httpx.InvalidURL:
        raise _Problem("url is not a valid address", permanent=True) from None
    except httpx.RemoteProtocolError as exc:
        if status is None:  # connected, and what came back was not HTTP (or broke off)
            raise _Problem(
                f"answered with something that is not HTTP ({type(exc).__name__})"
            ) from None
    except httpx.TransportError as exc:
        if status is None:
            raise _Problem(f"cannot connect ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        if status is None:
            raise _Problem(f"request failed ({type(exc).__name__})") from None
    if status is None or answer is None:
        raise _Problem("no answer")
    if 200 <= status < 300:
        return
    raise _answered(status, answer, _quote(quoted, scrub, cut=cut))


async def _read_start(response: httpx.Response) -> tuple[bytes, bool]:
    """The first bytes of the body (words to quote on an error), and whether there was more;
    what arrived before the connection broke when it breaks. A short body read to its end
    leaves the connection fit for reuse."""
    data = bytearray()
    with suppress(httpx.HTTPError):
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > _READ_LIMIT:
                return bytes(data[:_READ_LIMIT]), True
    return bytes(data), False


def _answered(status: int, headers: httpx.Headers, quoted: str) -> _Problem:
    said = f": {quoted}" if quoted else ""
    if 300 <= status < 400:
        return _Problem(
            f"answered {status}; point url at the final address", permanent=status in (301, 308)
        )
    wait = retry_after(headers.get("retry-after")) if status in (429, 503) else None
    permanent = 400 <= status < 500 and status not in (408, 429)
    return _Problem(f"answered {status}{said}", permanent=permanent, retry_after=wait)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now, at most ``BACKOFF_MAX``: delay seconds or an HTTP
    date (one in the past is 0); ``None`` when absent or unreadable (garbage, ``nan``,
    ``inf``), so the usual backoff applies."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            seconds = (moment - (now or datetime.now(UTC))).total_seconds()
        except OverflowError:
            return None
    return min(max(seconds, 0.0), BACKOFF_MAX) if math.isfinite(seconds) else None


# -- bodies, headers and secrets ----------------------------------------------------------------


def _json(value: Any) -> bytes:
    try:
        text = json.dumps(
            value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise _Problem(f"payload is not JSON ({type(exc).__name__})", permanent=True) from None
    return text.encode("utf-8")


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> bytes:
    """``text`` as UTF-8 in at most ``limit`` bytes, cut on a character boundary with "…"."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    mark = "…".encode()
    return data[: limit - len(mark)].decode("utf-8", errors="ignore").encode("utf-8") + mark


def _header_value(text: str, limit: int = 250) -> bytes:
    """One header line: control characters (CR and LF among them) become spaces, whitespace
    collapses, the typographic marks our own texts use become their ASCII forms (a cut's
    "…" would otherwise read "?", as a question), other characters outside latin-1 "?"."""
    cleaned = "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)
    cleaned = cleaned.translate(_ASCII_MARKS)
    return " ".join(cleaned.split())[:limit].encode("latin-1", errors="replace")


_ASCII_MARKS = str.maketrans({"…": "...", "“": '"', "”": '"', "‘": "'", "’": "'", "—": "-"})


def _secret(channel: ChannelConfig, env: Mapping[str, str]) -> str:
    name = channel.secret_env or ""
    value = env.get(name) or ""
    if not value.strip():
        raise _Problem(f"environment variable {name} is not set", permanent=True)
    return value


class _Scrubber:
    """Replaces secrets with ``***``: the value of the channel's secret and of every variable
    in ``secret_names``, the URL and the parts of it that may be tokens (the path, long path
    segments and query values, a password)."""

    def __init__(
        self, channel: ChannelConfig, env: Mapping[str, str], secret_names: Collection[str] = ()
    ) -> None:
        found: set[str] = set()
        for name in {*secret_names, *([channel.secret_env] if channel.secret_env else [])}:
            value = env.get(name) or ""
            found |= {value, value.strip()}
        if channel.url:
            found |= _url_secrets(channel.url)
        self._secrets = sorted((s for s in found if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def cut_tail(self, text: str) -> str:
        """Drop an end of ``text`` that is the start of a secret (text read up to a limit)."""
        for secret in self._secrets:
            for size in range(len(secret) - 1, 0, -1):
                if text.endswith(secret[:size]):
                    text = text[:-size]
                    break
        return text


def _url_secrets(url: str) -> set[str]:
    found = {url}
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return found
    if parts.netloc:
        found.add(url.split("://", 1)[-1])
    tail = url[url.find(parts.netloc) + len(parts.netloc) :] if parts.netloc else url
    if len(tail) > 1:
        found.add(tail)
    if password:
        found.add(password)
    values = [v for _, v in parse_qsl(parts.query, keep_blank_values=True)]
    found |= {p for p in [*parts.path.split("/"), *values] if len(p) >= _URL_PART_MIN}
    return found


def _quote(data: bytes, scrub: _Scrubber, *, cut: bool = False, first: bool = False) -> str:
    """Words a server or program sent, fit for an error message: scrubbed, one line, at most
    ``QUOTE_LIMIT`` characters (the first line with text when ``first``)."""
    text = scrub(decode(data))
    if cut:
        text = scrub.cut_tail(text)
    # Cleaning can join a secret that invisible characters split: scrub what shows, then cut,
    # and drop a cut end that is the start of a secret.
    line = scrub(first_line(text) if first else one_line(text))
    if len(line) > QUOTE_LIMIT:
        line = scrub.cut_tail(line[: QUOTE_LIMIT - 1]) + "…"
    return line
