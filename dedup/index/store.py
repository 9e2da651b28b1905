"""What the incremental index keeps, and the interface every backend implements.

A store holds, per document: its id, cluster, similarity to the cluster's canonical,
the facts the canonical choice uses (characters stripped, date), its parent when it
was split out of another article, and its normalized text (the hashing key,
compressed), from which verification recomputes exact shingle sets and each process
its LSH band keys (storing those would cost 4 bytes per band and row, about 310 bytes
per document, more than everything else the index keeps beside the text).
Per cluster: its canonical document and size. And a header with the settings,
plus a table of saturating shingle document-frequency counters (the corpus
statistics that decide which shingles are *common*, see :mod:`dedup.verify`).

Backends: :mod:`dedup.index.sqlite` (a file, the default) and
:mod:`dedup.index.redis` (a server shared by many processes or machines).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import zstandard

#: Counters of the document-frequency table are bytes; they stop at this value.
DF_MAX = 255
#: Counters per stored page of the document-frequency table.
DF_PAGE_BITS = 12


class IndexSettingsError(ValueError):
    """The index was built with other settings than the ones asked for."""


@dataclass(frozen=True)
class StoredDoc:
    """One stored document. ``row`` is the store's handle for it: rows only grow,
    so a reader can ask for everything stored after the last row it has seen."""

    row: int
    id: str
    cluster: int
    key: str
    removed: int
    date: str | None
    parent: str | None


@dataclass(frozen=True)
class StoredPlace:
    """Where a stored document sits: its id, cluster, the id of that cluster's canonical,
    its similarity to the canonical as stored, and its parent when it was split out of
    another article."""

    id: str
    cluster: int
    canonical: str
    similarity: float
    parent: str | None


@dataclass(frozen=True)
class NewDoc:
    """A document to store: the fields of :class:`StoredDoc` before it has a row, its
    normalized text packed (:meth:`KeyCodec.pack`)."""

    id: str
    cluster: int
    similarity: float
    packed: bytes
    removed: int
    date: str | None
    parent: str | None


class KeyCodec:
    """Normalized texts packed for storage: UTF-16 (Arabic takes 2 bytes a letter, and decodes
    faster than from UTF-8), compressed with zstd. On 30,000 Arabic news keys that is 1,088
    bytes a key, 30 µs to pack and 10–15 µs to unpack, against 1,184 bytes, 60–80 µs and
    23–27 µs with zlib over UTF-8. A codec holds zstd contexts: one per thread."""

    def __init__(self) -> None:
        self._compressor = zstandard.ZstdCompressor(level=3)
        self._decompressor = zstandard.ZstdDecompressor()

    def pack(self, key: str) -> bytes:
        """``key`` compressed."""
        return self._compressor.compress(key.encode("utf-16-le"))

    def unpack(self, blob: bytes) -> str:
        """The key :meth:`pack` stored."""
        return self._decompressor.decompress(blob).decode("utf-16-le")


class PagedCounters:
    """The document-frequency counters as pages of ``2**DF_PAGE_BITS`` bytes; a backend
    only reads and writes whole pages (:meth:`_read_pages`, :meth:`_write_pages`). Pages
    read or written are kept, in one array of every counter up to the highest page seen,
    until the backend calls :meth:`_forget_pages` (when they may be stale: another process
    wrote, or a write was rolled back): a lookup is one gather, not a page at a time."""

    def __init__(self) -> None:
        self._forget_pages()

    def _read_pages(self, pages: list[int]) -> dict[int, bytes]:
        raise NotImplementedError

    def _write_pages(self, pages: dict[int, bytes]) -> None:
        raise NotImplementedError

    def _forget_pages(self) -> None:
        self._counts = np.zeros(0, dtype=np.uint8)  # pages never written read as zeros
        self._kept = np.zeros(0, dtype=bool)  # per page: read or written since the last forget

    def _keep(self, pages: np.ndarray) -> None:
        """Read the ``pages`` (distinct) that are not kept yet into the counters array."""
        if not pages.size:
            return
        top = int(pages.max()) + 1
        if top > self._kept.size:
            self._kept = np.concatenate([self._kept, np.zeros(top - self._kept.size, dtype=bool)])
            self._counts = np.concatenate([self._counts, np.zeros((top << DF_PAGE_BITS) - self._counts.size, dtype=np.uint8)])
        missing = pages[~self._kept[pages]]
        if missing.size:
            for page, blob in self._read_pages(missing.tolist()).items():
                self._counts[page << DF_PAGE_BITS : (page + 1) << DF_PAGE_BITS] = np.frombuffer(blob, dtype=np.uint8)
            self._kept[missing] = True

    def df(self, buckets: np.ndarray) -> np.ndarray:
        """Document-frequency counters at ``buckets``."""
        self._keep(_distinct(buckets >> DF_PAGE_BITS)[0])
        return self._counts[buckets].astype(np.int64)

    def keep_counters(self, buckets: int) -> None:
        """Read all ``buckets`` counters now (kept until the backend forgets them)."""
        self._keep(np.arange(max(1, buckets >> DF_PAGE_BITS)))

    def add_df(self, buckets: np.ndarray, delta: int) -> None:
        """Add ``delta`` to the counters at ``buckets`` (once per entry), held within
        ``0..DF_MAX``. A counter at ``DF_MAX`` no longer moves: it may stand for more
        documents than it can count."""
        if not buckets.size:
            return
        at, times = _distinct(buckets)
        pages = _distinct(at >> DF_PAGE_BITS)[0]
        self._keep(pages)
        before = self._counts[at].astype(np.int64)
        after = np.clip(before + delta * times, 0, DF_MAX)
        self._counts[at] = np.where(before >= DF_MAX, DF_MAX, after)
        self._write_pages({page: self._counts[page << DF_PAGE_BITS : (page + 1) << DF_PAGE_BITS].tobytes()
                           for page in pages.tolist()})


def _distinct(buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``buckets`` (counter or page numbers), ascending, and how many times
    each occurs: counted in one pass over a table as long as the largest (a batch holds
    millions of entries, the counters a few million), or sorted when they are far fewer."""
    if buckets.size * 64 < int(buckets.max(initial=0)):
        return np.unique(buckets, return_counts=True)
    times = np.bincount(buckets)
    at = np.flatnonzero(times)
    return at, times[at]


