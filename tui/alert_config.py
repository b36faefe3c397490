"""``[sla]``, ``[[alerts]]`` and ``[[channels]]``: the on-call part of the config.

Parsed here (``tui.config`` calls ``sla``, ``rules`` and ``channels``) so the main config module
keeps to the rest. Every error names the key, its line and the fix, like the rest of the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.core.sla import BusinessHours, Sla, parse_business_hours

if TYPE_CHECKING:
    from tui.config import _Reader

RULE_KINDS = ("negative", "spike", "sla", "reach", "source", "follow_up")
CHANNEL_KINDS = ("webhook", "slack", "ntfy", "command")
METRICS = ("negative", "all")
LABELS = ("negative", "neutral", "positive", "unscored")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One ``[[alerts]]`` table."""

    name: str
    when: str
    """One of ``RULE_KINDS``."""
    notify: tuple[str, ...] = ()
    """Channel names; the app shows every alert whatever this says."""
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    """Words (any of them, case-insensitive, whole words) the mention's text must contain."""
    labels: tuple[str, ...] = ()
    """Only mentions with one of these labels (the operator's first); empty: any."""
    min_followers: int = 1000
    """``reach``: the author's followers, or the post's own reach (reposts, likes, score,
    points), at or above which a mention alerts."""
    metric: str = "negative"
    """``spike``: count negatives or all mentions."""
    window: float = 3600.0
    """``spike``: the window counted, in seconds (15 minutes to 24 hours, whole quarters)."""
    cooldown: float = 1800.0
    """After a delivery for this rule, further alerts of the rule within this many seconds are
    held and sent as one digest when it ends."""
    lead: float = 600.0
    """``sla``: alert this long before a mention's response is due (and again when late)."""
    probability: float = 0.001
    """``spike``: fire when a count at least this high had at most this chance (Poisson)."""
    min_count: int = 5
    """``spike``: never fire on fewer mentions than this in the window."""
    silence: float = 6.0
    """``source``: a source is silent when nothing arrived for this many times its usual gap."""


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One ``[[channels]]`` table."""

    name: str
    kind: str
    """One of ``CHANNEL_KINDS``."""
    url: str = ""
    """``webhook``/``slack``: where to POST; ``ntfy``: the topic URL."""
    command: tuple[str, ...] = ()
    """``command``: the program and its arguments (no shell); the alert JSON is its stdin."""
    secret_env: str | None = None
    """Name of the environment variable holding the HMAC secret (``webhook``) or the bearer
    token (``ntfy``) or for the program (``command``); the value itself is never in the config,
    the store or a log."""
    env: tuple[str, ...] = ()
    """``command``: names of further environment variables passed to the program, which
    otherwise gets only ``PATH``, ``HOME``, ``LANG``, ``LC_*``, ``TZ``, ``secret_env`` and
    ``TRIAGE_DELIVERY_ID`` (``tui.channels.command_env``)."""
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Baseline:
    """``[baseline]``: how the usual level is read."""

    weeks: int = 4
    """Same hour of the week over this many past weeks."""


@dataclass(frozen=True, slots=True)
class OnCall:
    sla: Sla = field(default_factory=Sla)
    rules: tuple[AlertRule, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    baseline: Baseline = field(default_factory=Baseline)


def _duration(reader: _Reader, key: str, value: Any, after: int) -> float:
    from tui.config import _expect, parse_duration

    text = _expect(reader, key, value, (str, int, float), 'write e.g. "30m"', after)
    try:
        return parse_duration(str(text))
    except ValueError as error:
        raise reader.error(key, str(error), 'write e.g. "30m" or "2h"', after) from None


def _unknown(
    reader: _Reader, prefix: str, table: Mapping[str, Any], allowed: set[str], after: int
) -> None:
    from tui.config import _known_keys

    _known_keys(reader, prefix, table, allowed, after)


def _tables(
    reader: _Reader, name: str, items: Any, allowed: set[str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each ``[[name]]`` table with the line it starts on, its keys checked."""
    from tui.config import _expect

    _expect(reader, name, items, list, f"use [[{name}]] tables", 0)
    for index, item in enumerate(items):
        after = reader.table_line(name, index)
        _expect(reader, name, item, dict, f"use [[{name}]] tables", after)
        _unknown(reader, name, item, allowed, after)
        yield after, item


