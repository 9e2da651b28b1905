"""Locality-sensitive hashing: bands of signature rows, and the pairs they propose.

Every candidate pair is verified afterwards (:mod:`dedup.verify`), so the band
layout is chosen to favour recall: false candidates cost one exact comparison,
while a missed pair is lost for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import kernels
from .hashing import fmix
from .threads import split_map

_U64 = np.uint64
_KEY_BLOCK = 1 << 15  # signature rows per block when computing band keys
_PAIR_ENTRIES = 1 << 21  # (row, band) entries bucketed together


def _integrate(f, a: float, b: float, steps: int = 200) -> float:
    xs = np.linspace(a, b, steps + 1)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) / 2) * (b - a) / steps)


def collision_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two sets of Jaccard ``similarity`` share at least one band."""
    return 1.0 - (1.0 - np.asarray(similarity, dtype=float) ** rows) ** bands


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, false_positive_weight: float = 0.1, false_negative_weight: float = 0.9
) -> tuple[int, int]:
    """Bands x rows minimizing weighted false-positive and false-negative mass.

    The false-positive mass is the area under the collision curve below
    ``threshold``; the false-negative mass is the area above the curve beyond it.
    The default weights favour recall, as verification follows.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    best, best_cost = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _integrate(lambda s: collision_probability(s, bands, rows), 0.0, threshold)
            fn = _integrate(lambda s: 1.0 - collision_probability(s, bands, rows), threshold, 1.0)
            cost = false_positive_weight * fp + false_negative_weight * fn
            if cost < best_cost - 1e-12:
                best, best_cost = (bands, rows), cost
    return best


@dataclass(frozen=True)
class Bands:
    """A band layout over signatures of ``bands * rows`` permutations (or fewer)."""

    bands: int
    rows: int

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        """One 64-bit key per document and band: ``(n_docs, bands)`` uint64."""
        n, width = signatures.shape
        if self.bands * self.rows > width:
            raise ValueError(f"{self.bands} bands x {self.rows} rows need {self.bands * self.rows} permutations, have {width}")
        out = np.empty((n, self.bands), dtype=_U64)
        for lo in range(0, n, _KEY_BLOCK):  # blocks of rows bound the uint64 temporaries
            cols = signatures[lo : lo + _KEY_BLOCK, : self.bands * self.rows].reshape(-1, self.bands, self.rows)
            mixed = np.zeros((cols.shape[0], self.bands), dtype=_U64)
            for r in range(self.rows):
                mixed = fmix(mixed ^ cols[:, :, r].astype(_U64), 64)
            out[lo : lo + _KEY_BLOCK] = mixed
        return out

    def candidates(self, signatures: np.ndarray, eligible: np.ndarray | None = None, max_bucket: int = 100) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, that share at least one band key.

        Only ``eligible`` documents take part. A bucket larger than ``max_bucket``
        proposes star edges from its first member (and a chain through the rest)
        instead of all its pairs, which keeps the candidate count linear.
        """
        index = np.arange(len(signatures)) if eligible is None else np.flatnonzero(eligible)
        if index.size < 2:
            return np.zeros((0, 2), dtype=np.int64)
        pairs = key_pairs(self.keys(signatures[index]), max_bucket)
        return index[pairs]


def key_pairs(keys: np.ndarray, max_bucket: int, threads: int = 1) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of rows of band ``keys`` (``(n, bands)``) that share a
    key in some band, sorted; buckets over ``max_bucket`` as in :meth:`Bands.candidates`.
    Blocks of bands are bucketed on up to ``threads`` threads."""
    n_rows, bands = keys.shape
    if n_rows < 2:
        return np.zeros((0, 2), dtype=np.int64)
    n = np.int64(n_rows)
    step = max(1, _PAIR_ENTRIES // n_rows)  # bands per block: bounds the bucket temporaries
    step = min(step, -(-bands // max(threads, 1)))  # and a block for every thread

    def block(lo: int) -> np.ndarray:  # one int64 per pair: smaller * n + larger
        a, b = _bucket_pairs(keys[:, lo : lo + step], max_bucket)
        return distinct(np.minimum(a, b) * n + np.maximum(a, b))

    found = split_map(block, range(0, bands, step), threads)
    codes = distinct(np.concatenate(found))  # sorted: sorting the codes sorts the pairs
    return np.stack([codes // n, codes % n], axis=1)


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct entries of a 1-d array: a sort and a mask (NumPy's ``unique``
    hashes first and is an order of magnitude slower on large integer arrays)."""
    return _distinct_sorted(np.sort(np.asarray(values).ravel()))


def _distinct_sorted(ordered: np.ndarray) -> np.ndarray:
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def unique_pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Distinct pairs ``(i, j)``, ``i < j``, of ``first``/``second`` (self-pairs dropped),
    sorted; each pair packed in one int64 while sorting (positions below ``2**31``)."""
    codes = kernels.pair_codes(np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
    codes.sort()  # in place: the codes are this call's own
    codes = _distinct_sorted(codes)
    return np.stack([codes >> 31, codes & ((1 << 31) - 1)], axis=1)


def _bucket_pairs(keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows that share a key in some column of ``keys`` (``(n, bands)``).

    All bands at once, without a Python loop over buckets: a bucket of at most
    ``max_bucket`` members gives all its pairs; a larger one a star from its first
    member and a chain through the rest.
    """
    n, bands = keys.shape
    members = np.empty(n * bands, dtype=np.int64)
    starts_bucket = np.empty(n * bands, dtype=bool)
    for band in range(bands):
        rows, first = kernels.bucket_runs(np.ascontiguousarray(keys[:, band]))
        members[band * n : (band + 1) * n] = rows
        starts_bucket[band * n : (band + 1) * n] = first
    return sorted_bucket_pairs(members, starts_bucket, max_bucket)


def sorted_bucket_pairs(members: np.ndarray, starts_bucket: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within buckets laid out one after another (:func:`dedup.kernels.bucket_runs`):
    ``starts_bucket`` flags the first entry of each bucket, whose ``members`` come in row
    order. A bucket of at most ``max_bucket`` members gives all its pairs; a larger one a
    star from its first member and a chain through the rest."""
    bounds = np.append(np.flatnonzero(starts_bucket), starts_bucket.size)
    return kernels.bucket_pairs(np.asarray(members, dtype=np.int64), bounds, max_bucket)
