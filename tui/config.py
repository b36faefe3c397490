"""Configuration: TOML -> frozen, validated settings.

Unknown keys and wrong types are errors that name the key and its line, so a typo never
silently falls back to a default. Paths default to the platform's user directories
(``platformdirs``); ``$TRIAGE_CONFIG`` points at another config file (tests use it).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from tui import alert_config
from tui.alert_config import OnCall
from tui.core.sla import Sla
from tui.core.templates import DEFAULT_TEMPLATES, Template
from tui.core.text import normalize_tag
from tui.files import FileProblem, read_text

APP_NAME = "mention-triage"

DEFAULT_QUICK_TAGS = ("complaint", "question", "praise", "troll", "spam", "urgent")

SOURCE_KINDS: dict[str, frozenset[str]] = {
    "mastodon": frozenset({"hashtags", "search", "stream", "token_env"}),
    "bluesky": frozenset({"query", "handle_env", "password_env"}),
    "hackernews": frozenset({"query"}),
    "reddit": frozenset(
        {"query", "subreddits", "client_id_env", "client_secret_env", "user_agent"}
    ),
    "feed": frozenset({"url"}),
    "jsonl": frozenset({"path"}),
}
"""Each source kind's own keys, besides the common ones in ``SourceConfig``."""

DEFAULT_BASE_URLS = {
    "mastodon": "https://mastodon.social",
    "bluesky": "https://bsky.social",
    "hackernews": "https://hn.algolia.com",
    "reddit": "https://www.reddit.com",
    "feed": "",
    "jsonl": "",
}


class ConfigError(Exception):
    """A configuration problem; the message names the file, key and line, and the fix."""


def default_config_path() -> Path:
    env = os.environ.get("TRIAGE_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "mentions.db"


def parse_duration(text: str) -> float:
    """``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` or a bare number of seconds -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 2h)")
    number, unit = float(match[1]), match[2] or "s"
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


@dataclass(frozen=True, slots=True)
class SourceConfig:
    kind: str
    """One of ``SOURCE_KINDS``."""
    name: str
    """Unique name; stored with each mention as its ``source``."""
    base_url: str
    """API root; defaults to the public service (tests and self-hosted servers set it)."""
    interval: float = 60.0
    """Seconds between polls."""
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    """The kind's own keys (``hashtags``, ``query``, ``*_env`` ...)."""
    where: str = ""
    """``config.toml:12``, the line of its ``[[sources]]`` table, for error messages (empty
    for a source not read from a file)."""


@dataclass(frozen=True, slots=True)
class SentimentConfig:
    negative_threshold: float | None = None
    """Compound score at or below which a mention is negative (None: the scorer's default)."""
    positive_threshold: float | None = None
    """Compound score at or above which a mention is positive (None: the scorer's default)."""
    lexicon: Mapping[str, float] = field(default_factory=dict)
    """Extra word weights layered over the built-in lexicons (about -4 to +4)."""


DEFAULT_TAG_LABELS = {"complaint": "negative", "praise": "positive"}


@dataclass(frozen=True, slots=True)
class LearningConfig:
    """``[learning]``: the sentiment model learned from the team's own labels."""

    tags: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TAG_LABELS))
    """Tag -> label (``negative``, ``neutral``, ``positive``): a mention with the tag is a
    labelled example, as an override is (an override wins)."""
    retrain_after: int = 100
    """New label changes (overrides, mapped tags) after which the collector lease holder
    retrains on its own; 0 never retrains automatically (``triage learn`` still does)."""
    min_labels: int = 50
    """Fewer labelled mentions than this: no training (at least 30)."""
    folds: int = 5
    """Folds of the cross-validation that decides whether a model beats the lexicon."""


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    """The file this was read from, or None for the built-in defaults."""
    brand: str = "our team"
    """Fills ``{brand}`` in reply templates."""
    brand_terms: tuple[str, ...] = ()
    """Words removed before scoring (brand names are often sentiment words)."""
    operator: str | None = None
    """Display name recorded as ``by`` on events; default: the Unix user (events also record
    the Unix user itself, whatever this says)."""
    auto_snapshot: str = "off"
    """``"off"``, ``"negative"`` (every negative mention on arrival) or ``"all"``."""
    snapshot_fetch_private: bool = False
    """Fetch snapshot pages on loopback/private addresses too (off: a post's URL can never make
    the server fetch from its own network)."""
    quick_tags: tuple[str, ...] = DEFAULT_QUICK_TAGS
    """Tags on keys 1-9, in order, normalized like every tag (``normalize_tag``)."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Binding id -> key(s), e.g. ``snapshot = "S"``; see ``?`` in the app for the ids."""
    templates: tuple[Template, ...] = DEFAULT_TEMPLATES
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    sources: tuple[SourceConfig, ...] = ()
    char_limits: Mapping[str, int] = field(default_factory=dict)
    """Reply length limit per source kind, overriding the built-in ones."""
    learning: LearningConfig = field(default_factory=LearningConfig)
    on_call: OnCall = field(default_factory=OnCall)
    """``[sla]``, ``[baseline]``, ``[[alerts]]`` and ``[[channels]]`` (``tui.alert_config``)."""


