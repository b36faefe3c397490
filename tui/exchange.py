"""Import and export files: JSON Lines (the export shape) and CSV.

A malformed import line is reported with its line number and skipped; the rest is imported.
Re-importing a file adds nothing: mentions dedupe on (source, external_id). A record's operator
label (``sentiment.operator_label``), tags and status are restored, each change an event by the
importing user (``Store.restore_marks``), so labels a team already has can train the model;
so are its follow-up, team notes and ``assigned_to``, each event naming the original author
and time (``tui.store.handoff``), so a team can merge or move its work between databases.
A record whose mention is stored with another text is an edit: the new text is stored (and
scored) as a new version, the earlier one kept.

Both directions report progress through two optional callbacks: ``on_total(n)`` once the
number of mentions is known and ``on_record()`` after each one is written or stored.
Each exported mention carries its response clock (``sla``: due, answered, breached), which
import ignores: the importing store starts the clock again, from the post's time, for a new
mention whose response would still be due; one already past its response time when imported
(old history) gets no clock, so it is never overdue. JSON Lines is exact (the stored
text, byte for byte); CSV cells are made safe for spreadsheets
and terminals (``tui.core.records.csv_cell``), so CSV is for reading, JSON Lines for moving
data; a CSV in the export's own shape imported back gets its cells back as they were, and a
text the export neutralized (``tui.core.text.for_csv``) its stored text when that is what the
stored text exports as; in another database the neutralized text stays.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from tui.core.model import Filter, IncomingMention, Mention, iso, utcnow
from tui.core.records import (
    CSV_FIELDS,
    CSV_QUOTING,
    Marks,
    csv_cell,
    from_csv_cell,
    from_record,
    marks_from_record,
    to_csv_row,
    to_record,
)
from tui.core.text import decode, json_escaped, one_line
from tui.files import read_input
from tui.ingest import BATCH, Ingestor
from tui.store import Store
from tui.store.marks import Restored
from tui.store.store import MENTIONS_BATCH

IMPORT_SOURCE = "import"


@dataclass
class ImportReport:
    read: int = 0
    added: int = 0
    updated: int = 0
    """Already stored with another text: stored as a new version, the earlier text kept."""
    problems: list[str] = field(default_factory=list)
    """One line per problem: each a line skipped, or a mention imported without its marks."""
    skipped: int = 0
    """Lines not imported (not JSON, bad CSV, not a mention)."""
    unmarked: int = 0
    """Mentions imported without the operators' work on them (a bad label, tag or status)."""
    restored: Restored = field(default_factory=Restored)
    """Operator labels, tags and statuses the file carried that were restored (each an event
    by the importing user)."""
    csv_export: bool = False
    """The file is this program's own CSV export (its header holds the export's columns)."""
    history: int = 0
    """New mentions already past their response time when imported: kept without a response
    clock (``Store.stop_clocks_due_before``)."""

    def skip(self, problem: str) -> None:
        self.skipped += 1
        self.problems.append(f"{problem}; line skipped")

    @property
    def duplicates(self) -> int:
        """Already stored (updated or unchanged)."""
        return self.read - self.added

    @property
    def unchanged(self) -> int:
        return self.read - self.added - self.updated


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
            report.skip(f"{name}:{number}: not valid JSON ({error})")


def _unclosed_quote(text: str) -> int | None:
    """The line where a quoted cell opens that is never closed, or None. A lenient reader
    (which the import uses, so that a stray quote inside a cell does not cost the row) would
    make one cell of every line after it; a strict one says so at the end of the data."""
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error as error:
            if "end of data" in str(error):
                return start
            # (any other complaint of the strict reader: the lenient one reads that row)


def _csv_records(data: bytes, name: str, report: ImportReport) -> Iterator[tuple[int, Any, bytes]]:
    text = decode(data).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise ValueError(f"{name}: CSV has no 'text' column; add a header row with at least text")
    unclosed = _unclosed_quote(text)
    # This program's own CSV export: its cells are taken back as they were stored (the quote
    # that kept a spreadsheet from running a cell comes off), so importing it changes nothing.
    exported = report.csv_export = set(CSV_FIELDS) <= set(reader.fieldnames)
    while True:
        start = reader.line_num + 1
        if unclosed is not None and start >= unclosed:
            report.skip(
                f"{name}:{unclosed}: a quoted cell is never closed, so the rest of the file "
                'would be read into it; close the quote (a " inside a quoted cell is written "")'
            )
            return
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            report.skip(f"{name}:{start}: bad CSV ({error})")
            continue
        if None in row:
            report.skip(f"{name}:{start}: more cells than columns")
            continue
        if exported:
            row = {key: from_csv_cell(value) for key, value in row.items()}
        raw = json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass")
        yield start, row, raw


