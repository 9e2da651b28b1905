"""Frozen value types that flow through the pipeline.

Documents go in; :class:`Stripped` comes out of the boilerplate stage; clusters of
:class:`Member` come out of the clustering stage. Nothing here computes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Document:
    """One input article: its id, raw text and optional provenance."""

    id: str
    text: str
    source: str | None = None
    url: str | None = None
    date: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut:
    """A span of the input removed by the stripper, with why it was removed.

    ``start``/``end`` are offsets into the original text and ``text`` is the removed
    span itself, so a body and its cuts reconstruct the input exactly.
    """

    start: int
    end: int
    kind: str
    reason: str
    text: str


@dataclass(frozen=True)
class Stripped:
    """The article left after stripping chrome, plus what was cut and learned."""

    body: str
    title: str | None = None
    cuts: tuple[Cut, ...] = ()
    children: tuple[Document, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """How a member compares with its cluster's canonical, on exact shingle sets.

    ``specific`` is the containment counted on the smaller text's specific shingles
    (those rare in the corpus), None when it has too few to judge.
    """

    jaccard: float
    containment: float
    specific: float | None
    shared: int
    only_member: int
    only_canonical: int
    differs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    """A document's place in a cluster and its similarity to the canonical."""

    doc_id: str
    similarity: float
    is_canonical: bool
    evidence: Evidence | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class Cluster:
    """A group of copies of one story, with the copy chosen to represent it."""

    id: int
    canonical: Document
    members: tuple[Member, ...]
    reason: str

    @property
    def size(self) -> int:
        """Number of documents in the cluster, the canonical included."""
        return len(self.members)


@dataclass(frozen=True)
class Match:
    """Where the incremental index put (or would put) one document.

    ``cluster_id`` is stable across runs and processes; it is None when a query
    finds no stored copy (the document would open a new cluster). ``similarity`` and
    ``evidence`` compare the document with the cluster's canonical copy.
    ``already_stored``: the document was in the index before this call.
    """

    doc_id: str
    cluster_id: int | None
    is_new_cluster: bool
    canonical_id: str
    similarity: float
    evidence: Evidence | None = None
    parent_id: str | None = None
    already_stored: bool = False
