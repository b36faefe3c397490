"""Progress bars for long commands (import, export, evidence), on stderr, with ``rich.progress``.

A bar is drawn only when stderr is a terminal: piped or redirected, a command prints nothing
but its usual lines. The bar is transient (erased when the work ends), so the command's own
summary line is what stays on screen.

Commands get a ``Meter`` from ``meter()`` and hand its methods to the work as callbacks:
``set_total(n)`` once the amount of work is known, and the meter itself, called once per item.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TimeElapsedColumn
from rich.text import Text

from tui.core.text import one_line

PUSH_SECONDS = 0.05
"""The count reaches the bar at most this often (an update takes a lock); it is redrawn ten
times a second."""


class _Label(ProgressColumn):
    """The description as plain text: a file name is never read as markup."""

    def render(self, task: Task) -> Text:
        return Text(one_line(task.description), style="bold")


class _Count(ProgressColumn):
    """``1,234/10,000 mentions``, or ``1,234 mentions`` while the total is unknown."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        if task.total is None:
            return Text(f"{done:,} {self.unit}" if done else "")
        return Text(f"{done:,}/{int(task.total):,} {self.unit}")


class _Rate(ProgressColumn):
    """Items per second since the start."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if not task.completed or elapsed <= 0:
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f}/s", style="dim")


class Meter:
    """Counts items of work; a bar shows the count if there is one. Call it once per item."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        self._progress = progress
        self._task = task
        self._pushed = 0.0
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self._progress is not None:
            now = time.monotonic()
            if now - self._pushed >= PUSH_SECONDS:
                self._pushed = now
                self._progress.update(self._task, completed=self.count)  # type: ignore[arg-type]

    def set_total(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)  # type: ignore[arg-type]

    def flush(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.count)  # type: ignore[arg-type]


def off_screen(stream: TextIO) -> bool:
    """Whether what is written to ``stream`` stays off the screen: a file or a device such as
    ``/dev/null``. Not a terminal, and not a pipe or a socket either, whose reader (``| head``,
    ``| less``) may well print it on the terminal a bar is drawn on, through the bar."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, ValueError, OSError):  # no descriptor: in memory, tests
        return True
    if stat.S_ISCHR(mode):
        return not stream.isatty()
    return not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode))


def shows_bar(stream: TextIO) -> bool:
    """A bar is drawn only on a terminal (and not a dumb one)."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


@contextmanager
def meter(
    description: str, unit: str = "mentions", *, stream: TextIO | None = None, show: bool = True
) -> Iterator[Meter]:
    """A ``Meter`` drawing a bar on ``stream`` (default stderr) if it is a terminal and ``show``.

    ``show=False`` is for output that may reach the same terminal (an export to stdout that is
    not ``off_screen``), where a bar would be drawn through the data.
    """
    stream = stream if stream is not None else sys.stderr
    if not (show and shows_bar(stream)):
        yield Meter()
        return
    progress = Progress(
        _Label(),
        BarColumn(),
        _Count(unit),
        _Rate(),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with progress:
        counter = Meter(progress, progress.add_task(description, total=None))
        try:
            yield counter
        finally:
            counter.flush()
