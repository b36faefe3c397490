"""Search: results newest first, prefixes matched as FTS5 would, hostile text never FTS syntax,
and the queries the list issues read the index newest first without sorting."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from tui.core.model import Filter, IncomingMention, Score
from tui.store import Store
from tui.store.schema import MIGRATIONS
from tui.store.search import EXPAND_MAX, fts_query, indexed, parse, words

NEUTRAL = Score(0.0, "neutral", ())
NEG = Score(-0.6, "negative", ())


def post(n: int, text: str, author: str = "") -> IncomingMention:
    return IncomingMention("demo", f"p{n}", text, author or f"user{n}")


async def add(store: Store, texts: list[str], score: Score = NEUTRAL) -> list[int]:
    return await store.add_mentions([post(n, t) for n, t in enumerate(texts)], [score] * len(texts))


async def found(store: Store, search: str, **filters: object) -> list[int]:
    return [r.id for r in await store.page_before(Filter(search=search, **filters), None, 1000)]  # type: ignore[arg-type]


def native(db_path: Path, query: str) -> list[int]:
    """What FTS5 itself returns for ``query``, newest first (the reference)."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ? ORDER BY rowid DESC",
            (query,),
        ).fetchall()
    return [r[0] for r in rows]


TRICKY = (
    "Café naïve cafe\u0301 ÆØÅ straße İstanbul don't e-mail @parcelly #4821 x_y a.b "
    "中文字 日本語テキスト ＦＵＬＬ ﬁne Ωmega ǅemal ½ ² ⅷ 😡emoji привет Ünïcödé"
)


def test_words_split_and_fold_like_the_index_tokenizer() -> None:
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        db.execute("INSERT INTO t(x) VALUES (?)", (TRICKY,))
        tokens = [r[0] for r in db.execute("SELECT term FROM v ORDER BY offset")]
    assert words(TRICKY) == tokens
    assert words("Parcelly's DELIVERY") == ["parcelly", "s", "delivery"]


def test_parse_phrases_and_the_prefix_being_typed() -> None:
    assert fts_query("late parc") == '"late" AND "parc"*'
    assert fts_query("late pa") == '"late" AND "pa"*'
    assert fts_query("late p") == '"late" AND "p"'  # one character: a whole word
    assert fts_query('"charged twice"') == '"charged twice"'  # a closed phrase is complete
    assert fts_query('"charged tw') == '"charged tw"*'  # an open phrase is being typed
    assert fts_query('"charged twice" ref') == '"charged twice" AND "ref"*'
    assert fts_query("don't") == '"don t"'  # its last token is one character
    assert fts_query("parc", ["parcel", "parcelly"]) == '("parcel" OR "parcelly")'
    assert fts_query("late parc", ["parcel"]) == '"late" AND ("parcel")'
    assert fts_query('"out for deliv', ["delivered", "delivery"]) == (
        '("out for delivered" OR "out for delivery")'
    )
    too_many = [f"parc{i}" for i in range(EXPAND_MAX + 1)]
    assert fts_query("parc", too_many) == '"parc"*'  # left to FTS5
    for hostile in ('"', "*", "-", "( ) ^ : + {", "😡"):
        assert fts_query(hostile) is None, hostile
    assert fts_query("NEAR(") == '"near"*'
    assert (
        fts_query("NEAR( a* -b OR NOT c:d") == '"near" AND "a" AND "b" AND "or" AND "not" AND "c d"'
    )
    search = parse("Café déli")
    assert search is not None and search.last == "deli" and search.expands


async def test_results_are_newest_first_and_match_fts5_prefix_semantics(
    store: Store, db_path: Path
) -> None:
    texts = [
        "parcel late again",
        "my parcelly plan",
        "PARCELS everywhere",
        "a park nearby",
        "the delivery was fine",
        "delivered on time, parcel intact",
        "Café déjà vu",
        "pa pa pa",
        "nothing here",
    ]
    ids = await add(store, texts)
    assert ids == sorted(ids)
    for search, fts in (
        ("parc", '"parc"*'),  # four characters: expanded to the words it stands for
        ("parcel", '"parcel"*'),
        ("parcelly", '"parcelly"*'),
        ("pa", '"pa"*'),  # prefix index
        ("par", '"par"*'),
        ("deliv", '"deliv"*'),
        ("late parc", '"late" AND "parc"*'),
        ("cafe", '"cafe"*'),
        ("CAFÉ", '"cafe"*'),
        ("deja", '"deja"*'),
        ("user3", '"user3"*'),  # authors are searched too
    ):
        expected = native(db_path, fts)
        assert expected, search
        assert await found(store, search) == expected, search
    assert await found(store, "parc") == [ids[5], ids[2], ids[1], ids[0]]
    assert await store._match(Filter(search="parc")) == '("parcel" OR "parcelly" OR "parcels")'
    assert await found(store, "zzz") == []


