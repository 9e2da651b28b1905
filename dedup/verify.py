"""Exact verification of candidate pairs on their shingle sets.

LSH only proposes. An edge exists when the exact Jaccard similarity, or the
containment of the smaller set in the larger (a truncated copy), passes its
threshold, and both documents are long enough to be compared at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shingle import ShingleSets


@dataclass(frozen=True)
class Thresholds:
    """When two documents count as copies of one story.

    ``jaccard``: exact Jaccard of the shingle sets. ``containment``: share of the
    smaller set found in the larger, accepted only while the smaller document has
    at least ``min_contained`` shingles. ``min_shingles``: documents with fewer
    shingles never get an edge.
    """

    jaccard: float = 0.5
    containment: float = 0.8
    min_shingles: int = 8
    min_contained: int = 20

    def __post_init__(self) -> None:
        for name in ("jaccard", "containment"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} threshold must be in (0, 1], got {value}")


@dataclass(frozen=True)
class Scores:
    """Exact overlap of pairs: intersection sizes, Jaccard and containment."""

    shared: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted, de-duplicated arrays."""
    if a.size > b.size:
        a, b = b, a
    if a.size == 0:
        return 0
    pos = np.searchsorted(b, a)
    pos[pos == b.size] = 0
    return int(np.count_nonzero(b[pos] == a))


def score_pairs(shingles: ShingleSets, pairs: np.ndarray) -> Scores:
    """Exact Jaccard and containment of every pair ``(i, j)`` of ``pairs``."""
    sizes = shingles.sizes
    shared = np.array([overlap(shingles[i], shingles[j]) for i, j in pairs], dtype=np.int64)
    if len(pairs) == 0:
        empty = np.zeros(0)
        return Scores(shared, empty, empty)
    a, b = sizes[pairs[:, 0]], sizes[pairs[:, 1]]
    union = a + b - shared
    smaller = np.minimum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, shared / union, 0.0)
        containment = np.where(smaller > 0, shared / smaller, 0.0)
    return Scores(shared, jaccard, containment)


def accepts(thresholds: Thresholds, sizes_a: np.ndarray, sizes_b: np.ndarray, scores: Scores) -> np.ndarray:
    """Which scored pairs are edges under ``thresholds``."""
    smaller = np.minimum(sizes_a, sizes_b)
    long_enough = smaller >= thresholds.min_shingles
    by_jaccard = scores.jaccard >= thresholds.jaccard
    by_containment = (scores.containment >= thresholds.containment) & (smaller >= thresholds.min_contained)
    return long_enough & (by_jaccard | by_containment)


def verify(shingles: ShingleSets, pairs: np.ndarray, thresholds: Thresholds) -> tuple[np.ndarray, Scores]:
    """The candidate pairs that pass ``thresholds``, with their scores."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    scores = score_pairs(shingles, pairs)
    sizes = shingles.sizes
    keep = accepts(thresholds, sizes[pairs[:, 0]], sizes[pairs[:, 1]], scores)
    return pairs[keep], Scores(scores.shared[keep], scores.jaccard[keep], scores.containment[keep])
