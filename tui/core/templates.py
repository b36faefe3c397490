"""Reply templates and placeholder filling.

Templates start a reply; the operator must still write the specifics of the case. Placeholders
are ``{author}``, ``{brand}`` and ``{operator}``; any other ``{...}`` is left as typed, so a
template can never fail to fill.

``reply_length`` counts a reply the way the network it goes to counts it against its limit
(``CHAR_LIMITS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    text: str


DEFAULT_TEMPLATES: tuple[Template, ...] = (
    Template(
        "Acknowledge",
        "Hi {author}, thanks for letting us know. We're looking into this now and will "
        "get back to you shortly. ^{operator}",
    ),
    Template(
        "Apologize",
        "Hi {author}, we're sorry about this, it isn't the experience {brand} wants for you. "
        "[what happened and what we are doing about it] ^{operator}",
    ),
    Template(
        "Offer a fix",
        "Hi {author}, here's what we can do: [the fix]. Does that work for you? ^{operator}",
    ),
    Template(
        "Move to private",
        "Hi {author}, we'd like to help. Could you send us a direct message with your "
        "account email so we can look into it? ^{operator}",
    ),
    Template(
        "Ask to update review",
        "Hi {author}, glad we could sort this out. If you have a moment, we'd appreciate an "
        "update to your review. ^{operator}",
    ),
    Template("Thanks", "Thank you {author}! That means a lot to the {brand} team. ^{operator}"),
)

CHAR_LIMITS: dict[str, int] = {
    "mastodon": 500,
    "bluesky": 300,
    "reddit": 10_000,
    "hackernews": 4_000,
}
"""Reply length limits per source kind (defaults; the config can override them)."""

_PLACEHOLDER = re.compile(r"\{(author|brand|operator)\}")
_FILL_IN = re.compile(r"\[[^\[\]\n]+\]")
"""A part of a template the operator writes (``[the fix]``)."""


def unfinished(text: str, templates: tuple[Template, ...]) -> list[str]:
    """The templates' fill-ins (``[the fix]``) still in ``text``, as written there: a reply
    holding one was never finished."""
    fill_ins = {part for t in templates for part in _FILL_IN.findall(t.text)}
    return [part for part in dict.fromkeys(_FILL_IN.findall(text)) if part in fill_ins]


def fill(text: str, *, author: str, brand: str, operator: str) -> str:
    values = {"author": _handle(author), "brand": brand, "operator": operator}
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


def _handle(author: str) -> str:
    author = author.strip()
    if not author:
        return "there"
    return author if author.startswith("@") or " " in author else f"@{author}"


# -- reply length, counted the way each network counts --------------------------------------

MASTODON_URL_LENGTH = 23
"""Mastodon counts every http(s) URL as this many characters, whatever its length."""

_GRAPHEME = regex.compile(r"\X")
_URL = re.compile(r"(?<![\w@])https?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"*_"
_REMOTE_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\w.-]*\w", re.IGNORECASE
)


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters): ``👨‍👩‍👧`` is 1, ``🇫🇷`` is 1,
    ``é`` written as ``e`` + a combining accent is 1."""
    if text.isascii():
        return len(text) - text.count("\r\n")  # CR LF is one cluster
    return len(_GRAPHEME.findall(text))


def _url_end(url: str) -> str:
    """A URL without the punctuation that ends the sentence around it."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def _mastodon_countable(text: str) -> str:
    def placeholder(match: re.Match[str]) -> str:
        url = _url_end(match[0])
        if len(url) <= len("https://"):
            return match[0]
        return "x" * MASTODON_URL_LENGTH + match[0][len(url) :]

    return _REMOTE_MENTION.sub(r"@\1", _URL.sub(placeholder, text))


def reply_length(kind: str, text: str) -> int:
    """The length of ``text`` as the network of source kind ``kind`` counts it against its limit.

    * ``mastodon``: grapheme clusters, with every http(s) URL counted as 23 and a remote
      mention ``@user@domain`` counted as ``@user`` (what the server's length check does).
    * ``bluesky``: grapheme clusters (the app's limit of 300 is in graphemes).
    * anything else: Unicode code points.
    """
    if kind == "mastodon":
        return graphemes(_mastodon_countable(text))
    if kind == "bluesky":
        return graphemes(text)
    return len(text)
