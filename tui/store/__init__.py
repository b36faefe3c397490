"""Persistence: the SQLite database every process shares. See ``store.Store``."""

from tui.store.store import SourceState, Store, StoreError, fts_query

__all__ = ["SourceState", "Store", "StoreError", "fts_query"]
