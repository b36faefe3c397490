"""What every part of the store may call on ``Store``.

The store's parts (claims, notes, undo, presence, learned models, restored marks) are mixins of
``Store`` (``tui/store/store.py``), which defines all of these; this class only declares them,
once, for the type checker and the reader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tui.core.text import ESCAPE_STARTS

if TYPE_CHECKING:
    import aiosqlite

T = TypeVar("T")


def head(column: str, chars: int) -> str:
    """SQL for the first ``chars`` characters of a text column, to be cut to size in Python
    with ``tui.core.text.clip``. ``substr`` alone would stop at a NUL character and could cut
    an escape sequence in two, leaving half of it to show as text: a text holding a NUL is read
    whole, and one with an escape sequence starting in its first ``chars`` characters too (the
    sequence may run past them)."""
    return (
        f"CASE WHEN instr({column}, char(0)) > 0"
        f" OR substr({column}, 1, {chars}) GLOB '*[{ESCAPE_STARTS}]*'"
        f" THEN {column} ELSE substr({column}, 1, {chars}) END"
    )


class StoreBase:
    operator: str
    """The operator's display name, written as ``by`` on every event."""
    unix_user: str
    """The Unix user running this process, written on every event."""

    if TYPE_CHECKING:

        async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

        async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        async def _transaction(self, body: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T: ...

        async def _event(
            self, db: aiosqlite.Connection, mention_id: int | None, action: str, detail: Any = ""
        ) -> None: ...
