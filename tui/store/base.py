"""What every part of the store may call on ``Store``.

The store's parts (claims, notes, undo, presence, learned models, restored marks) are mixins of
``Store`` (``tui/store/store.py``), which defines all of these; this class only declares them,
once, for the type checker and the reader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import aiosqlite

T = TypeVar("T")


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
