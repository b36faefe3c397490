"""Several operators on one database, each in a real app in tmux: two take the same mention
at the same moment (exactly one wins, the other is told), and a load test where three apps
press keys that write while ``triage import`` feeds new mentions in a loop."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_terminal import TMUX, TRIAGE, Terminal, eventually, rows


@pytest.fixture
def operators(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Start ``triage --db DB`` in tmux as the named operator (a config of its own)."""
    assert shutil.which(TMUX), "tmux is required for terminal tests (.ci/run installs it)"
    opened: list[Terminal] = []

    def start(name: str, db: Path, *, width: int = 100, height: int = 30) -> Terminal:
        config = tmp_path / f"{name}.toml"
        config.write_text(f'operator = "{name}"\nbrand = "Acme"\n', encoding="utf-8")
        term = Terminal(
            tmp_path / f"tmux-{name}.sock",
            [str(TRIAGE), "--db", str(db), "--config", str(config)],
            width=width,
            height=height,
            home=tmp_path,
        )
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def _lines(prefix: str, count: int, start: int = 0) -> str:
    return "".join(
        json.dumps(
            {
                "source": "feed",
                "external_id": f"{prefix}-{n}",
                "author": f"{prefix}{n}",
                "text": f"mention {prefix} {n}: the parcel is late",
                "created_at": f"2026-11-30T10:{n // 60:02d}:{n % 60:02d}Z",
            }
        )
        + "\n"
        for n in range(start, start + count)
    )