async def test_phrases_match_words_in_order(store: Store) -> None:
    ids = await add(store, ["I was charged twice", "twice charged, oddly", "charged twenty times"])
    assert await found(store, '"charged twice"') == [ids[0]]
    assert await found(store, '"charged tw') == [ids[2], ids[0]]  # open phrase, prefix
    assert await found(store, "charged twice") == [ids[1], ids[0]]  # words, any order
    assert await found(store, '"charged twi') == [ids[0]]


async def test_a_prefix_of_many_words_still_matches_all_of_them(
    store: Store, db_path: Path
) -> None:
    many = [f"order{i:04d} arrived" for i in range(EXPAND_MAX + 50)]
    await add(store, [*many, "orderly queue"])
    expected = native(db_path, '"orde"*')
    assert len(expected) == len(many) + 1
    assert await found(store, "orde") == expected
    assert await found(store, "order00") == native(db_path, '"order00"*')


async def test_words_of_edited_and_new_posts_are_found_by_prefix(store: Store) -> None:
    (first,) = await add(store, ["original words"])
    assert await found(store, "origi") == [first]
    assert await store.replace_text("demo", "p0", "rewritten sentence", NEUTRAL, b"")
    assert await found(store, "rewrit") == [first]
    # Found through the recorded words, not through FTS5's own (slow) prefix scan.
    assert await store._match(Filter(search="rewrit")) == '("rewritten")'
    assert await found(store, "origi") == []
    later = await store.add_mentions([post(9, "brandnewword")], [NEUTRAL])
    assert await found(store, "brandn") == later
    assert await store._match(Filter(search="brandn")) == '("brandnewword")'


async def test_paging_and_counting_with_a_search(store: Store) -> None:
    ids = await add(store, [f"refund number {i}" if i % 2 else f"other {i}" for i in range(40)])
    matching = [i for n, i in enumerate(ids) if n % 2][::-1]  # newest first
    filt = Filter(search="refu")
    first = await store.page_before(filt, None, 5)
    assert [r.id for r in first] == matching[:5]
    second = await store.page_before(filt, first[-1].id, 5)
    assert [r.id for r in second] == matching[5:10]
    back = await store.page_after(filt, second[-1].id, 5)
    assert [r.id for r in back] == matching[4:9]
    assert await store.count_newer(filt, matching[10]) == 10
    assert await store.count_newer(filt, matching[10], cap=3) == 3
    assert await store.count_newer(Filter(search="refunds"), 0) == 0


async def test_search_combines_with_the_other_filters(store: Store) -> None:
    neg = await add(store, ["refund late", "refund never came"], NEG)
    await store.add_mentions([post(5, "refund done, thanks")], [NEUTRAL])
    await store.add_tag(neg[1], "billing")
    assert await found(store, "refun", negative_only=True) == [neg[1], neg[0]]
    assert await found(store, "refun", tag="billing") == [neg[1]]
    assert await found(store, "refun", source="elsewhere") == []
    assert await store.count_newer(Filter(search="refun", negative_only=True), 0) == 2
    assert await store.count_newer(Filter(search="refun", tag="billing"), 0) == 1
    assert await store.count_newer(Filter(search="refun"), neg[0]) == 2


async def test_hostile_search_text_never_breaks_the_query(store: Store) -> None:
    ids = await add(store, ['quote " NEAR( AND * -x', "plain text", "column:value (x) ^y"])
    for text in (
        '"',
        '""',
        '"""',
        "*",
        "-",
        "NEAR(",
        "NEAR(a b",
        "AND",
        "OR NOT",
        "^",
        ":",
        "a:b",
        "(",
        ")",
        "{col}",
        "x*y",
        "'",
        "\\",
        "\x00",
        "😡",
        "-x",
        '"NEAR( AND',
    ):
        await store.page_before(Filter(search=text), None, 10)
        await store.page_after(Filter(search=text), None, 10)
        await store.count_newer(Filter(search=text), 0)
    assert await found(store, '" NEAR( AND') == [ids[0]]
    assert await found(store, "column:value") == [ids[2]]
    r = random.Random(7)
    alphabet = "\"*-()^:+{}NEARORNOTAND ab\\'."
    for _ in range(300):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(1, 12)))
        await store.page_before(Filter(search=text), None, 10)


