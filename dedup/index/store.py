"""What the incremental index keeps, and the interface every backend implements.

A store holds, per document: its id, cluster, similarity to the cluster's canonical,
the facts the canonical choice uses (characters stripped, date), its parent when it
was split out of another article, its LSH band keys, and its normalized text (the
hashing key, compressed), from which verification recomputes exact shingle sets.
Per cluster: its canonical document and size. And a header with the settings,
plus a table of saturating shingle document-frequency counters (the corpus
statistics that decide which shingles are *common*, see :mod:`dedup.verify`).

Backends: :mod:`dedup.index.sqlite` (a file, the default) and
:mod:`dedup.index.redis` (a server shared by many processes or machines).
"""

from __future__ import annotations

import zlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

import numpy as np

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
    bands: np.ndarray  # (rows, bands) uint32 band keys


@dataclass(frozen=True)
class NewDoc:
    """A document to store: the fields of :class:`StoredDoc` before it has a row, its
    normalized text packed (:func:`pack_key`)."""

    id: str
    cluster: int
    similarity: float
    packed: bytes
    removed: int
    date: str | None
    parent: str | None
    bands: np.ndarray


def pack_key(key: str) -> bytes:
    """A normalized text, compressed for storage."""
    return zlib.compress(key.encode("utf-8"), 1)


def unpack_key(blob: bytes) -> str:
    """The normalized text :func:`pack_key` stored."""
    return zlib.decompress(blob).decode("utf-8")


def pack_bands(bands: np.ndarray) -> bytes:
    """Band keys ``(rows, bands)`` as bytes (the band count comes from the header)."""
    return np.ascontiguousarray(bands, dtype="<u4").tobytes()


def unpack_bands(blob: bytes, bands: int) -> np.ndarray:
    """The band keys :func:`pack_bands` stored."""
    return np.frombuffer(blob, dtype="<u4").reshape(-1, bands)


def add_counts(page: np.ndarray, offsets: np.ndarray, delta: int) -> np.ndarray:
    """``page`` (uint8 counters) with ``delta`` added once per entry of ``offsets``,
    held within ``0..DF_MAX``. A counter at ``DF_MAX`` no longer moves: it may stand
    for more documents than it can count."""
    counts = page.astype(np.int64)
    stuck = counts >= DF_MAX
    np.add.at(counts, offsets, delta)
    counts = np.where(stuck, DF_MAX, np.clip(counts, 0, DF_MAX))
    return counts.astype(np.uint8)


class PagedCounters:
    """The document-frequency counters as pages of ``2**DF_PAGE_BITS`` bytes; a backend
    only reads and writes whole pages (:meth:`_read_pages`, :meth:`_write_pages`). Pages
    read or written are kept until the backend calls :meth:`_forget_pages` (when they may
    be stale: another process wrote, or a write was rolled back)."""

    def __init__(self) -> None:
        self._pages: dict[int, bytes] = {}  # b"" for a page never written

    def _read_pages(self, pages: list[int]) -> dict[int, bytes]:
        raise NotImplementedError

    def _write_pages(self, pages: dict[int, bytes]) -> None:
        raise NotImplementedError

    def _forget_pages(self) -> None:
        self._pages = {}

    def _cached_pages(self, pages: list[int]) -> dict[int, bytes]:
        """``page -> bytes`` (b"" when never written) of ``pages``, read only when not kept."""
        missing = [p for p in pages if p not in self._pages]
        if missing:
            read = self._read_pages(missing)
            self._pages.update((p, read.get(p, b"")) for p in missing)
        return {p: self._pages[p] for p in pages}

    def df(self, buckets: np.ndarray) -> np.ndarray:
        """Document-frequency counters at ``buckets``."""
        pages, where = np.unique(buckets >> DF_PAGE_BITS, return_inverse=True)
        found = self._cached_pages(pages.tolist())
        blank = bytes(1 << DF_PAGE_BITS)  # a page never written
        table = np.frombuffer(b"".join(found[p] or blank for p in pages.tolist()), dtype=np.uint8)
        return table[(where.ravel() << DF_PAGE_BITS) + (buckets & _PAGE_MASK)].astype(np.int64)

    def add_df(self, buckets: np.ndarray, delta: int) -> None:
        """Add ``delta`` to the counters at ``buckets`` (one per entry)."""
        if not buckets.size:
            return
        buckets = np.sort(buckets)
        pages = buckets >> DF_PAGE_BITS
        starts = np.flatnonzero(np.concatenate(([True], pages[1:] != pages[:-1])))
        stored = self._cached_pages(pages[starts].tolist())
        blank = bytes(1 << DF_PAGE_BITS)
        updated = {}
        for lo, hi in zip(starts, np.append(starts[1:], buckets.size)):
            page = int(pages[lo])
            current = np.frombuffer(stored[page] or blank, dtype=np.uint8)
            updated[page] = add_counts(current, buckets[lo:hi] & _PAGE_MASK, delta).tobytes()
        self._write_pages(updated)
        self._pages.update(updated)


_PAGE_MASK = (1 << DF_PAGE_BITS) - 1


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

    def bands_since(self, row: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Band keys of documents stored after ``row``: ``(last row, owners, keys (n, bands))``."""

    def docs(self, rows: Sequence[int]) -> list[StoredDoc]:
        """The stored documents among ``rows`` (removed ones are skipped)."""

    def rows_of(self, ids: Sequence[str]) -> dict[str, int]:
        """The rows of the stored documents among ``ids``."""

    def members(self, clusters: Sequence[int]) -> list[int]:
        """The rows of every document in ``clusters``."""

    def df(self, buckets: np.ndarray) -> np.ndarray:
        """Document-frequency counters at ``buckets``."""

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