def _import(db: Path, path: Path) -> None:
    done = subprocess.run(
        [str(TRIAGE), "import", str(path), "--db", str(db)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def team_db(tmp_path: Path) -> Path:
    db = tmp_path / "team.db"
    seed = tmp_path / "seed.jsonl"
    seed.write_text(_lines("seed", 30), encoding="utf-8")
    _import(db, seed)
    return db


PROBLEMS = ("locked", "Not saved", "Traceback", "cannot write", "Presence not shared")


def problems(screen: str) -> list[str]:
    """Lines of the screen that show a write failing: an operator's, or presence's (whose
    warning means this app's row went unwritten for as long as a row lives)."""
    return [line for line in screen.splitlines() if any(p in line for p in PROBLEMS)]


def _told(screen: str, winner: str) -> str | None:
    """Which of the two ways of telling the loser that ``winner`` holds the mention a line
    of the screen shows, if any."""
    for line in screen.splitlines():
        for said in ("holds it now", "holds this mention"):
            if said in line and winner in line:
                return said
    return None


def test_two_apps_take_the_same_mention_at_once(operators, team_db: Path) -> None:
    db = team_db
    alice = operators("alice", db)
    bob = operators("bob", db)
    for term in (alice, bob):
        term.wait_for(lambda s: "seed29" in s and "total" in s)
    for round_ in range(1, 4):
        alice.keys("a")
        bob.keys("a")
        eventually(lambda r=round_: len(rows(db, "SELECT * FROM mention_claims")) == r)
        claims = rows(db, "SELECT by FROM events WHERE action = 'claim' ORDER BY id")
        winner = claims[round_ - 1][0]
        loser = bob if winner == "alice" else alice
        # the loser is told: its claim lost ("… holds it now"), or it saw the winner's claim
        # first and was asked before taking it from them ("… holds this mention")
        screen = loser.wait_for(lambda s, w=winner: _told(s, w) is not None)
        # Its attempt is over (refused by the store, or not made yet): a second claim of the
        # same mention would have landed by now.
        claims = rows(db, "SELECT by FROM events WHERE action = 'claim'")
        assert len(claims) == round_, claims  # exactly one of the two won
        if _told(screen, winner) == "holds this mention":
            loser.keys("Escape")  # leave it with them
            loser.wait_for(lambda s: "holds this mention" not in s)
        elif round_ < 3:
            # The notice stays for 6 s: wait until it has gone, so that the next round's
            # wait sees that round's notice and not this one.
            loser.wait_for(lambda s: "holds it now" not in s)
        for term in (alice, bob):
            term.keys("j")
    holders = rows(db, "SELECT assigned_to FROM mention_claims")
    assert len(holders) == 3 and all(h[0] in ("alice", "bob") for h in holders)
    for term in (alice, bob):
        assert not problems(term.screen())


BURSTS = 4


def test_three_apps_writing_while_import_feeds(operators, team_db: Path, tmp_path: Path) -> None:
    """Each app presses keys that write (tag, done, label, note) in bursts sent whole, on its
    own mention, while ``triage import`` feeds new mentions (and repeats one file) in a loop:
    no screen shows a lock error, every key is an event, every fed mention is stored once."""
    db = team_db
    names = ("alice", "bob", "carol")
    terms = {name: operators(name, db) for name in names}
    for term in terms.values():
        term.wait_for(lambda s: "seed29" in s and "total" in s)
    for index, term in enumerate(terms.values()):
        term.keys(*["j"] * (index * 8))  # each on mentions of its own
    time.sleep(0.5)

    fed: list[int] = []
    failures: list[str] = []

    def feed() -> None:
        try:
            for batch in range(3):
                path = tmp_path / f"feed{batch}.jsonl"
                path.write_text(_lines("fed", 30, start=batch * 30), encoding="utf-8")
                _import(db, path)
                fed.append(30)
                _import(db, path)  # the same file again adds nothing
        except AssertionError as error:
            failures.append(str(error))

    feeder = threading.Thread(target=feed)
    started = time.monotonic()
    feeder.start()
    seen_problems: list[str] = []
    for burst in range(BURSTS):
        for name, term in terms.items():
            term.keys("t", f"{name}{burst}", "Enter", "d", "o", "N", f"note {burst}", "Enter", "j")
        for term in terms.values():
            seen_problems += problems(term.screen())
        time.sleep(0.2)
    feeder.join(timeout=60)
    assert not failures, failures

    expected = {name: 4 * BURSTS for name in names}  # tag, status, label, note per burst
    counted = "SELECT by, count(*) FROM events WHERE by IN ('alice', 'bob', 'carol') GROUP BY by"
    eventually(lambda: dict(rows(db, counted)) == expected, timeout=20)
    elapsed = time.monotonic() - started
    for name in names:
        tagged = f"SELECT detail FROM events WHERE by = '{name}' AND action = 'tag'"
        tags = {t for (t,) in rows(db, tagged)}
        assert tags == {f"{name}{b}" for b in range(BURSTS)}
        notes = rows(db, f"SELECT count(*) FROM notes WHERE by = '{name}'")
        assert notes == [(BURSTS,)]
    for term in terms.values():
        seen_problems += problems(term.screen())
        assert term.alive()
    assert not seen_problems, seen_problems
    stored = "SELECT count(*), count(DISTINCT external_id) FROM mentions"
    assert sum(fed) == 90
    assert rows(db, stored + " WHERE external_id LIKE 'fed-%'") == [(90, 90)]
    assert rows(db, stored) == [(120, 120)]
    print(f"3 apps x {BURSTS} bursts and 90 fed mentions (each file twice) in {elapsed:.1f}s")


def test_guard_notes_and_undo_between_two_apps(operators, team_db: Path) -> None:
    """Alice is writing a reply when Bob, in his own app, marks the mention done and notes
    it: Alice's save shows what Bob did and asks first; Bob's note shows in Alice's detail
    pane; each one's undo takes back only their own action."""
    db = team_db
    alice = operators("alice", db, width=150, height=40)
    bob = operators("bob", db, width=150, height=40)
    for term in (alice, bob):
        term.wait_for(lambda s: "seed29" in s and "total" in s)
    alice.keys("r")
    alice.wait_for(lambda s: "ctrl+s save" in s)
    alice.type("Sorry, we are on it")
    bob.keys("d", "N", "Refund already sent", "Enter")
    eventually(lambda: rows(db, "SELECT text, by FROM notes") == [("Refund already sent", "bob")])
    alice.keys("C-s")
    alice.wait_for(lambda s: "Since you opened this reply" in s and "bob marked it done" in s)
    alice.keys("g")  # save anyway
    eventually(lambda: rows(db, "SELECT by FROM events WHERE action = 'draft'") == [("alice",)])
    alice.wait_for(lambda s: "Refund already sent" in s and "Team notes" in s)
    alice.keys("t", "billing", "Enter")
    eventually(lambda: rows(db, "SELECT tag FROM mention_tags") == [("billing",)])
    alice.keys("u")  # alice's last action: her tag, not bob's done
    eventually(lambda: rows(db, "SELECT count(*) FROM mention_tags") == [(0,)])
    assert rows(db, "SELECT status FROM mentions WHERE external_id = 'seed-29'") == [("done",)]
    bob.keys("u")  # bob's: the note is not undoable, so his done
    eventually(
        lambda: rows(db, "SELECT status FROM mentions WHERE external_id = 'seed-29'") == [("new",)]
    )
    undos = rows(
        db,
        "SELECT by, json_extract(detail, '$.action') FROM events WHERE action = 'undo' ORDER BY id",
    )
    assert undos == [("alice", "tag"), ("bob", "status")]
    for term in (alice, bob):
        assert not problems(term.screen())
