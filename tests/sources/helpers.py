"""Helpers shared by the source and collector tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui.config import SourceConfig
from tui.sources import Backoff

FIXTURES = Path(__file__).parent / "fixtures"

READ_TIMEOUT = 0.5
"""The test client's read timeout; a ``Reply(delay=...)`` longer than this times out."""


async def no_wait(seconds: float) -> None:
    return None


FAST = Backoff(attempts=3, base=0.001, cap=0.01, max_wait=5.0, sleep=no_wait)
"""Retries without waiting (tests that check the waits pass their own ``sleep``)."""


def fixture(name: str) -> Any:
    """A response shape written from SOURCES.md, from ``tests/sources/fixtures``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def shared_json(shared_dir: Path, name: str) -> Any:
    """A real recorded response from ``shared/fixtures/api``."""
    return json.loads((shared_dir / "fixtures" / "api" / name).read_text(encoding="utf-8"))


def source_config(
    kind: str, base_url: str, name: str | None = None, interval: float = 60.0, **options: Any
) -> SourceConfig:
    return SourceConfig(kind, name or kind, base_url, interval, True, options)


async def stored_reach(store: Any, client: Any, source: Any) -> dict[str, int]:
    """Poll ``source`` once through a real collector into ``store``; the one stored mention's
    reach figures."""
    from tui.collector import Collector
    from tui.config import Config
    from tui.core.model import Filter

    crawler = Collector(
        Config(), store, client, holder="t@h pid 1", log=lambda _: None, sources=[source]
    )
    outcome = await crawler.poll(source)
    assert outcome is not None and outcome.new == 1
    (mention_id,) = await store.mention_ids(Filter())
    stored = await store.mention(mention_id)
    assert stored is not None
    return dict(stored.reach)
