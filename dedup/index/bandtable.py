"""An in-memory LSH table over the band keys of stored documents.

Keys are ``band << 32 | key`` (the low 32 bits of each band key), held in a few
sorted arrays: new documents land in a small array, and arrays are merged when
there are too many, as in a log-structured merge tree. A lookup walks each array once
with the whole batch of query keys, sorted (:func:`dedup.kernels.equal_spans`).
"""

from __future__ import annotations

import numpy as np

from .. import kernels

_U64 = np.uint64
_MAX_RUNS = 6  # sorted arrays kept before they are merged into one


def combine(bands: np.ndarray) -> np.ndarray:
    """Band keys ``(rows, bands)`` as flat ``band << 32 | key`` lookup keys."""
    band = np.arange(bands.shape[1], dtype=_U64) << _U64(32)
    return (bands.astype(_U64) | band).ravel()


class BandTable:
    """Which stored document owns each band key."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []
        self._last = -1  # the largest owner added
        self._ascending = True  # owners came in ascending order, each add past the ones before

    def __len__(self) -> int:
        return sum(k.size for k in self._keys)

    def add(self, owners: np.ndarray, bands: np.ndarray) -> None:
        """Add the band keys ``(rows, bands)`` of documents ``owners`` (one per row)."""
        if not len(bands):
            return
        keys = combine(bands)
        owner = np.repeat(np.asarray(owners, dtype=np.int64), bands.shape[1])
        self._ascending &= bool(owner[0] > self._last and (owner[1:] >= owner[:-1]).all())
        self._last = max(self._last, int(owner.max()))
        self._append(keys, owner)
        if len(self._keys) > _MAX_RUNS:
            keys, owner = np.concatenate(self._keys), np.concatenate(self._owners)
            self._keys, self._owners = [], []
            self._append(keys, owner)

    def _append(self, keys: np.ndarray, owner: np.ndarray) -> None:
        """Add one array of entries, sorted by key, then owner. Stored rows only grow, so
        owners come in ascending order: a stable sort by key alone gives that order (a
        merge of the runs already sorted, when they are merged) at half the cost of a
        two-key ``lexsort``, which is kept for owners out of order."""
        order = np.argsort(keys, kind="stable") if self._ascending else np.lexsort((owner, keys))
        self._keys.append(keys[order])
        self._owners.append(owner[order])

    def lookup(self, keys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """``(query positions, owners)`` of every stored entry equal to one of ``keys``.

        At most ``limit`` owners per key and array (the earliest stored): a huge
        bucket proposes a bounded number of candidates, as in a batch run.
        """
        found_q, found_o = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]  # searched in sorted order: the table is walked, not hit at random
        for table, owners in zip(self._keys, self._owners):
            lo, counts = kernels.equal_spans(table, ordered, limit)
            query = np.repeat(order, counts)
            at = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
            found_q.append(query)
            found_o.append(owners[at])
        return np.concatenate(found_q), np.concatenate(found_o)
