"""Alert channels against a real loopback HTTP server and real programs: what each kind sends,
how every misbehaving receiver is reported, and that no secret or token URL leaks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from tests.sources.server import Reply, Server
from tui.alert_config import ChannelConfig
from tui.channels import BACKOFF_MAX, DeliveryFailed, Message, backoff, send
from tui.core.process import is_gone, this_host
from tui.sources import make_client

SECRET = "hmac-Secret-0123456789abcdef"
TOKEN = "XyZtokenTOKENtoken12345"
TOKEN_PATH = f"/services/T0AAAA1111/B0BBBB2222/{TOKEN}"
PAYLOAD = {
    "alerts": [{"rule": "negative", "why": "naïve café ☕ complaint"}],
    "digest": False,
    "text": "1 negative mention",
}


def message(**changes: object) -> Message:
    values: dict[str, object] = {
        "delivery_id": "dlv-0001",
        "payload": PAYLOAD,
        "title": "Negative mention",
        "text": "1 negative mention\nnegative: the app ate my invoice ☕",
        "urgent": False,
    }
    values.update(changes)
    return Message(**values)  # type: ignore[arg-type]


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The app's shared client, which follows redirects: ``send`` must not."""
    async with make_client(timeout=httpx.Timeout(5.0)) as opened:
        yield opened


async def failure(attempt: Awaitable[None]) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as info:
        await attempt
    failed = info.value
    assert "\n" not in str(failed) and "\r" not in str(failed)
    return failed


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- webhook ----------------------------------------------------------------------------------


