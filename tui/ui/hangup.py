"""A terminal that went away, seen even when no signal says so.

A dropped SSH session sends SIGHUP, and the app keeps open replies as drafts and exits
(``TriageApp._hang_up``). But the signal does not always come: the app may run under a
program that does not pass it on (``su``, some job wrappers), or the terminal may go before the
signal is handled. Then nothing ever ends the process: Textual's writer thread dies on the
first failed write, the event loop blocks for good handing it the next frame (so a signal
handler run by the loop never runs either), and the input thread spins on the hung-up
terminal at half a core, for days, on a shared server.

``watch`` waits in a thread of its own for the terminal's hang-up (``POLLHUP`` on stdin or
stdout, which needs no event loop) and then calls ``hang_up`` from that thread.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Sequence

GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def watch(fds: Sequence[int], hang_up: Callable[[], None]) -> threading.Thread:
    """Call ``hang_up`` (in a daemon thread) once any of ``fds`` hangs up."""

    def wait() -> None:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, 0)  # no events asked for: only a hang-up or an error is said
        while not any(mask & GONE for _, mask in poller.poll()):
            pass
        hang_up()

    thread = threading.Thread(target=wait, name="terminal-watch", daemon=True)
    thread.start()
    return thread