def secret_names(config: Config) -> tuple[str, ...]:
    """Every environment variable the config names as holding a secret: each source's
    ``*_env`` options and each channel's ``secret_env``. Their values are scrubbed from what a
    delivery stores, logs or shows (``tui.channels``)."""
    names = {
        value
        for source in config.sources
        for key, value in source.options.items()
        if key.endswith("_env") and isinstance(value, str) and value
    }
    names |= {c.secret_env for c in config.on_call.channels if c.secret_env}
    return tuple(sorted(names))


MAX_OPERATOR = 64
"""The longest display name: it is shown on every other operator's screen."""

_TOP_KEYS = {
    "brand",
    "brand_terms",
    "operator",
    "auto_snapshot",
    "snapshot_fetch_private",
    "quick_tags",
    "keys",
    "templates",
    "sentiment",
    "sources",
    "char_limits",
    "learning",
    "sla",
    "baseline",
    "alerts",
    "channels",
}


_SEGMENT = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
_KEY = re.compile(rf"^\s*({_SEGMENT}(?:\s*\.\s*{_SEGMENT})*)\s*=")
"""A line that sets a key: the key quoted (with escapes), literal, bare, or dotted."""
_STRING_START = re.compile(r'"""|\'\'\'|"|\'|#')
_ONE_LINE_END = {'"': re.compile(r'(?:[^"\\]|\\.)*"'), "'": re.compile(r"[^']*'")}


def _open_at_end(line: str, delimiter: str | None) -> str | None:
    """The multi-line string (its delimiter) still open at the end of ``line``, given the one
    open at its start: one-line strings and comments are read past, so a triple quote in
    them opens nothing."""
    at = 0
    while True:
        if delimiter is not None:  # inside a multi-line string: find its end
            end = line.find(delimiter, at)
            if end < 0:
                return delimiter
            at, delimiter = end + 3, None
        found = _STRING_START.search(line, at)
        if found is None or found.group() == "#":
            return None  # the rest of the line is a comment, or there is no string
        quote = found.group()
        if len(quote) == 3:
            delimiter, at = quote, found.end()
            continue
        closed = _ONE_LINE_END[quote].match(line, found.end())
        if closed is None:
            return None  # an unclosed one-line string: TOML said where, if it is wrong
        at = closed.end()


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_SHOWN_KEY = 80
"""Characters of a key an error message shows (a key can be as long as its line)."""


def _key_of(line: str) -> str | None:
    """The key a line sets, decoded as TOML decodes it (``"\\u001b"`` is ESC), its parts
    joined with dots (``a.b = 1`` and ``"a.b" = 1`` both set ``a.b``), or None."""
    found = _KEY.match(line)
    if found is None:
        return None
    raw = found.group(1)
    if raw.replace("-", "").replace("_", "").isalnum():
        return raw
    try:
        table: Any = tomllib.loads(f"{raw} = 0")
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    parts: list[str] = []
    while isinstance(table, dict) and len(table) == 1:
        ((part, table),) = table.items()
        parts.append(part)
    return ".".join(parts)