async def test_webhook_posts_the_payload_with_a_verifiable_signature(
    server: Server, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    server.route("/hook", Reply(204), method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook", secret_env="HOOK_SECRET")
    await send(channel, message(), client)

    (request,) = server.to("/hook")
    assert request.body == compact(PAYLOAD)
    assert json.loads(request.body) == PAYLOAD
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-triage-delivery"] == "dlv-0001"
    timestamp = request.headers["x-triage-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert hmac.compare_digest(
        request.headers["x-triage-signature"], f"sha256={expected.hexdigest()}"
    )


async def test_webhook_without_secret_env_is_unsigned(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/hook", Reply(200), method="POST")
    await send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    (request,) = server.to("/hook")
    assert "x-triage-signature" not in request.headers
    assert request.headers["x-triage-delivery"] == "dlv-0001"
    assert request.headers["x-triage-timestamp"].isdigit()


async def test_retries_of_one_delivery_carry_the_same_id(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/hook", Reply(500), Reply(200), method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook")
    await failure(send(channel, message(), client))
    await send(channel, message(), client)
    ids = [r.headers["x-triage-delivery"] for r in server.to("/hook")]
    assert ids == ["dlv-0001", "dlv-0001"]


@pytest.mark.parametrize("value", [None, "", "  "])
async def test_webhook_with_its_secret_missing_fails_permanently(
    server: Server, client: httpx.AsyncClient, value: str | None
) -> None:
    server.route("/hook", Reply(200), method="POST")
    env = {"OTHER": SECRET} if value is None else {"HOOK_SECRET": value, "OTHER": SECRET}
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook", secret_env="HOOK_SECRET")
    failed = await failure(send(channel, message(), client, env=env))
    assert failed.permanent
    assert "HOOK_SECRET" in str(failed)
    assert str(failed).startswith("ops: ")
    assert SECRET not in str(failed)
    assert server.to("/hook") == []


# -- slack and ntfy ---------------------------------------------------------------------------


async def test_slack_posts_title_and_text_as_incoming_webhook_json(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route(TOKEN_PATH, Reply(200, b"ok"), method="POST")
    await send(ChannelConfig("chat", "slack", url=server.url + TOKEN_PATH), message(), client)
    (request,) = server.to(TOKEN_PATH)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "text": "Negative mention\n1 negative mention\nnegative: the app ate my invoice ☕"
    }


async def test_slack_text_from_a_mention_cannot_ping_the_channel(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/slack", Reply(200, b"ok"), method="POST")
    hostile = message(title="Spike", text="<!channel> refund & <@U123>")
    await send(ChannelConfig("chat", "slack", url=server.url + "/slack"), hostile, client)
    text = json.loads(server.to("/slack")[0].body)["text"]
    assert text == "Spike\n&lt;!channel&gt; refund &amp; &lt;@U123&gt;"


async def test_ntfy_sends_text_with_safe_headers_and_token(
    server: Server, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NTFY_TOKEN", "tk_abcdef0123456789")
    server.route("/triage-alerts", Reply(200, b'{"id":"x"}'), method="POST")
    channel = ChannelConfig(
        "phone", "ntfy", url=server.url + "/triage-alerts", secret_env="NTFY_TOKEN"
    )
    hostile = message(title="Spike\r\nX-Evil: 1 🔥 café", urgent=True)
    await send(channel, hostile, client)

    (request,) = server.to("/triage-alerts")
    assert "x-evil" not in request.headers
    assert request.headers["title"] == "Spike X-Evil: 1 ? café"
    assert request.headers["priority"] == "high"
    assert request.headers["tags"] == "warning"
    assert request.headers["authorization"] == "Bearer tk_abcdef0123456789"
    assert request.headers["x-triage-delivery"] == "dlv-0001"
    assert request.body == hostile.text.encode("utf-8")


async def test_ntfy_title_keeps_a_cut_and_quotes_readable(
    server: Server, client: httpx.AsyncClient
) -> None:
    """The title of an alert cut to fit ends in "…", and quotes a post in “…”: in latin-1
    they would all be "?", and a cut title would read as a question."""
    server.route("/topic", Reply(200, b'{"id":"x"}'), method="POST")
    titled = message(title="Negative from ann: “parcel lost again, nobody answ…”")
    await send(ChannelConfig("phone", "ntfy", url=server.url + "/topic"), titled, client)
    (request,) = server.to("/topic")
    assert request.headers["title"] == 'Negative from ann: "parcel lost again, nobody answ..."'


async def test_ntfy_default_priority_and_no_authorization_without_secret(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/topic", Reply(200), method="POST")
    await send(ChannelConfig("phone", "ntfy", url=server.url + "/topic"), message(), client)
    (request,) = server.to("/topic")
    assert request.headers["priority"] == "default"
    assert "authorization" not in request.headers


async def test_ntfy_text_is_cut_to_fit_one_message(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/topic", Reply(200), method="POST")
    long = message(text="é" * 3000)  # 6000 bytes
    await send(ChannelConfig("phone", "ntfy", url=server.url + "/topic"), long, client)
    body = server.to("/topic")[0].body
    assert len(body) <= 4096
    assert body.decode("utf-8").endswith("é…")


async def test_ntfy_with_its_token_missing_fails_permanently(
    server: Server, client: httpx.AsyncClient
) -> None:
    channel = ChannelConfig("phone", "ntfy", url=server.url + "/topic", secret_env="NTFY_TOKEN")
    failed = await failure(send(channel, message(), client, env={}))
    assert failed.permanent
    assert "NTFY_TOKEN" in str(failed)
    assert server.requests == []


# -- misbehaving receivers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        (Reply(500, b"boom"), False),
        (Reply(502, b"bad gateway"), False),
        (Reply(408), False),
        (Reply(429), False),
        (Reply(404, b"no_service"), True),
        (Reply(400, b"invalid_payload"), True),
        (Reply(401), True),
    ],
)
async def test_error_statuses_fail_retryable_or_permanent(
    server: Server, client: httpx.AsyncClient, reply: Reply, permanent: bool
) -> None:
    server.route("/hook", reply, method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook")
    failed = await failure(send(channel, message(), client))
    assert failed.permanent is permanent
    assert failed.retry_after is None
    assert str(failed).startswith(f"ops: answered {reply.status}")
    if reply.body:
        assert str(failed).endswith(reply.body.decode())


async def test_429_retry_after_seconds(server: Server, client: httpx.AsyncClient) -> None:
    server.route("/hook", Reply(429, headers={"Retry-After": "7"}), method="POST")
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    assert failed.retry_after == 7
    assert not failed.permanent


async def test_503_retry_after_http_date(server: Server, client: httpx.AsyncClient) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    server.route("/hook", Reply(503, headers={"Retry-After": when}), method="POST")
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    assert failed.retry_after is not None and 100 < failed.retry_after <= 120
    assert not failed.permanent


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("999999999", BACKOFF_MAX),
        ("Fri, 31 Dec 9999 23:59:59 GMT", BACKOFF_MAX),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("-30", 0.0),
        ("soon", None),
        ("1e999", None),
        ("nan", None),
        ("Fri, 99 Zzz 2026 99:99:99 GMT", None),
    ],
)
async def test_retry_after_is_capped_and_garbage_is_ignored(
    server: Server, client: httpx.AsyncClient, value: str, expected: float | None
) -> None:
    server.route("/hook", Reply(429, headers={"Retry-After": value}), method="POST")
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    assert failed.retry_after == expected
    assert not failed.permanent
    assert backoff(1, failed.retry_after) <= BACKOFF_MAX


@pytest.mark.parametrize(("status", "permanent"), [(302, False), (307, False), (301, True)])
async def test_a_redirect_is_a_failure_and_is_not_followed(
    server: Server, client: httpx.AsyncClient, status: int, permanent: bool
) -> None:
    server.route("/hook", Reply(status, headers={"Location": "/final"}), method="POST")
    server.route("/final", Reply(200), method="POST")
    server.route("/final", Reply(200))
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    assert str(failed) == f"ops: answered {status}; point url at the final address"
    assert failed.permanent is permanent
    assert server.to("/final") == []


async def test_a_reply_slower_than_the_timeout(server: Server, client: httpx.AsyncClient) -> None:
    server.route("/hook", Reply(200, delay=3.0), method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook", timeout=0.3)
    started = time.monotonic()
    failed = await failure(send(channel, message(), client))
    assert time.monotonic() - started < 2.0
    assert str(failed) == "ops: no answer within 0.3s"
    assert not failed.permanent


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    channel = ChannelConfig("ops", "webhook", url=f"http://127.0.0.1:{closed_port()}/hook")
    failed = await failure(send(channel, message(), client))
    assert str(failed) == "ops: cannot connect (ConnectError)"
    assert not failed.permanent


async def test_a_server_answering_garbage_is_not_called_unreachable(
    client: httpx.AsyncClient,
) -> None:
    """It took the connection and sent back something that is not HTTP: "cannot connect"
    sent the operator to check the network instead of the receiver."""

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n")
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        channel = ChannelConfig("ops", "webhook", url=f"http://127.0.0.1:{port}/hook")
        failed = await failure(send(channel, message(), client))
    finally:
        listening.close()
        await listening.wait_closed()
    assert str(failed) == "ops: answered with something that is not HTTP (RemoteProtocolError)"
    assert not failed.permanent


async def test_a_2xx_with_a_truncated_body_is_delivered(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/hook", Reply(200, b"x" * 1000, truncate=True), method="POST")
    with pytest.raises(httpx.RemoteProtocolError):  # the body really is cut short
        await client.post(server.url + "/hook")
    await send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    assert len(server.to("/hook")) == 2


async def test_an_error_with_a_truncated_body_still_reports_its_status(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/hook", Reply(500, b"y" * 1000, truncate=True), method="POST")
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    assert str(failed).startswith("ops: answered 500")
    assert not failed.permanent


async def test_a_long_error_body_is_cut(server: Server, client: httpx.AsyncClient) -> None:
    server.route("/hook", Reply(500, b"word " * 2000), method="POST")
    failed = await failure(
        send(ChannelConfig("ops", "webhook", url=server.url + "/hook"), message(), client)
    )
    quoted = str(failed).removeprefix("ops: answered 500: ")
    assert quoted.startswith("word word")
    assert len(quoted) <= 200


@pytest.mark.parametrize(
    "channel",
    [
        ChannelConfig("ops", "webhook", url="http://127.0.0.1:1/x"),
        ChannelConfig("ops", "pager", url="http://127.0.0.1:1/x"),
        ChannelConfig("ops", "slack"),
        ChannelConfig("ops", "webhook", url="ftp://127.0.0.1/x"),
    ],
    ids=["unreachable", "unknown kind", "no url", "not http"],
)
async def test_configuration_mistakes(client: httpx.AsyncClient, channel: ChannelConfig) -> None:
    failed = await failure(send(channel, message(), client))
    assert failed.permanent is (channel.kind != "webhook" or channel.url.startswith("ftp"))


# -- secrets never reach a message ------------------------------------------------------------


def echo(url: str) -> bytes:
    """A receiver that quotes back everything it was given."""
    return f"rejected {url} with key {SECRET} (token {TOKEN})".encode()


Scenario = Callable[[Server], tuple[str, Reply | None]]

SCENARIOS: dict[str, Scenario] = {
    "500": lambda s: (s.url + TOKEN_PATH, Reply(500, echo(s.url + TOKEN_PATH))),
    "429": lambda s: (
        s.url + TOKEN_PATH,
        Reply(429, echo(s.url + TOKEN_PATH), {"Retry-After": "7"}),
    ),
    "404": lambda s: (s.url + TOKEN_PATH, Reply(404, echo(TOKEN_PATH))),
    "302": lambda s: (
        s.url + TOKEN_PATH,
        Reply(302, echo(s.url), {"Location": s.url + TOKEN_PATH + "/next?t=" + SECRET}),
    ),
    "truncated 500": lambda s: (
        s.url + TOKEN_PATH,
        Reply(500, echo(s.url + TOKEN_PATH) * 3, truncate=True),
    ),
    "slow": lambda s: (s.url + TOKEN_PATH, Reply(200, delay=3.0)),
    "refused": lambda s: (f"http://127.0.0.1:{closed_port()}{TOKEN_PATH}", None),
}


@pytest.mark.parametrize("kind", ["webhook", "ntfy", "slack"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_no_secret_or_token_url_in_any_failure(
    server: Server,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    scenario: str,
) -> None:
    monkeypatch.setenv("CHANNEL_SECRET", SECRET)
    url, reply = SCENARIOS[scenario](server)
    if reply is not None:
        server.route(TOKEN_PATH, reply, method="POST")
    channel = ChannelConfig("ops", kind, url=url, secret_env="CHANNEL_SECRET", timeout=0.3)
    failed = await failure(send(channel, message(), client))
    text = str(failed)
    for leak in (SECRET, TOKEN, TOKEN_PATH, url, url.split("://")[1]):
        assert leak not in text
    if reply is not None and reply.body and reply.status != 302:
        assert "***" in text  # the echo was quoted, scrubbed


async def test_a_server_echoing_any_configured_secret_has_it_redacted(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Not only the channel's own secret: a source's token or another channel's secret that
    the server echoes back is redacted too, and the quote stays one bounded line."""
    env = {"HOOK_SECRET": SECRET, "MASTODON_TOKEN": TOKEN, "PAGER_KEY": "pager-key-424242"}
    body = f"bad {SECRET}\x1b[2J {TOKEN}\r\nX-Fake: pager-key-424242 ".encode() * 40
    server.route("/hook", Reply(500, body), method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook", secret_env="HOOK_SECRET")
    failed = await failure(
        send(channel, message(), client, env, secret_names=("MASTODON_TOKEN", "PAGER_KEY"))
    )
    text = str(failed)
    assert text.startswith("ops: answered 500: bad ***␛ *** X-Fake: *** bad ***")
    for leak in (SECRET, TOKEN, "pager-key-424242", "\x1b", "\r"):
        assert leak not in text
    assert len(text) <= len("ops: answered 500: ") + 200


async def test_a_secret_split_by_invisible_characters_is_redacted_where_the_quote_is_cut(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Cleaning the quote joins what a zero-width space split: the secret must be matched in
    what shows, and a quote cut inside it must not keep its start."""
    env = {"HOOK_SECRET": SECRET}
    split = SECRET[:4] + "\u200b" + SECRET[4:]
    for lead in (10, 190):  # whole in the quote; cut at the quote's limit
        server.route("/hook", Reply(500, ("x" * lead + split + " more").encode()), method="POST")
        channel = ChannelConfig(
            "ops", "webhook", url=server.url + "/hook", secret_env="HOOK_SECRET"
        )
        text = str(await failure(send(channel, message(), client, env)))
        assert SECRET[:6] not in text, (lead, text)
        assert len(text) <= len("ops: answered 500: ") + 200


async def test_a_secret_cut_at_the_read_limit_does_not_leak_its_start(
    server: Server, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_secret = "".join(f"{i:04d}" for i in range(250))  # 1000 characters
    monkeypatch.setenv("HOOK_SECRET", long_secret)
    server.route("/hook", Reply(500, (long_secret + " ").encode() * 5), method="POST")
    channel = ChannelConfig("ops", "webhook", url=server.url + "/hook", secret_env="HOOK_SECRET")
    failed = await failure(send(channel, message(), client))
    assert str(failed).startswith("ops: answered 500: *** *** *** ***")
    assert long_secret[:8] not in str(failed)


# -- command ----------------------------------------------------------------------------------


def script(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


async def test_command_gets_the_payload_on_stdin_and_the_delivery_id(tmp_path: Path) -> None:
    out = tmp_path / "received.json"
    program = script(
        tmp_path,
        "notify.py",
        "import os, sys\n"
        "data = sys.stdin.buffer.read()\n"
        "open(sys.argv[1], 'wb').write(data)\n"
        "open(sys.argv[1] + '.id', 'w').write(os.environ['TRIAGE_DELIVERY_ID'])\n"
        "print('stdout is discarded ' * 1000)\n",
    )
    channel = ChannelConfig("local", "command", command=(sys.executable, str(program), str(out)))
    async with httpx.AsyncClient() as unused:
        await send(channel, message(), unused, env={**os.environ, "EXTRA": "1"})
    assert out.read_bytes() == compact(PAYLOAD)
    assert json.loads(out.read_bytes()) == PAYLOAD
    assert Path(f"{out}.id").read_text() == "dlv-0001"


async def test_command_gets_a_minimal_environment(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    program = script(
        tmp_path,
        "env.py",
        "import json, os, sys\n"
        "sys.stdin.read()\n"
        "json.dump(dict(os.environ), open(sys.argv[1], 'w'))\n",
    )
    channel = ChannelConfig(
        "local",
        "command",
        command=(sys.executable, str(program), str(out)),
        secret_env="CMD_SECRET",
        env=("PAGER_ROUTE",),
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/home/ops",
        "LANG": "C.UTF-8",
        "LC_TIME": "C",
        "TZ": "UTC",
        "CMD_SECRET": SECRET,
        "PAGER_ROUTE": "team-a",
        "MASTODON_TOKEN": TOKEN,
        "OTHER_HOOK_SECRET": "other-secret-value",
        "AWS_SECRET_ACCESS_KEY": "aws-value",
    }
    async with httpx.AsyncClient() as unused:
        await send(channel, message(), unused, env=env)
    got = json.loads(out.read_text())
    got.pop("LC_CTYPE", None)  # the interpreter may add it itself (PEP 538)
    assert got == {
        "PATH": os.environ["PATH"],
        "HOME": "/home/ops",
        "LANG": "C.UTF-8",
        "LC_TIME": "C",
        "TZ": "UTC",
        "CMD_SECRET": SECRET,
        "PAGER_ROUTE": "team-a",
        "TRIAGE_DELIVERY_ID": "dlv-0001",
    }


async def test_command_stderr_is_one_bounded_clean_line_without_any_configured_secret(
    tmp_path: Path,
) -> None:
    program = script(
        tmp_path,
        "leaky.py",
        "import sys\n"
        "sys.stdin.read()\n"
        f"sys.stderr.write('auth {TOKEN} and {SECRET}\\x1b]0;title\\x07 over ' * 30"
        " + '\\nnext line\\n')\n"
        "sys.exit(2)\n",
    )
    channel = ChannelConfig("local", "command", command=(sys.executable, str(program)))
    env = {"PATH": os.environ["PATH"], "MASTODON_TOKEN": TOKEN, "HOOK_SECRET": SECRET}
    async with httpx.AsyncClient() as unused:
        failed = await failure(
            send(channel, message(), unused, env, secret_names=("MASTODON_TOKEN", "HOOK_SECRET"))
        )
    text = str(failed)
    prefix = f"local: {sys.executable} exited with status 2: "
    assert text.startswith(prefix + "auth *** and ***␛ over auth *** and ***␛ over")
    assert TOKEN not in text and SECRET not in text
    assert "next line" not in text
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)
    assert len(text) <= len(prefix) + 200 and text.endswith("…")


async def test_command_that_ignores_stdin_and_exits_zero_is_delivered(tmp_path: Path) -> None:
    program = script(tmp_path, "quiet.py", "")
    channel = ChannelConfig("local", "command", command=(sys.executable, str(program)))
    big = message(payload={"alerts": ["x" * 1_000_000], "digest": False, "text": "t"})
    async with httpx.AsyncClient() as unused:
        await send(channel, big, unused)


async def test_command_failing_reports_the_first_stderr_line_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMD_SECRET", SECRET)
    program = script(
        tmp_path,
        "fail.py",
        "import os, sys\n"
        "sys.stdin.read()\n"
        "sys.stderr.write('\\n  token ' + os.environ['CMD_SECRET'] + ' refused\\nsecond line\\n')\n"
        "sys.exit(3)\n",
    )
    channel = ChannelConfig(
        "local", "command", command=(sys.executable, str(program)), secret_env="CMD_SECRET"
    )
    async with httpx.AsyncClient() as unused:
        failed = await failure(send(channel, message(), unused))
    assert str(failed) == f"local: {sys.executable} exited with status 3: token *** refused"
    assert not failed.permanent


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_gone(this_host(), pid):
            return True
        time.sleep(0.05)
    return False


async def test_a_hanging_command_is_killed_with_what_it_started(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    program = script(
        tmp_path,
        "hang.py",
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "open(sys.argv[1], 'w').write(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(60)\n",
    )
    channel = ChannelConfig(
        "local", "command", command=(sys.executable, str(program), str(pids)), timeout=1.0
    )
    started = time.monotonic()
    async with httpx.AsyncClient() as unused:
        failed = await failure(send(channel, message(), unused))
    assert time.monotonic() - started < 4.0
    assert str(failed) == f"local: {sys.executable} still running after 1s; killed"
    assert not failed.permanent
    parent, child = (int(p) for p in pids.read_text().split())
    assert wait_gone(parent)
    assert wait_gone(child)


async def test_a_background_process_left_behind_does_not_hold_up_delivery(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "daemon"
    program = script(
        tmp_path,
        "spawn.py",
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "open(sys.argv[1], 'w').write(str(child.pid))\n",
    )
    channel = ChannelConfig(
        "local", "command", command=(sys.executable, str(program), str(pid_file)), timeout=10.0
    )
    started = time.monotonic()
    try:
        async with httpx.AsyncClient() as unused:
            await send(channel, message(), unused)
        assert time.monotonic() - started < 5.0
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 9)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: (str(tmp / "no-such-notifier"),), "not found"),
        (lambda tmp: (str(script(tmp, "notify.sh", "#!/bin/sh\nexit 0\n")),), "not executable"),
        (lambda tmp: (), "no command configured"),
    ],
    ids=["missing", "not executable", "empty"],
)
async def test_a_command_that_cannot_run_fails_permanently(
    tmp_path: Path, make: Callable[[Path], tuple[str, ...]], words: str
) -> None:
    channel = ChannelConfig("local", "command", command=make(tmp_path))
    async with httpx.AsyncClient() as unused:
        failed = await failure(send(channel, message(), unused))
    assert failed.permanent
    assert words in str(failed)


# -- backoff and the module's reach -----------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "retry_after", "seconds"),
    [
        (1, None, 15.0),
        (2, None, 30.0),
        (3, None, 60.0),
        (8, None, 1920.0),
        (9, None, 3600.0),
        (10**9, None, 3600.0),
        (0, None, 15.0),
        (1, 7.0, 15.0),
        (1, 100.0, 100.0),
        (9, 7200.0, 3600.0),
        (1, 999999999.0, 3600.0),
        (1, float("inf"), 15.0),
        (2, float("nan"), 30.0),
    ],
)
def test_backoff(attempts: int, retry_after: float | None, seconds: float) -> None:
    assert backoff(attempts, retry_after) == seconds


def test_channels_do_not_import_textual() -> None:
    code = "import sys, tui.channels; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


async def test_send_cancelled_kills_the_program(tmp_path: Path) -> None:
    pids = tmp_path / "pid"
    program = script(
        tmp_path,
        "slow.py",
        "import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
    )
    channel = ChannelConfig("local", "command", command=(sys.executable, str(program), str(pids)))
    async with httpx.AsyncClient() as unused:
        task = asyncio.create_task(send(channel, message(), unused))
        while not pids.exists() or not pids.read_text():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert wait_gone(int(pids.read_text()))
