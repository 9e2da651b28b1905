"""Locality-sensitive hashing: bands of signature rows, and the pairs they propose.

Every candidate pair is verified afterwards (:mod:`dedup.verify`), so the band
layout is chosen to favour recall: false candidates cost one exact comparison,
while a missed pair is lost for good.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hashing import fmix

_U64 = np.uint64


def _integrate(f, a: float, b: float, steps: int = 200) -> float:
    xs = np.linspace(a, b, steps + 1)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) / 2) * (b - a) / steps)


def collision_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two sets of Jaccard ``similarity`` share at least one band."""
    return 1.0 - (1.0 - np.asarray(similarity, dtype=float) ** rows) ** bands


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
        cols = signatures[:, : self.bands * self.rows].astype(_U64).reshape(n, self.bands, self.rows)
        mixed = np.zeros((n, self.bands), dtype=_U64)
        for r in range(self.rows):
            mixed = fmix(mixed ^ cols[:, :, r], 64)
        return mixed

    def candidates(self, signatures: np.ndarray, eligible: np.ndarray | None = None, max_bucket: int = 100) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, that share at least one band key.

        Only ``eligible`` documents take part. A bucket larger than ``max_bucket``
        proposes star edges from its first member (and a chain through the rest)
        instead of all its pairs, which keeps the candidate count linear.
        """
        index = np.arange(len(signatures)) if eligible is None else np.flatnonzero(eligible)
        keys = self.keys(signatures[index])
        found: list[np.ndarray] = []
        for band in range(self.bands):
            found.append(_bucket_pairs(keys[:, band], max_bucket))
        pairs = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
        if pairs.size == 0:
            return pairs.reshape(0, 2)
        pairs = index[pairs]
        pairs.sort(axis=1)
        return np.unique(pairs, axis=0)


def _bucket_pairs(keys: np.ndarray, max_bucket: int) -> np.ndarray:
    """Pairs of positions that share a key, within one band."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    boundary = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    starts = np.concatenate(([0], boundary))
    sizes = np.diff(np.concatenate((starts, [ranked.size])))
    pairs = [np.stack([order[starts[sizes == 2]], order[starts[sizes == 2] + 1]], axis=1)]
    for start, size in zip(starts[sizes > 2], sizes[sizes > 2]):
        members = np.sort(order[start : start + size])
        if size <= max_bucket:
            i, j = np.triu_indices(size, k=1)
            pairs.append(np.stack([members[i], members[j]], axis=1))
        else:
            star = np.stack([np.full(size - 1, members[0]), members[1:]], axis=1)
            chain = np.stack([members[1:-1], members[2:]], axis=1)
            pairs.append(np.concatenate([star, chain]))
    return np.concatenate(pairs).astype(np.int64)