def invalid_toml(path: Path, error: tomllib.TOMLDecodeError) -> ConfigError:
    """``config.toml:3: invalid TOML: …`` with the line where the parser stopped."""
    message = str(error)
    found = _TOML_POSITION.search(message)
    if found is None:
        return ConfigError(f"{path}: invalid TOML: {message}; fix the syntax there")
    line, column = found.groups()
    problem = message[: found.start()]
    return ConfigError(f"{path}:{line}: invalid TOML: {problem} (column {column}); fix it there")


class _Reader:
    """Finds the line of a key in the TOML text, for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.quoted = self._inside_multi_line_strings()
        """Line numbers inside a multi-line string: what they hold is text, not keys."""

    def _inside_multi_line_strings(self) -> set[int]:
        inside: set[int] = set()
        delimiter: str | None = None  # the multi-line string open at the end of a line
        for number, line in enumerate(self.lines, start=1):
            if delimiter is not None:
                inside.add(number)
            delimiter = _open_at_end(line, delimiter)
        return inside

    def _setting(self, key: str, after: int) -> int | None:
        """The first line after line ``after`` that sets ``key``."""
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if number not in self.quoted and _key_of(line) == key:
                return number
        return None

    def line_of(self, key: str, after: int = 0) -> int | None:
        """The line that sets ``key`` (a dotted path, as the error names it): a line after
        line ``after`` (its table's header) setting the whole path or a tail of it, longest
        first; else the header of the table holding it, or the line setting the inline table
        or array of tables it is in."""
        parts = key.split(".")
        for start in range(len(parts)):
            if line := self._setting(".".join(parts[start:]), after):
                return line
        for end in range(len(parts), 0, -1):
            head = ".".join(parts[:end])
            for number, line in enumerate(self.lines, start=1):
                if number not in self.quoted and re.match(
                    rf"^\s*\[\[?\s*{re.escape(head)}\s*\]", line
                ):
                    return number
            if line := self._setting(head, 0):
                return line
        return None

    def header_line(self, header: str) -> int:
        """The line of a ``[header]`` table (0 if there is none)."""
        for number, line in enumerate(self.lines, start=1):
            if number not in self.quoted and re.match(rf"^\s*\[\s*{re.escape(header)}\s*\]", line):
                return number
        return 0

    def table_line(self, header: str, index: int = 0) -> int:
        seen = -1
        for number, line in enumerate(self.lines, start=1):
            if number in self.quoted:
                continue
            if re.match(rf"^\s*\[\[\s*{re.escape(header)}\s*\]\]", line):
                seen += 1
                if seen == index:
                    return number
        return 0

    def error(self, key: str, problem: str, fix: str, after: int = 0) -> ConfigError:
        line = self.line_of(key, after)
        where = f"{self.path}:{line}" if line else str(self.path)
        shown = key if len(key) <= _SHOWN_KEY else key[: _SHOWN_KEY - 1] + "…"
        return ConfigError(f"{where}: {shown}: {problem}; {fix}")


def _expect(
    reader: _Reader, key: str, value: Any, kind: type | tuple[type, ...], fix: str, after: int = 0
) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise reader.error(key, f"expected a number, got {value!r}", fix, after)
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise reader.error(
            key, f"expected {_TYPE_WORDS.get(names, names)}, got {value!r}", fix, after
        )
    return value


_TYPE_WORDS = {
    "str": "a string",
    "list": "a list",
    "dict": "a table",
    "bool": "true or false",
    "int": "an integer",
    "int or float": "a number",
}


def _str_list(reader: _Reader, key: str, value: Any, fix: str, after: int = 0) -> tuple[str, ...]:
    _expect(reader, key, value, list, fix, after)
    for item in value:
        _expect(reader, key, item, str, fix, after)
    return tuple(value)


def _known_keys(
    reader: _Reader, prefix: str, table: Mapping[str, Any], allowed: set[str], after: int
) -> None:
    """An error naming the first key of ``table`` (a ``[prefix]`` table) not in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise reader.error(
                f"{prefix}.{key}",
                "unknown key",
                f"valid keys are {', '.join(sorted(allowed))}",
                after,
            )


def config_error(config: Config, key: str, problem: str, fix: str) -> ConfigError:
    """An error about ``key`` found after loading (e.g. by the UI), with its line if known."""
    if config.path is None:
        return ConfigError(f"{key}: {problem}; {fix}")
    try:
        text = config.path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    reader = _Reader(config.path, text)
    table = key.rsplit(".", 1)[0] if "." in key else ""
    return reader.error(key, problem, fix, reader.header_line(table) if table else 0)


# -- the [keys] table against the app's bindings ----------------------------------------------


@dataclass(frozen=True, slots=True)
class KeySlot:
    """One binding that ``[keys]`` entries are checked against (the UI lists them)."""

    scope: str
    """Where it is in force ("main screen", "reply editor"). Keys clash only within a scope: a
    screen's bindings are not in force while another (modal) screen is open."""
    keys: tuple[str, ...]
    """Its default keys, as key names (``question_mark``, not ``?``)."""
    action: str
    """What it does; two slots with the same action on one key do not clash."""
    id: str | None = None
    """Its binding id, which ``[keys]`` remaps; None for a key the config cannot remap."""
    name: str = ""
    """How an error names a slot without an id (e.g. "the command palette (built in)")."""
    takes: Callable[[str], bool] | None = None
    """Any further keys it takes (a text box takes every printable key: typing)."""

    @property
    def label(self) -> str:
        return self.id or self.name or self.action


def _split_keys(keys: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in keys.split(","))


def keymap_problems(
    config: Config,
    slots: Sequence[KeySlot],
    normalize: Callable[[str], tuple[str, ...]] = _split_keys,
) -> list[ConfigError]:
    """Every ``[keys]`` entry that names no binding id, or that takes a key another binding in
    the same scope has (after the whole table is applied, so swapping two keys is fine).

    ``normalize`` turns a ``[keys]`` value into key names the way the UI does (``?`` ->
    ``question_mark``); it raises ``ValueError`` for a value it cannot read.
    """
    known = sorted({slot.id for slot in slots if slot.id})
    problems: list[ConfigError] = []
    remapped: dict[str, tuple[str, ...]] = {}
    for name, value in config.keys.items():
        if name not in known:
            fix = f"valid ids are {', '.join(known)}"
            problems.append(config_error(config, f"keys.{name}", "unknown binding id", fix))
            continue
        try:
            remapped[name] = normalize(value)
        except ValueError as error:
            problems.append(
                config_error(config, f"keys.{name}", str(error), 'write e.g. snapshot = "S"')
            )
    order = list(config.keys)
    reported: set[frozenset[str]] = set()
    for scope in dict.fromkeys(slot.scope for slot in slots):
        owners: dict[str, list[KeySlot]] = {}
        for slot in slots:
            if slot.scope != scope:
                continue
            keys = remapped.get(slot.id, slot.keys) if slot.id else slot.keys
            for key in dict.fromkeys(keys):
                owners.setdefault(key, []).append(slot)
        for slot in slots:
            if slot.scope == scope and slot.takes is not None:
                for key, owning in owners.items():
                    if slot not in owning and slot.takes(key):
                        owning.append(slot)
        for key, owning in owners.items():
            moved = sorted(
                (slot for slot in owning if slot.id in remapped), key=lambda s: order.index(s.id)
            )
            if not moved:
                continue  # the defaults, as shipped
            mine = moved[0]
            for other in owning:
                pair = frozenset((mine.label, other.label, key))
                if other is mine or other.action == mine.action or pair in reported:
                    continue
                reported.add(pair)
                fix = (
                    f"give {mine.id} another key, or remap {other.id} too"
                    if other.id
                    else f"give {mine.id} another key ({other.label} cannot be remapped)"
                )
                problems.append(
                    config_error(
                        config,
                        f"keys.{mine.id}",
                        f"key {key!r} is also the key of {other.label} on the {scope}",
                        fix,
                    )
                )
    return problems


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """Read and validate the config; a missing default file means built-in defaults."""
    explicit = path is not None or bool(os.environ.get("TRIAGE_CONFIG"))
    path = path or default_config_path()
    if not path.exists():
        if required or explicit:
            raise ConfigError(
                f"{path}: config file not found; create it from config.example.toml "
                "or pass --config with an existing file"
            )
        return Config()
    try:
        text = read_text(path, kind="config file")
    except FileProblem as error:
        raise ConfigError(str(error)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise invalid_toml(path, error) from error
    return _build(_Reader(path, text), data)


def _build(reader: _Reader, data: dict[str, Any]) -> Config:
    for key in data:
        if key not in _TOP_KEYS:
            raise reader.error(key, "unknown key", f"valid keys are {', '.join(sorted(_TOP_KEYS))}")
    values: dict[str, Any] = {"path": reader.path}
    if "brand" in data:
        values["brand"] = _expect(reader, "brand", data["brand"], str, 'write e.g. brand = "Acme"')
    if "brand_terms" in data:
        values["brand_terms"] = _str_list(
            reader, "brand_terms", data["brand_terms"], 'write e.g. brand_terms = ["acme", "@acme"]'
        )
    if "operator" in data:
        operator = _expect(reader, "operator", data["operator"], str, "use a name")
        if len(operator) > MAX_OPERATOR:
            raise reader.error(
                "operator",
                f"{len(operator)} characters, at most {MAX_OPERATOR}",
                "use a shorter display name",
            )
        values["operator"] = operator
    if "auto_snapshot" in data:
        mode = data["auto_snapshot"]
        if mode not in ("off", "negative", "all"):
            raise reader.error(
                "auto_snapshot", f"unknown mode {mode!r}", 'use "off", "negative" or "all"'
            )
        values["auto_snapshot"] = mode
    if "snapshot_fetch_private" in data:
        values["snapshot_fetch_private"] = _expect(
            reader,
            "snapshot_fetch_private",
            data["snapshot_fetch_private"],
            bool,
            "use true or false",
        )
    if "quick_tags" in data:
        tags = _str_list(reader, "quick_tags", data["quick_tags"], "give up to nine tag names")
        if len(tags) > 9:
            raise reader.error("quick_tags", f"{len(tags)} tags, at most nine", "shorten the list")
        normalized: list[str] = []
        for tag in tags:
            try:
                normalized.append(normalize_tag(tag))
            except ValueError as error:
                raise reader.error("quick_tags", str(error), "fix or remove that entry") from None
            if normalized[-1] in normalized[:-1]:
                raise reader.error(
                    "quick_tags",
                    f"{tag!r} is the same tag as an earlier entry ({normalized[-1]!r})",
                    "remove one of them",
                )
        values["quick_tags"] = tuple(normalized)
    if "keys" in data:
        keys = _expect(reader, "keys", data["keys"], dict, "use a [keys] table")
        after = reader.header_line("keys")
        for name, key in keys.items():
            example = 'write e.g. snapshot = "S", or several keys as "S,ctrl+s"'
            _expect(reader, f"keys.{name}", key, str, example, after)
            if any(not part.strip() for part in key.split(",")):
                raise reader.error(f"keys.{name}", f"empty key in {key!r}", example, after)
        values["keys"] = dict(keys)
    if "char_limits" in data:
        limits = _expect(
            reader, "char_limits", data["char_limits"], dict, "use a [char_limits] table"
        )
        after = reader.header_line("char_limits")
        for name, limit in limits.items():
            if name not in SOURCE_KINDS:
                raise reader.error(
                    f"char_limits.{name}",
                    "unknown source kind",
                    f"use one of {', '.join(sorted(SOURCE_KINDS))}",
                    after,
                )
            _expect(reader, f"char_limits.{name}", limit, int, "give a number of characters", after)
        values["char_limits"] = dict(limits)
    if "templates" in data:
        values["templates"] = _templates(reader, data["templates"])
    if "sentiment" in data:
        values["sentiment"] = _sentiment(reader, data["sentiment"])
    if "learning" in data:
        values["learning"] = _learning(reader, data["learning"])
    if "sources" in data:
        values["sources"] = _sources(reader, data["sources"])
    values["on_call"] = _on_call(reader, data)
    return Config(**values)


def _on_call(reader: _Reader, data: dict[str, Any]) -> OnCall:
    found = alert_config.channels(reader, data["channels"]) if "channels" in data else ()
    return OnCall(
        sla=alert_config.sla(reader, data["sla"]) if "sla" in data else Sla(),
        rules=alert_config.rules(reader, data["alerts"], {c.name for c in found})
        if "alerts" in data
        else (),
        channels=found,
        baseline=alert_config.baseline(reader, data["baseline"])
        if "baseline" in data
        else alert_config.Baseline(),
    )


def _templates(reader: _Reader, items: Any) -> tuple[Template, ...]:
    _expect(reader, "templates", items, list, "use [[templates]] tables with name and text")
    templates = []
    for index, item in enumerate(items):
        after = reader.table_line("templates", index)
        _expect(reader, "templates", item, dict, "use [[templates]] tables", after)
        unknown = set(item) - {"name", "text"}
        if unknown:
            raise reader.error(
                f"templates.{min(unknown)}", "unknown key", "a template has name and text", after
            )
        for key in ("name", "text"):
            if key not in item:
                raise reader.error(
                    "templates", f"template {index + 1} has no {key}", f'add {key} = "..."', after
                )
            _expect(reader, f"templates.{key}", item[key], str, "use a string", after)
        templates.append(Template(item["name"], item["text"]))
    return tuple(templates)


def _sentiment(reader: _Reader, table: Any) -> SentimentConfig:
    _expect(reader, "sentiment", table, dict, "use a [sentiment] table")
    allowed = {"negative_threshold", "positive_threshold", "lexicon"}
    for key in table:
        if key not in allowed:
            raise reader.error(
                f"sentiment.{key}", "unknown key", f"valid keys are {', '.join(sorted(allowed))}"
            )
    values: dict[str, Any] = {}
    for key in ("negative_threshold", "positive_threshold"):
        if key in table:
            value = _expect(
                reader,
                f"sentiment.{key}",
                table[key],
                (int, float),
                "give a number between -1 and 1",
            )
            if not -1 <= value <= 1:
                raise reader.error(
                    f"sentiment.{key}",
                    f"{value} is outside -1..1",
                    "give a number between -1 and 1",
                )
            values[key] = float(value)
    if values.get("negative_threshold", -1) >= values.get("positive_threshold", 1):
        raise reader.error(
            "sentiment.negative_threshold", "must be below positive_threshold", "lower it"
        )
    if "lexicon" in table:
        lexicon = _expect(
            reader, "sentiment.lexicon", table["lexicon"], dict, "use a [sentiment.lexicon] table"
        )
        for word, weight in lexicon.items():
            _expect(
                reader,
                f"sentiment.lexicon.{word}",
                weight,
                (int, float),
                'write e.g. "outage" = -2.5',
            )
        values["lexicon"] = {word.lower(): float(weight) for word, weight in lexicon.items()}
    return SentimentConfig(**values)


def _learning(reader: _Reader, table: Any) -> LearningConfig:
    _expect(reader, "learning", table, dict, "use a [learning] table")
    after = reader.header_line("learning")
    _known_keys(reader, "learning", table, {"tags", "retrain_after", "min_labels", "folds"}, after)
    values: dict[str, Any] = {}
    limits = {"retrain_after": (0, None), "min_labels": (30, None), "folds": (2, 20)}
    for key, (low, high) in limits.items():
        if key not in table:
            continue
        fix = f"give a whole number of at least {low}" + (f" and at most {high}" if high else "")
        number = _expect(reader, f"learning.{key}", table[key], int, fix, after)
        if number < low or (high is not None and number > high):
            raise reader.error(f"learning.{key}", f"{number} is out of range", fix, after)
        values[key] = number
    if "tags" in table:
        tags = _expect(
            reader,
            "learning.tags",
            table["tags"],
            dict,
            'use a [learning.tags] table, e.g. complaint = "negative"',
            after,
        )
        mapping: dict[str, str] = {}
        tags_line = reader.header_line("learning.tags") or after
        for tag, label in tags.items():
            fix = 'map the tag to "negative", "neutral" or "positive"'
            _expect(reader, f"learning.tags.{tag}", label, str, fix, tags_line)
            if label not in ("negative", "neutral", "positive"):
                raise reader.error(
                    f"learning.tags.{tag}", f"unknown label {label!r}", fix, tags_line
                )
            try:
                mapping[normalize_tag(tag)] = label
            except ValueError as error:
                raise reader.error(
                    f"learning.tags.{tag}", str(error), "fix or remove that tag", tags_line
                ) from None
        values["tags"] = mapping
    return LearningConfig(**values)


def _sources(reader: _Reader, items: Any) -> tuple[SourceConfig, ...]:
    _expect(reader, "sources", items, list, "use [[sources]] tables")
    sources: list[SourceConfig] = []
    names: set[str] = set()
    for index, item in enumerate(items):
        after = reader.table_line("sources", index)
        _expect(reader, "sources", item, dict, "use [[sources]] tables", after)
        kind = item.get("kind")
        if kind not in SOURCE_KINDS:
            raise reader.error(
                "sources.kind",
                f"unknown or missing source kind {kind!r}",
                f"use one of {', '.join(sorted(SOURCE_KINDS))}",
                after,
            )
        common = {"kind", "name", "base_url", "interval", "enabled"}
        for key in item:
            if key not in common and key not in SOURCE_KINDS[kind]:
                valid = ", ".join(sorted(common | SOURCE_KINDS[kind]))
                raise reader.error(
                    f"sources.{key}",
                    f"unknown key for a {kind} source",
                    f"valid keys are {valid}",
                    after,
                )
        name = _expect(reader, "sources.name", item.get("name", kind), str, "use a string", after)
        if name in names:
            raise reader.error(
                "sources.name",
                f"duplicate source name {name!r}",
                "give each source its own name",
                after,
            )
        names.add(name)
        base_url = _expect(
            reader,
            "sources.base_url",
            item.get("base_url", DEFAULT_BASE_URLS[kind]),
            str,
            "use a URL",
            after,
        )
        interval_text = _expect(
            reader,
            "sources.interval",
            item.get("interval", "60s"),
            (str, int, float),
            'write e.g. interval = "60s"',
            after,
        )
        try:
            interval = parse_duration(str(interval_text))
        except ValueError as error:
            raise reader.error(
                "sources.interval", str(error), 'write e.g. interval = "60s"', after
            ) from error
        enabled = _expect(
            reader, "sources.enabled", item.get("enabled", True), bool, "use true or false", after
        )
        options = {k: v for k, v in item.items() if k in SOURCE_KINDS[kind]}
        for key, value in options.items():
            if key.endswith("_env") and not (
                isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)
            ):
                # Never echo the value: a secret pasted here must not reach any output.
                raise reader.error(
                    f"sources.{key}",
                    "must be the name of an environment variable, not the secret itself",
                    'write e.g. token_env = "MASTODON_TOKEN" and export MASTODON_TOKEN',
                    after,
                )
        where = f"{reader.path}:{after}" if after else str(reader.path)
        sources.append(
            SourceConfig(kind, name, base_url.rstrip("/"), interval, enabled, options, where)
        )
    return tuple(sources)