def _kind(
    reader: _Reader, key: str, value: Any, kinds: tuple[str, ...], what: str, after: int
) -> str:
    if value not in kinds:
        raise reader.error(
            key,
            f"unknown or missing {what} kind {value!r}",
            f"use one of {', '.join(kinds)}",
            after,
        )
    return str(value)


def sla(reader: _Reader, table: Any) -> Sla:
    from tui.config import _expect

    _expect(reader, "sla", table, dict, "use an [sla] table", 0)
    after = reader.header_line("sla")
    _unknown(reader, "sla", table, {*LABELS, "business_hours", "timezone"}, after)
    targets = dict(Sla().targets)
    for label in LABELS:
        if label in table:
            seconds = _duration(reader, f"sla.{label}", table[label], after)
            if seconds <= 0:
                raise reader.error(
                    f"sla.{label}", "must be longer than 0", 'write e.g. "30m"', after
                )
            targets[label] = seconds
    hours: BusinessHours | None = None
    if "business_hours" in table:
        text = _expect(
            reader,
            "sla.business_hours",
            table["business_hours"],
            str,
            'write e.g. business_hours = "mon-fri 09:00-17:00"',
            after,
        )
        zone = _expect(
            reader,
            "sla.timezone",
            table.get("timezone", "UTC"),
            str,
            'write e.g. timezone = "Europe/Berlin"',
            after,
        )
        try:
            hours = parse_business_hours(text, zone)
        except ValueError as error:
            raise reader.error(
                "sla.business_hours", str(error), 'write e.g. "mon-fri 09:00-17:00"', after
            ) from None
    elif "timezone" in table:
        raise reader.error(
            "sla.timezone", "has no business_hours to apply to", "add business_hours", after
        )
    return Sla(targets=targets, business_hours=hours)


def baseline(reader: _Reader, table: Any) -> Baseline:
    from tui.config import _expect

    _expect(reader, "baseline", table, dict, "use a [baseline] table", 0)
    after = reader.header_line("baseline")
    _unknown(reader, "baseline", table, {"weeks"}, after)
    weeks = _expect(reader, "baseline.weeks", table.get("weeks", 4), int, "give 1 to 12", after)
    if not 1 <= weeks <= 12:
        raise reader.error("baseline.weeks", f"{weeks} is out of range", "give 1 to 12", after)
    return Baseline(weeks)


_RULE_KEYS = {
    "name",
    "when",
    "notify",
    "sources",
    "tags",
    "terms",
    "labels",
    "min_followers",
    "metric",
    "window",
    "cooldown",
    "lead",
    "probability",
    "min_count",
    "silence",
}


def rules(reader: _Reader, items: Any, channel_names: set[str]) -> tuple[AlertRule, ...]:
    from tui.config import _expect, _str_list

    out: list[AlertRule] = []
    for after, item in _tables(reader, "alerts", items, _RULE_KEYS):
        when = _kind(reader, "alerts.when", item.get("when"), RULE_KINDS, "rule", after)
        name = _expect(reader, "alerts.name", item.get("name", when), str, "use a string", after)
        if not re.fullmatch(r"[\w.-]{1,40}", name):
            raise reader.error(
                "alerts.name",
                f"{name!r} is not a short name",
                "use letters, digits, - and _",
                after,
            )
        if any(rule.name == name for rule in out):
            raise reader.error(
                "alerts.name", f"duplicate rule name {name!r}", "give each rule its own name", after
            )
        values: dict[str, Any] = {"name": name, "when": when}
        for key in ("notify", "sources", "tags", "terms", "labels"):
            if key in item:
                values[key] = _str_list(
                    reader, f"alerts.{key}", item[key], "give a list of names", after
                )
        for label in values.get("labels", ()):
            if label not in LABELS:
                raise reader.error(
                    "alerts.labels", f"unknown label {label!r}", f"use {', '.join(LABELS)}", after
                )
        for channel in values.get("notify", ()):
            if channel not in channel_names:
                raise reader.error(
                    "alerts.notify",
                    f"no channel named {channel!r}",
                    "add a [[channels]] table with that name",
                    after,
                )
        if "tags" in values:
            from tui.core.text import normalize_tag

            values["tags"] = tuple(normalize_tag(tag) for tag in values["tags"])
        if "terms" in values:
            values["terms"] = tuple(term.lower() for term in values["terms"])
        for key in (
            "window",
            "cooldown",
            "lead",
        ):
            if key in item:
                values[key] = _duration(reader, f"alerts.{key}", item[key], after)
        if "window" in values and (values["window"] % 900 or not 900 <= values["window"] <= 86400):
            raise reader.error(
                "alerts.window",
                "must be whole quarters of an hour, 15m to 24h",
                'write e.g. "1h"',
                after,
            )
        if "metric" in item:
            if item["metric"] not in METRICS:
                raise reader.error(
                    "alerts.metric",
                    f"unknown metric {item['metric']!r}",
                    'use "negative" or "all"',
                    after,
                )
            values["metric"] = item["metric"]
        for key, low in (("min_followers", 0), ("min_count", 1)):
            if key in item:
                number = _expect(
                    reader, f"alerts.{key}", item[key], int, "give a whole number", after
                )
                if number < low:
                    raise reader.error(
                        f"alerts.{key}", f"{number} is below {low}", "give a larger number", after
                    )
                values[key] = number
        for key, (low, high) in (("probability", (1e-12, 0.5)), ("silence", (1.5, 1000.0))):
            if key in item:
                number = _expect(
                    reader, f"alerts.{key}", item[key], (int, float), "give a number", after
                )
                if not low <= number <= high:
                    raise reader.error(
                        f"alerts.{key}", f"{number} is out of range", f"give {low} to {high}", after
                    )
                values[key] = float(number)
        out.append(AlertRule(**values))
    return tuple(out)


