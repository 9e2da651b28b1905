"""dedup: find copies of the same news story in scraped dumps.

The flow: documents -> stripped text -> shingles -> signatures -> LSH candidates
-> verified pairs -> clusters -> reports.
"""

from .boilerplate import Templates, learn_templates, reconstruct, strip, strip_many
from .index import Index, IndexSettingsError
from .io import Fields, InputError, ReadStats, read_documents
from .model import Cluster, Cut, Document, Evidence, Match, Member, Stripped
from .normalize import normalize
from .pipeline import Deduplicator, DuplicateIdError, Result, Settings, find_clusters, passthrough

__all__ = [
    "Cluster",
    "Cut",
    "Deduplicator",
    "Document",
    "DuplicateIdError",
    "Evidence",
    "Fields",
    "Index",
    "IndexSettingsError",
    "InputError",
    "Match",
    "Member",
    "ReadStats",
    "Result",
    "Settings",
    "Stripped",
    "Templates",
    "find_clusters",
    "learn_templates",
    "normalize",
    "passthrough",
    "read_documents",
    "reconstruct",
    "strip",
    "strip_many",
]