async def test_list_queries_read_the_index_newest_first_without_sorting(store: Store) -> None:
    await add(store, ["refund please", "refund late"])
    for filt in (
        Filter(search="refund"),
        Filter(search="re"),
        Filter(search="refu"),
        Filter(search="refund", negative_only=True),
        Filter(search="refund", tag="billing"),
        Filter(search="refund", source="demo", status="new"),
    ):
        sql, params = store._filtered(filt, await store._match(filt))
        for op, order, count in (("<", "DESC", False), (">", "ASC", False), (">", "ASC", True)):
            query = sql.format(op=op, order=order)
            query = f"SELECT count(*) FROM (SELECT 1 {query})" if count else f"SELECT m.id {query}"
            plan = [r[3] for r in await store._all("EXPLAIN QUERY PLAN " + query, [*params, 1, 9])]
            assert not any("TEMP B-TREE" in step for step in plan), (filt, plan)
            scans = [step for step in plan if step.startswith("SCAN") and "subquery" not in step]
            assert scans and all("VIRTUAL TABLE" in step for step in scans), (filt, plan)


async def test_words_are_found_as_they_show(store: Store, db_path: Path) -> None:
    """A zero-width space, a soft hyphen or a colour code splits a word only in the bytes:
    the operator reads "refund" and "red", and searching those finds the posts."""
    ids = await add(store, ["ref\u200bund please", "\x1b[31mred\x1b[0m alert", "re\u00adturn it"])
    assert await found(store, "refund") == [ids[0]]
    assert await found(store, "red") == [ids[1]]
    assert await found(store, "return") == [ids[2]]
    assert await found(store, "retu") == [ids[2]]  # the words for prefixes are as shown too
    assert await found(store, "und") == []  # not the fragments the bytes held
    assert await found(store, "ref\u200bund") == [ids[0]]  # pasted as it came
    # an edit takes the old words out of the index and puts the new ones in, as shown, and
    # the words prefix search looks up are those too ("repl" stands for "replaced")
    await add(store, ["replay the video"], NEUTRAL)
    assert await store.replace_text("demo", "p0", "re\u200bplaced text", NEUTRAL, b"")
    assert await found(store, "replaced") == [ids[0]]
    assert ids[0] in await found(store, "repla") and await found(store, "refund") == []
    assert "replaced" in (await store._match(Filter(search="repla")) or "")

    def check(db: sqlite3.Connection) -> None:
        # against the content too (rank 1): the index holds what its content view shows
        db.execute("INSERT INTO mentions_fts(mentions_fts, rank) VALUES ('integrity-check', 1)")

    with sqlite3.connect(db_path) as db:
        db.create_function("shown_text", 1, indexed, deterministic=True)
        check(db)
        db.execute("INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild')")
        check(db)
    assert await found(store, "replaced") == [ids[0]] and await found(store, "red") == [ids[1]]


async def test_an_older_database_is_indexed_as_it_shows(db_path: Path) -> None:
    with sqlite3.connect(db_path, isolation_level=None) as db:
        for number, script in enumerate(MIGRATIONS[:11]):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
        db.execute(
            "INSERT INTO mentions(id, source, external_id, author, text, created_at,"
            " collected_at, label) VALUES (1, 'demo', 'a', 'al', 'ref\u200bund due', 0, 0, 'x')"
        )
        db.execute(
            "INSERT INTO mentions_fts(rowid, text, author) VALUES (1, 'ref\u200bund due', 'al')"
        )
    store = await Store.open(db_path, "tester")
    try:
        assert await found(store, "refund") == [1]
        assert await found(store, "refu") == [1]
        assert await store._match(Filter(search="refu")) == '("refund")'
    finally:
        await store.close()


async def test_an_older_database_gains_prefix_indexes_and_terms(db_path: Path) -> None:
    with sqlite3.connect(db_path, isolation_level=None) as db:
        for number, script in enumerate(MIGRATIONS[:5]):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
        db.execute(
            "INSERT INTO mentions(id, source, external_id, author, text, created_at,"
            " collected_at, label) VALUES (1, 'demo', 'a', 'al', 'parcel delayed', 0, 0, 'neutral')"
        )
        db.execute(
            "INSERT INTO mentions_fts(rowid, text, author) VALUES (1, 'parcel delayed', 'al')"
        )
    store = await Store.open(db_path, "tester")
    try:
        assert await found(store, "delay") == [1]
        assert await found(store, "pa") == [1]
        assert await store._match(Filter(search="delay")) == '("delayed")'
    finally:
        await store.close()
    with sqlite3.connect(db_path) as db:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'mentions_fts'").fetchone()
    assert "prefix='2 3'" in sql


@pytest.mark.parametrize(
    ("text", "expansions"),
    [("parcel", ["parcel", "parcels"]), ("deliv", ["deliver", "delivered"]), ("the", None)],
)
def test_every_expanded_query_is_valid_fts5(text: str, expansions: list[str] | None) -> None:
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(x, prefix='2 3')")
        db.execute("INSERT INTO t(x) VALUES ('the parcel was delivered')")
        db.execute("INSERT INTO t(x) VALUES ('nothing to see')")
        query = fts_query(text, expansions)
        assert db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()[0] == 1