_CHANNEL_KEYS = {"name", "kind", "url", "command", "secret_env", "env", "timeout"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def channels(reader: _Reader, items: Any) -> tuple[ChannelConfig, ...]:
    from tui.config import _expect, _str_list

    out: list[ChannelConfig] = []
    for after, item in _tables(reader, "channels", items, _CHANNEL_KEYS):
        kind = _kind(reader, "channels.kind", item.get("kind"), CHANNEL_KINDS, "channel", after)
        name = _expect(
            reader, "channels.name", item.get("name"), str, 'give it a name = "..."', after
        )
        if any(channel.name == name for channel in out):
            raise reader.error(
                "channels.name",
                f"duplicate channel name {name!r}",
                "give each channel its own name",
                after,
            )
        values: dict[str, Any] = {"name": name, "kind": kind}
        if kind == "command":
            values["command"] = _str_list(
                reader,
                "channels.command",
                item.get("command"),
                'write e.g. command = ["/usr/local/bin/page", "--team"]',
                after,
            )
            if not values["command"]:
                raise reader.error("channels.command", "is empty", "name the program to run", after)
            if "url" in item:
                raise reader.error(
                    "channels.url", "a command channel has no url", "remove url", after
                )
            if "env" in item:
                names = _str_list(
                    reader,
                    "channels.env",
                    item["env"],
                    'write e.g. env = ["PAGER_ROUTE"] (names, not values)',
                    after,
                )
                if not all(_VARIABLE.fullmatch(n) for n in names):
                    # Never echo the value: a secret pasted here must not reach any output.
                    raise reader.error(
                        "channels.env",
                        "must list names of environment variables, not their values",
                        'write e.g. env = ["PAGER_ROUTE"]; put a secret in secret_env',
                        after,
                    )
                values["env"] = tuple(names)
        else:
            url = _expect(
                reader,
                "channels.url",
                item.get("url"),
                str,
                'write e.g. url = "https://..."',
                after,
            )
            if not re.match(r"https?://[^\s/]+", url):
                raise reader.error(
                    "channels.url", "is not an http(s) URL", 'write e.g. url = "https://..."', after
                )
            values["url"] = url
            if "command" in item:
                raise reader.error(
                    "channels.command", f"a {kind} channel has no command", "remove command", after
                )
            if "env" in item:
                raise reader.error(
                    "channels.env", f"a {kind} channel runs no program", "remove env", after
                )
        if "secret_env" in item:
            secret = item["secret_env"]
            if not (isinstance(secret, str) and _VARIABLE.fullmatch(secret)):
                # Never echo the value: a secret pasted here must not reach any output.
                raise reader.error(
                    "channels.secret_env",
                    "must be the name of an environment variable, not the secret itself",
                    'write e.g. secret_env = "TRIAGE_HOOK_SECRET" and export it',
                    after,
                )
            values["secret_env"] = secret
        if "timeout" in item:
            values["timeout"] = _duration(reader, "channels.timeout", item["timeout"], after)
        out.append(ChannelConfig(**values))
    return tuple(out)
