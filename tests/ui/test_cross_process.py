"""Another process writes to the database; the running app shows it without a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.conftest import settle, wait_until


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_import_in_another_process_appears_in_the_running_app(
    make_app, db_path: Path, tmp_path: Path
) -> None:
    app = await make_app()
    source = tmp_path / "batch.jsonl"
    source.write_text(
        "\n".join(
            json.dumps(
                {
                    "source": "reddit",
                    "external_id": f"x{n}",
                    "text": f"imported complaint {n}",
                    "author": f"imp{n}",
                }
            )
            for n in range(3)
        )
        + "\n",
        encoding="utf-8",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        result = subprocess.run(
            [sys.executable, "-m", "tui", "import", str(source), "--db", str(db_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        await wait_until(
            lambda: {r.author for r in app.mentions.shown()} >= {"imp0", "imp1", "imp2"},
            pilot,
        )
        await wait_until(lambda: app.counts is not None and app.counts.total == 8, pilot)
        # And an operator action in another process (a tag) shows on the row.
        tag = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import asyncio; from tui.store import Store\n"
                    "async def m():\n"
                    f"    s = await Store.open({str(db_path)!r}, 'other')\n"
                    "    await s.add_tag(1, 'seen-elsewhere'); await s.close()\n"
                    "asyncio.run(m())"
                ),
            ],
            check=True,
        )
        assert tag.returncode == 0
        await wait_until(
            lambda: any(r.tags == ("seen-elsewhere",) for r in app.mentions.shown()),
            pilot,
        )
