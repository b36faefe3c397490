"""Tags have one form, made by ``normalize_tag``, on every path: the store, the config's quick
tags, and the command line's ``--tag`` filter."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tui.cli import main
from tui.config import ConfigError, load_config
from tui.core.model import Filter, IncomingMention, Score, utcnow
from tui.store import Store


async def _one_mention(store: Store) -> int:
    (mid,) = await store.add_mentions(
        [IncomingMention("mastodon", "1", "late again", "ann", None, utcnow())],
        [Score(-0.5, "negative", ())],
    )
    return mid


async def test_the_store_normalizes_every_tag(store: Store, db_path: Path) -> None:
    mid = await _one_mention(store)
    assert await store.add_tag(mid, "#Billing  Issue") == ("billing issue",)
    assert await store.add_tag(mid, "##billing issue") == ("billing issue",)  # the same tag
    assert await store.add_tag(mid, "Urgent\n") == ("billing issue", "urgent")
    with pytest.raises(ValueError, match="empty tag"):
        await store.add_tag(mid, " ## ")
    assert await store.remove_tag(mid, "#BILLING issue") == ("urgent",)
    assert [r.id for r in await store.page_before(Filter(tag="urgent"), None, 10)] == [mid]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT tag FROM mention_tags").fetchall() == [("urgent",)]
        events = conn.execute("SELECT action, detail FROM events ORDER BY id").fetchall()
    assert events == [
        ("tag", "billing issue"),
        ("tag", "urgent"),
        ("untag", "billing issue"),
    ]


async def test_a_tag_stored_before_normalizing_can_still_be_removed(
    store: Store, db_path: Path
) -> None:
    mid = await _one_mention(store)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE mentions SET tags = '##Old Tag' WHERE id = ?", (mid,))
        conn.execute("INSERT INTO mention_tags(tag, mention_id) VALUES ('##Old Tag', ?)", (mid,))
    assert await store.remove_tag(mid, "##Old Tag") == ()


def _config(tmp_path: Path, tags: list[str]) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"brand = 'Acme'\nquick_tags = {json.dumps(tags)}\n", encoding="utf-8")
    return path


def test_quick_tags_are_normalized(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, ["#Billing  Issue", "URGENT", "late\tdelivery"]))
    assert config.quick_tags == ("billing issue", "urgent", "late delivery")


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["billing", "#"], ":2: quick_tags: empty tag '#'"),
        (["Billing", "#billing"], "is the same tag as an earlier entry ('billing')"),
        (["x" * 51], "quick_tags: tag longer than 50 characters"),
    ],
)
def test_bad_quick_tags_are_config_errors(tmp_path: Path, tags: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(_config(tmp_path, tags))


def test_export_tag_filter_is_normalized(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import asyncio

    db = tmp_path / "m.db"

    async def seed() -> None:
        store = await Store.open(db, "tester")
        await store.add_tag(await _one_mention(store), "billing issue")
        await store.close()

    asyncio.run(seed())
    assert main(["export", "--db", str(db), "--tag", "#Billing  Issue"]) == 0
    out, _ = capsys.readouterr()
    assert [json.loads(line)["tags"] for line in out.splitlines()] == [["billing issue"]]
    assert main(["export", "--db", str(db), "--tag", "##"]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("triage: --tag: empty tag '##'") and err.count("\n") == 1
