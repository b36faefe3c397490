"""Persistence: the SQLite database every process shares. See ``store.Store``."""

from tui.store.store import PageClaim, SourceState, Store, StoreError, fts_query

__all__ = ["PageClaim", "SourceState", "Store", "StoreError", "fts_query"]
