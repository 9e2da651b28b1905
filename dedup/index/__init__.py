"""The persistent incremental index: SQLite by default, Redis for many scrapers."""

from .index import Batch, Index, open_store
from .store import IndexSettingsError

__all__ = ["Batch", "Index", "IndexSettingsError", "open_store"]
