"""Persistence: the SQLite database every process shares. See ``store.Store``."""

from tui.store.store import LEASE_TTL, Lease, PageClaim, SourceState, Store, StoreError, fts_query

__all__ = ["LEASE_TTL", "Lease", "PageClaim", "SourceState", "Store", "StoreError", "fts_query"]
