"""On call in a real terminal: an alert raised while the app runs rings the bell in tmux, shows
in the status line, and the alerts screen lists it; Enter and ``a`` land where meant even when
the keys arrive in one burst."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from tests.test_terminal import TRIAGE, eventually, rows, terminal  # noqa: F401 (fixture)
from tui.core.model import iso, utcnow

CONFIG = """
brand = "Acme"

[[alerts]]
name = "negatives"
when = "negative"
cooldown = "0s"
"""


def write_import(path: Path, *lines: dict) -> None:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def mention(external_id: str, text: str, author: str) -> dict:  # type: ignore[type-arg]
    return {
        "source": "bridge",
        "id": external_id,
        "text": text,
        "author": author,
        "created_at": iso(utcnow() - timedelta(minutes=2)),
    }


def detail(screen: str) -> str:
    """The first line of the detail pane (under the rule that separates it from the list)."""
    lines = screen.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith("────"):
            return lines[index + 1].strip()
    return ""


def bell(term) -> bool:  # type: ignore[no-untyped-def]
    return term._tmux("display", "-p", "-t", "t", "#{window_bell_flag}").strip() == "1"


def test_an_alert_rings_the_bell_and_the_alerts_screen_takes_a_burst(
    terminal,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "mentions.db"
    first = tmp_path / "first.jsonl"
    write_import(first, mention("1", "Great service today", "ann"))
    common = ["--config", str(config), "--db", str(db)]
    subprocess.run([str(TRIAGE), "import", str(first), *common], check=True, capture_output=True)

    term = terminal(*common, width=100, height=30)
    term.wait_for(lambda s: "ann" in s)
    assert not bell(term)

    # Another operator imports a complaint with a hostile name; this app, the one process
    # running (nobody holds the collector lease), evaluates the rule on it.
    second = tmp_path / "second.jsonl"
    hostile = "[@click=app.quit]x[/] \x1b]0;pwned\x07mallory\nfake row"
    write_import(second, mention("2", "Charged twice and still no refund, awful", hostile))
    subprocess.run([str(TRIAGE), "import", str(second), *common], check=True, capture_output=True)
    term.wait_for(lambda s: "1 alert" in s and "Negative from" in s)  # counted, and a toast
    eventually(lambda: bell(term))

    # Select the other mention, then open the alerts screen and press Enter on the alert in
    # one burst, as a laggy link delivers keys: the list selects the alert's mention.
    term.keys("j")
    term.wait_for(lambda s: detail(s) == "Great service today")
    term.keys("!", "Enter")
    # The mention is selected, and the alerts screen closed: the footer shows the list's keys.
    term.wait_for(
        lambda s: (
            detail(s).startswith("Charged twice")
            and any(line.startswith(" t Tag ") for line in s.splitlines())
        )
    )
    alert_id, mention_id = rows(db, "SELECT id, mention_id FROM alerts")[0]
    assert rows(db, "SELECT acked_at FROM alerts") == [(None,)]
    term.keys("!", "a", "Escape")
    eventually(lambda: rows(db, "SELECT acked_by FROM alerts") != [(None,)])
    (acked_by,) = rows(db, "SELECT acked_by FROM alerts")[0]
    assert acked_by
    screen = term.wait_for(lambda s: "1 alert" not in s)
    # The hostile name never broke a row, never ran as markup, never retitled the terminal.
    assert term.alive()
    assert "pwned" not in term._tmux("display", "-p", "-t", "t", "#{pane_title}")
    assert not any(line.startswith("fake row") for line in screen.splitlines())
    assert mention_id == 2 and alert_id == 1
