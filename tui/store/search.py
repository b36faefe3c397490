"""Search text as FTS5 queries that stay fast at any table size.

What the operator types is never FTS syntax: it is split into words the way the index's
tokenizer (``unicode61 remove_diacritics 2``) splits text, and every word is quoted. Text in
double quotes is a phrase. The last word is a prefix while it is being typed (search as you
type), unless it closes a quoted phrase.

Cost. The list reads matches newest first (``ORDER BY rowid DESC``) and stops after a page.
FTS5 does that lazily for whole words and for prefixes that have a prefix index
(``prefix='2 3'`` on ``mentions_fts``), but any other prefix query first reads every row of
every word it matches, whatever the ``LIMIT``: ``parcel*`` read every mention of the brand.
So a longer prefix is looked up in ``search_terms`` (each distinct word of the index, kept in
the same transaction as the index) and searched as an OR of those words, which FTS5 again
reads lazily. A prefix of more than ``EXPAND_MAX`` words, each of them necessarily rarer,
is left to FTS5.

What is indexed is the text as it shows (``indexed``, the SQL function ``shown_text`` on every
connection): a word split by a zero-width space or coloured by an escape sequence is found by
the word the operator reads, and the search text is cleaned the same way. The index's content
table is the view ``mentions_shown`` (each mention's id, and its text and author as they
show), so every write to the index reads from it, and FTS5's ``rebuild`` and
``integrity-check`` see what was indexed. A change to ``for_display`` that changes what some
text shows as needs a migration that runs ``rebuild``: a ``delete`` must be given exactly what
was indexed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from tui.core.text import for_display

PREFIX_MIN = 2
"""The last word is matched as a prefix from this many characters on. A single character
stays a whole word: it would match most of the index."""
INDEXED_PREFIXES = (2, 3)
"""Prefix lengths with an FTS5 prefix index (``prefix='2 3'`` in the schema)."""
EXPAND_MAX = 200
"""A longer prefix is searched as an OR of at most this many words."""

TERM_TABLES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.new_terms USING fts5("
    " text, author, content='', detail=none, columnsize=0,"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.new_terms_vocab"
    " USING fts5vocab(temp, new_terms, 'row')",
)
"""Per connection: a scratch index with the same tokenizer, whose vocabulary is exactly the
words of the rows just written."""


def indexed(text: str) -> str:
    """The form of ``text`` the index holds: as ``for_display`` shows it (format characters
    gone, each escape sequence one mark, which the tokenizer takes for a space)."""
    return for_display(text)


def _is_diacritic(ch: str) -> bool:
    return "\u0300" <= ch <= "\u036f"


def words(text: str) -> list[str]:
    """``text`` split and folded as ``unicode61 remove_diacritics 2`` does: runs of letters,
    digits and private-use characters, lower-cased, combining accents removed."""
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Co":
            current.append(ch)
        elif _is_diacritic(ch):
            continue  # the tokenizer drops these inside a word
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return [_fold(word) for word in out]


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not _is_diacritic(c)))


@dataclass(frozen=True, slots=True)
class Search:
    """Parsed search text: phrases (a word is a phrase of one or more tokens) that must all
    match; ``prefix``: the last token of the last phrase is being typed."""

    phrases: tuple[tuple[str, ...], ...]
    prefix: bool

    @property
    def last(self) -> str:
        return self.phrases[-1][-1]

    @property
    def expands(self) -> bool:
        """The prefix is too long for a prefix index: look its words up."""
        return self.prefix and len(self.last) > max(INDEXED_PREFIXES)


def parse(text: str) -> Search | None:
    """The phrases of ``text``; None if it has no word to search for."""
    phrases: list[tuple[str, ...]] = []
    closed = False
    text = indexed(text)
    for index, part in enumerate(text.split('"')):
        quoted = index % 2 == 1
        if quoted:
            tokens = tuple(words(part))
            if tokens:
                phrases.append(tokens)
                closed = True
            continue
        for word in part.split():
            tokens = tuple(words(word))
            if tokens:
                phrases.append(tokens)
                closed = False
    if not phrases:
        return None
    # A quote that is still open (an odd count) leaves its phrase being typed.
    closed = closed and text.count('"') % 2 == 0 and text.rstrip().endswith('"')
    return Search(tuple(phrases), prefix=not closed and len(phrases[-1][-1]) >= PREFIX_MIN)


def _quoted(tokens: Sequence[str]) -> str:
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def fts_query(text: str | Search, expansions: Sequence[str] | None = None) -> str | None:
    """The FTS5 query for search text (None: nothing to search for).

    ``expansions``: the indexed words the last prefix stands for (see ``Search.expands``);
    without them (or with too many) the prefix is left to FTS5 as ``"word"*``.
    """
    search = parse(text) if isinstance(text, str) else text
    if search is None:
        return None
    parts = [_quoted(phrase) for phrase in search.phrases[:-1]]
    head, last = search.phrases[-1][:-1], search.last
    if not search.prefix:
        parts.append(_quoted((*head, last)))
    elif search.expands and expansions and len(expansions) <= EXPAND_MAX:
        parts.append("(" + " OR ".join(_quoted((*head, term)) for term in expansions) + ")")
    else:
        parts.append(_quoted((*head, last)) + "*")
    return " AND ".join(parts)


EXPANSIONS_SQL = "SELECT term FROM search_terms WHERE term >= ? ORDER BY term LIMIT ?"
"""The words from a prefix on, in order (parameters: the prefix, ``EXPAND_MAX + 1``); those
starting with the prefix come first (``starting_with``)."""


def starting_with(prefix: str, terms: Sequence[str]) -> list[str]:
    """The leading ``terms`` (sorted, from ``prefix`` on) that start with ``prefix``."""
    out = []
    for term in terms:
        if not term.startswith(prefix):
            break
        out.append(term)
    return out


FILL_TERMS_SQL = (
    "CREATE VIRTUAL TABLE temp.mentions_fts_terms USING fts5vocab(main, mentions_fts, 'row');"
    " INSERT OR IGNORE INTO search_terms(term) SELECT term FROM temp.mentions_fts_terms;"
    " DROP TABLE temp.mentions_fts_terms;"
)
"""Fills ``search_terms`` from the whole index (after a bulk load or a rebuild)."""


async def index_rows(db: aiosqlite.Connection, where: str, params: Sequence[Any]) -> None:
    """Put the mentions ``where`` selects (an SQL condition on ``id``) into the index and
    their words into ``search_terms``, in the caller's transaction. Their shown form is made
    once (``shown_text`` is a Python call per value) and read twice from a scratch table."""
    await db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS shown_rows(id INTEGER PRIMARY KEY, text, author)"
    )
    await db.execute(
        f"INSERT INTO temp.shown_rows SELECT id, text, author FROM mentions_shown WHERE {where}",
        params,
    )
    rows = "SELECT id, text, author FROM temp.shown_rows"
    await db.execute(f"INSERT INTO mentions_fts(rowid, text, author) {rows}")
    await record_terms(db, rows, ())
    await db.execute("DELETE FROM temp.shown_rows")


async def record_terms(db: aiosqlite.Connection, rows_sql: str, params: Sequence[Any]) -> None:
    """Add the words of the rows ``rows_sql`` selects (``id, text, author``) to ``search_terms``.

    Call it in the transaction that indexes those rows, so the words of a stored mention are
    always known to prefix search. The scratch index tokenizes exactly as ``mentions_fts``.
    """
    for sql in TERM_TABLES:
        await db.execute(sql)
    await db.execute(f"INSERT INTO temp.new_terms(rowid, text, author) {rows_sql}", params)
    await db.execute(
        "INSERT OR IGNORE INTO search_terms(term) SELECT term FROM temp.new_terms_vocab"
    )
    await db.execute("INSERT INTO temp.new_terms(new_terms) VALUES ('delete-all')")