async def _as_stored(store: Store, batch: list[IncomingMention]) -> list[IncomingMention]:
    """An exported CSV read back: a text the export neutralized (``csv_cell``: escapes,
    controls and invisible characters made visible or removed) is the stored text when that
    is what the stored text exports as, so importing the export into its own database is no
    edit."""
    stored = await store.stored_texts([(m.source, m.external_id) for m in batch])
    kept = []
    for mention in batch:
        text = stored.get((mention.source, mention.external_id))
        if (
            text is not None
            and text != mention.text
            and from_csv_cell(csv_cell(text)) == (mention.text)
        ):
            mention = replace(mention, text=text)
        kept.append(mention)
    return kept


async def import_file(
    ingestor: Ingestor,
    path: Path,
    *,
    data: bytes | None = None,
    fmt: str | None = None,
    source: str = IMPORT_SOURCE,
    on_total: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> ImportReport:
    """Import a JSONL or CSV file (by ``fmt``, else by extension); ``data``, when given, is
    the file's content already read.

    ``on_total`` gets the number of mentions read, ``on_record`` is called once per mention
    stored (new or already present), batch by batch.
    """
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if data is None:
        data = read_input(path) if str(path) != "-" else _stdin_bytes()
    report = ImportReport()
    records = _csv_records if fmt == "csv" else _jsonl_records
    name = one_line(str(path))  # quoted in messages printed to a terminal
    now = utcnow()
    mentions: list[IncomingMention] = []
    marks: dict[tuple[str, str], Marks] = {}
    for number, record, raw in records(data, name, report):
        try:
            mention = from_record(record, default_source=source, raw=raw, now=now)
        except ValueError as error:
            report.skip(f"{name}:{number}: {error}")
            continue
        mentions.append(mention)
        try:
            found = marks_from_record(record)
        except ValueError as error:
            report.unmarked += 1
            report.problems.append(
                f"{name}:{number}: {error}; imported without the operators' work on it"
            )
            continue
        if found:
            marks[(mention.source, mention.external_id)] = found
    # Oldest first, so arrival order (the list's order) follows the posts' own times.
    mentions.sort(key=lambda m: m.created_at)
    report.read = len(mentions)
    if on_total:
        on_total(len(mentions))
    for start in range(0, len(mentions), BATCH):
        batch = mentions[start : start + BATCH]
        if report.csv_export:
            batch = await _as_stored(ingestor.store, batch)
        result = await ingestor.ingest_counted(batch)
        report.added += len(result.added)
        report.updated += len(result.updated)
        keys = dict.fromkeys((m.source, m.external_id) for m in batch)
        restoring = [(*key, marks[key]) for key in keys if key in marks]
        if restoring:
            report.restored += await ingestor.store.restore_marks(restoring)
        # Old posts are history: their clock would count as overdue (or, restored as done,
        # as answered now) from the moment they were imported.
        report.history += await ingestor.store.stop_clocks_due_before(result.added, now)
        if on_record:
            for _ in batch:
                on_record()
    return report


SLA_CSV_FIELDS = ("sla_due_at", "sla_answered_at", "sla_breached")
"""CSV columns of the export's ``sla`` object, after the follow-up's."""


def _csv_fields() -> tuple[str, ...]:
    at = CSV_FIELDS.index("follow_up_done") + 1
    return (*CSV_FIELDS[:at], *SLA_CSV_FIELDS, *CSV_FIELDS[at:])


def sla_record(mention: Mention, now: datetime) -> dict[str, Any]:
    """The export's ``sla``: when the first response was due and came (ISO 8601 or null), and
    whether it was late: answered after due, or not answered and due before ``now``. Import
    ignores it (the store recomputes the clock)."""
    due, answered = mention.due_at, mention.answered_at
    late = due is not None and (answered > due if answered is not None else now > due)
    return {"due_at": iso(due), "answered_at": iso(answered), "breached": late}


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
    on_total: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> int:
    """Write every mention matching ``filt`` (and created at or after ``since``), oldest first.

    ``on_total`` gets the number of mentions to write, ``on_record`` is called after each.
    """
    ids = await store.mention_ids(filt or Filter(), since)
    if on_total:
        on_total(len(ids))
    now = utcnow()
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(
            out,
            fieldnames=_csv_fields(),
            extrasaction="ignore",
            quoting=CSV_QUOTING,
        )
        writer.writeheader()
    for start in range(0, len(ids), MENTIONS_BATCH):
        # A batch at a time: a few queries for all its mentions, not a dozen for each.
        for mention in await store.mentions(ids[start : start + MENTIONS_BATCH]):
            record = to_record(mention)
            record["sla"] = sla_record(mention, now)
            if writer is not None:
                sla = record["sla"]
                writer.writerow(
                    to_csv_row(record)
                    | {
                        "sla_due_at": sla["due_at"],
                        "sla_answered_at": sla["answered_at"],
                        "sla_breached": sla["breached"],
                    }
                )
            else:
                out.write(json_escaped(json.dumps(record, ensure_ascii=False)) + "\n")
            if on_record:
                on_record()
    return len(ids)