class Store(Protocol):
    """Storage for :class:`dedup.index.Index`; every method is one short operation."""

    def header(self) -> dict[str, str] | None:
        """The stored header, or None for a new index."""

    def init(self, header: dict[str, str]) -> None:
        """Create the index with ``header`` (no-op when another process just did)."""

    def writing(self) -> AbstractContextManager[None]:
        """An exclusive write transaction: all of it is stored, or none of it."""

    def reading(self) -> AbstractContextManager[None]:
        """A consistent read view."""

    def keys_since(self, row: int) -> Iterator[tuple[list[int], list[str]]]:
        """The rows and normalized texts of the documents stored after ``row``, in row
        order, a chunk at a time: ``(rows, keys)``."""

    def count_since(self, row: int) -> int:
        """How many documents are stored after ``row``."""

    def docs(self, rows: Sequence[int]) -> list[StoredDoc]:
        """The stored documents among ``rows`` (removed ones are skipped)."""

    def rows_of(self, ids: Sequence[str]) -> dict[str, int]:
        """The rows of the stored documents among ``ids``."""

    def members(self, clusters: Sequence[int]) -> list[int]:
        """The rows of every document in ``clusters``."""

    def canonicals(self, rows: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``row -> (canonical row, size)`` of the cluster of each of the stored documents
        among ``rows``."""

    def places(self, rows: Sequence[int]) -> dict[int, StoredPlace]:
        """Where each of the stored documents among ``rows`` sits, as stored."""

    def df(self, buckets: np.ndarray) -> np.ndarray:
        """Document-frequency counters at ``buckets``."""

    def keep_counters(self, buckets: int) -> None:
        """Read all ``buckets`` counters now, when the store keeps them between operations."""

    def add_df(self, buckets: np.ndarray, delta: int) -> None:
        """Add ``delta`` to the counters at ``buckets`` (one per entry)."""

    def insert(self, docs: Sequence[NewDoc]) -> list[int]:
        """Store ``docs``; their rows, in order."""

    def delete(self, rows: Sequence[int]) -> None:
        """Remove the documents at ``rows``."""

    def assign(self, placements: dict[int, tuple[int, float]]) -> None:
        """Move documents: ``row -> (cluster, similarity to its canonical)``."""

    def new_cluster_ids(self, n: int) -> list[int]:
        """``n`` cluster ids never handed out before."""

    def put_clusters(self, clusters: dict[int, tuple[int, int]]) -> None:
        """Set ``cluster -> (canonical row, size)``."""

    def drop_clusters(self, clusters: Sequence[int]) -> None:
        """Forget clusters that no longer have members."""

    def clusters(self) -> Iterator[tuple[int, str, list[tuple[str, float]]]]:
        """Every cluster: ``(id, canonical id, [(member id, similarity)...])``, by id."""

    def counts(self) -> dict[str, int]:
        """Documents, clusters, documents in clusters of two or more, largest cluster, bytes."""

    def close(self) -> None:
        """Release the connection."""
