"""``triage alerts test``: when each rule would have fired over stored history.

Replays the rules by post time (``tui.alerting.replay``), so imported history counts, and prints
one line per would-be alert (``text``) or one JSON object per line (``jsonl``) with ``rule``,
``kind``, ``at`` (ISO 8601 UTC), ``title``, ``explanation`` and ``mention_id``. Nothing is
stored and nothing is sent.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import TextIO

from tui.alerting import replay
from tui.config import Config
from tui.core.model import iso, utcnow
from tui.core.text import one_line
from tui.store import Store


async def run_test(store: Store, config: Config, since_s: float, form: str, out: TextIO) -> int:
    until = utcnow()
    since = until - timedelta(seconds=since_s)
    found = await replay(store, config, since, until)
    if form == "jsonl":
        for alert in found:
            record = {
                "rule": alert.rule,
                "kind": alert.kind,
                "at": iso(alert.at),
                "title": alert.title,
                "explanation": alert.explanation,
                "mention_id": alert.mention_id,
            }
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        return 0
    for alert in found:
        out.write(
            f"{alert.at:%Y-%m-%d %H:%M}Z  {one_line(alert.rule, 30)}  "
            f"{one_line(alert.explanation, 300)}\n"
        )
    per_rule = Counter(alert.rule for alert in found)
    summary = ", ".join(f"{rule}: {n}" for rule, n in sorted(per_rule.items())) or "none"
    names = ", ".join(rule.name for rule in config.on_call.rules)
    noun = "alert" if len(found) == 1 else "alerts"
    out.write(
        f"{len(found)} {noun} would have fired since {since:%Y-%m-%d %H:%M}Z ({summary}; "
        f"rules: {names})\n"
    )
    return 0
