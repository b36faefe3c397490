"""Persistence: the SQLite database every process shares. See ``store.Store``."""

from tui.store.store import Lease, PageClaim, SourceState, Store, StoreError, fts_query

__all__ = ["Lease", "PageClaim", "SourceState", "Store", "StoreError", "fts_query"]
