"""Import and export files: JSON Lines (the export shape) and CSV.

A malformed import line is reported with its line number and skipped; the rest is imported.
Re-importing a file adds nothing: mentions dedupe on (source, external_id).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from tui.core.model import Filter, IncomingMention, utcnow
from tui.core.records import CSV_FIELDS, from_record, to_csv_row, to_record
from tui.core.text import decode
from tui.ingest import Ingestor
from tui.store import Store

IMPORT_SOURCE = "import"


@dataclass
class ImportReport:
    read: int = 0
    added: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.read - self.added


def _jsonl_records(
    data: bytes, name: str, report: ImportReport
) -> Iterator[tuple[int, Any, bytes]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            yield number, json.loads(decode(line)), line
        except ValueError as error:
            report.problems.append(f"{name}:{number}: not valid JSON ({error}); line skipped")


def _csv_records(data: bytes, name: str, report: ImportReport) -> Iterator[tuple[int, Any, bytes]]:
    text = decode(data).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise ValueError(f"{name}: CSV has no 'text' column; add a header row with at least text")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            report.problems.append(f"{name}:{reader.line_num}: bad CSV ({error}); line skipped")
            continue
        if None in row:
            report.problems.append(
                f"{name}:{reader.line_num}: more cells than columns; line skipped"
            )
            continue
        raw = json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass")
        yield reader.line_num, row, raw


async def import_file(
    ingestor: Ingestor, path: Path, *, fmt: str | None = None, source: str = IMPORT_SOURCE
) -> ImportReport:
    """Import a JSONL or CSV file (by ``fmt``, else by extension)."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    data = path.read_bytes() if str(path) != "-" else _stdin_bytes()
    report = ImportReport()
    records = _csv_records if fmt == "csv" else _jsonl_records
    now = utcnow()
    mentions: list[IncomingMention] = []
    for number, record, raw in records(data, str(path), report):
        try:
            mentions.append(from_record(record, default_source=source, raw=raw, now=now))
        except ValueError as error:
            report.problems.append(f"{path}:{number}: {error}; line skipped")
    # Oldest first, so arrival order (the list's order) follows the posts' own times.
    mentions.sort(key=lambda m: m.created_at)
    report.read = len(mentions)
    report.added = len(await ingestor.ingest(mentions))
    return report


def _stdin_bytes() -> bytes:
    import sys

    return sys.stdin.buffer.read()


async def export(
    store: Store,
    out: IO[str],
    *,
    fmt: str = "jsonl",
    filt: Filter | None = None,
    since: datetime | None = None,
    on_record: Callable[[], None] | None = None,
) -> int:
    """Write every mention matching ``filt`` (and created at or after ``since``), oldest first."""
    ids = await store.mention_ids(filt or Filter(), since)
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
    for mention_id in ids:
        mention = await store.mention(mention_id)
        if mention is None:
            continue
        record = to_record(mention)
        if writer is not None:
            writer.writerow(to_csv_row(record))
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if on_record:
            on_record()
    return len(ids)
