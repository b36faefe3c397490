"""Reply templates and placeholder filling.

Templates start a reply; the operator must still write the specifics of the case. Placeholders
are ``{author}``, ``{brand}`` and ``{operator}``; any other ``{...}`` is left as typed, so a
template can never fail to fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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


def fill(text: str, *, author: str, brand: str, operator: str) -> str:
    values = {"author": _handle(author), "brand": brand, "operator": operator}
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


def _handle(author: str) -> str:
    author = author.strip()
    if not author:
        return "there"
    return author if author.startswith("@") or " " in author else f"@{author}"
