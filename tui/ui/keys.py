"""Keys go where the person meant them: one key at a time, each after the last one's effects.

Textual forwards every key from the terminal to the focused widget as soon as the app reads
it, and checks the app's bindings only when the key has bubbled back up. A burst (a laggy SSH
link, a paste, ``t z z Enter j`` typed ahead) is therefore forwarded whole to the widget that had
focus *before* the first key opened a prompt, moved focus or closed a screen, and the rest of the
burst runs as commands or lands in the wrong box.

``OrderedKeysApp`` holds each key (and paste) from the terminal until the previous one has
finished: the key is dispatched as Textual would, then a ``Settle`` message follows it along the
same path (the focused widget, its ancestors, the screen, the app) and then once through the
app's own queue. Every queue is first in, first out, so when ``Settle`` has come back, the key
and whatever its handlers posted on that path have been handled. ``Settle`` makes at least two
trips (the second one carries the messages the key caused, such as an Input's ``Submitted`` and
the dismissal it leads to), and more while a trip sees the screen or the focus change, so a
prompt that opens or closes has done so before the next key is looked at. Every prompt and
screen gets this without doing anything.

Escape then a letter in one read (a burst again: ``Escape q`` to close the search and quit)
reaches Textual as the two bytes a terminal sends for Alt and that letter, and Textual reads
them as ``alt+q``. No binding here uses Alt with a letter, so such a key is taken for what was
typed: ``escape``, then the letter (``_split_alt``). Textual's parser drops the escape before
anything but a letter (``Escape /`` is ``/``), which cannot be told apart from the key alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.message import Message
from textual.timer import Timer

ReturnType = TypeVar("ReturnType")

MIN_TRIPS = 2
"""Trips ``Settle`` always makes: the key itself, then the messages its handlers posted."""
MAX_TRIPS = 8
"""A screen that keeps changing focus on its own does not hold the keys for ever."""
LOST_SECONDS = 1.0
"""A ``Settle`` not back after this is sent again along the current path: one that was lost
(its widget was removed) is replaced, and one still queued behind a slow handler (a key that
waits for the store, then opens a screen) is overtaken by none, since the copy queues behind the
same handler. No key is ever released because time passed."""


@dataclass
class Settle(Message, namespace="ordered_keys"):
    """Follows a dispatched key along its path; back at the app, the key has been handled."""

    token: int
    trip: int
    state: tuple[int, int, int]
    sent: int
    """Which sending this is: only the newest one sent for a key counts."""
    back: bool = False
    """Arrived back at the app once and re-posted to the app's own queue."""


class OrderedKeysApp(App[ReturnType]):
    """An app whose keys are dispatched strictly one after another (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: deque[events.Key | events.Paste] = deque()
        self._token = 0
        self._sent = 0
        self._in_flight = False
        self._lost: Timer | None = None

    def _key_state(self) -> tuple[int, int, int]:
        """What a key can change about where the next key goes."""
        return (id(self.screen), id(self.focused), len(self.screen_stack))

    @staticmethod
    def _ordered(event: events.Event) -> bool:
        return isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded

    async def on_event(self, event: events.Event) -> None:
        if not self._ordered(event):
            await super().on_event(event)
            return
        self._waiting.extend(self._split_alt(event))  # type: ignore[arg-type]
        if not self._in_flight:
            await self._dispatch_next()

    def _split_alt(self, event: events.Event) -> tuple[events.Event, ...]:
        """``alt+q`` (or ``alt+shift+q``) that nothing binds, as the ``escape`` and ``q`` a
        burst of two keys made it; any other event as it is."""
        if not isinstance(event, events.Key) or not event.key.startswith("alt+"):
            return (event,)
        rest = event.key[len("alt+") :]
        shifted = rest.startswith("shift+")
        letter = rest[len("shift+") :] if shifted else rest
        if len(letter) != 1 or not letter.isalpha() or event.key in self.active_bindings:
            return (event,)
        letter = letter.upper() if shifted else letter
        return (events.Key("escape", "\x1b"), events.Key(letter, letter))

    async def _dispatch_next(self) -> None:
        if not self._waiting or not self.is_running:
            self._in_flight = False
            return
        event = self._waiting.popleft()
        self._in_flight = True
        self._token += 1
        await super().on_event(event)
        self._follow(trip=1)

    def _follow(self, trip: int) -> None:
        """Send ``Settle`` along the path the next key would take now."""
        target = self.focused or self.screen
        self._sent += 1
        message = Settle(self._token, trip, self._key_state(), self._sent)
        if self._lost is not None:
            self._lost.stop()
        self._lost = self.set_timer(LOST_SECONDS, lambda: self._resend(message))
        if not target.post_message(message):
            self._lost.stop()
            self.call_later(self._release, self._token)

    def _resend(self, lost: Settle) -> None:
        if lost.token == self._token and lost.sent == self._sent and self._in_flight:
            self._follow(lost.trip)

    async def on_ordered_keys_settle(self, message: Settle) -> None:
        message.stop()
        if message.token != self._token or message.sent != self._sent or not self._in_flight:
            return
        if not message.back:
            # Once more through the app's own queue: what the key's handlers asked the app
            # to do later (a focus change is a ``call_later``) happens before the decision.
            self.post_message(
                Settle(message.token, message.trip, message.state, message.sent, back=True)
            )
            return
        changed = message.state != self._key_state()
        if message.trip < MIN_TRIPS or (changed and message.trip < MAX_TRIPS):
            self._follow(message.trip + 1)
            return
        await self._release(message.token)

    async def _release(self, token: int) -> None:
        if token != self._token or not self._in_flight:
            return
        if self._lost is not None:
            self._lost.stop()
            self._lost = None
        self._in_flight = False
        if self._waiting:
            await self._dispatch_next()

    @property
    def keys_pending(self) -> int:
        """Keys read from the terminal and not yet dispatched (tests and benchmarks read this)."""
        return len(self._waiting) + int(self._in_flight)
