"""Exact verification of candidate pairs on their shingle sets.

LSH only proposes. An edge exists when the exact Jaccard similarity, or the
containment of the smaller set in the larger (a truncated copy), passes its
threshold, both documents are long enough to be compared at all, and the pair
shares the text that is *specific* to the smaller document.

Specific text: shingles found in at most ``common_df`` documents of the corpus.
Template items (congratulation cables to different countries, relief flight No. 4
and No. 6, daily market closes) share a frame that recurs across the whole family
but differ in their own facts; copies of one story share those facts too. So the
containment of the smaller document's specific shingles in the other must pass
as well. A document with fewer than ``min_specific`` specific shingles (say a
wire story reprinted by every outlet, whose text is all common) is judged on
plain containment alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import (
    frequent_values,
    member_mask,
    pair_overlaps,
    top_bits_part,
    walked_member_mask,
)
from .shingle import ShingleSets
from .threads import spans, split_map


@dataclass(frozen=True)
class Thresholds:
    """When two documents count as copies of one story.

    ``jaccard``: exact Jaccard of the shingle sets. ``containment``: share of the
    smaller set found in the larger, accepted only while the smaller document has
    at least ``min_contained`` shingles. ``specific``: the same share, counted on
    the smaller document's specific shingles only. ``min_shingles``: documents
    with fewer shingles never get an edge.
    """

    jaccard: float = 0.5
    containment: float = 0.8
    specific: float = 0.45
    min_shingles: int = 8
    min_contained: int = 20
    min_specific: int = 10

    def __post_init__(self) -> None:
        for name in ("jaccard", "containment", "specific"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} threshold must be in [0, 1], got {value}")


@dataclass(frozen=True)
class Scores:
    """Exact overlap of pairs: intersection sizes, Jaccard, containment, and the
    containment of the smaller document's specific shingles (NaN when it has too
    few to judge)."""

    shared: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray
    specific: np.ndarray

    def take(self, index: np.ndarray) -> "Scores":
        """The scores of the pairs at ``index``."""
        return Scores(self.shared[index], self.jaccard[index], self.containment[index], self.specific[index])


def common_values(values: np.ndarray, common_df: int, threads: int = 1) -> np.ndarray:
    """The distinct ``values`` found more than ``common_df`` times (each document holds a
    shingle once: found in more than ``common_df`` documents), sorted. With ``threads``, the
    values are split by their top bits (they are hashes) and each part counted on a thread."""
    values = np.asarray(values)
    bits = min(8, int(np.ceil(np.log2(threads)))) if threads > 1 and values.size else 0
    if not bits:
        return frequent_values(values, common_df)

    def counted(part: int) -> np.ndarray:  # each value is counted in the part its top bits name
        return frequent_values(top_bits_part(values, bits, part), common_df)

    return np.concatenate(split_map(counted, range(1 << bits), threads))  # the parts ascend


def is_member(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is one of ``members`` (distinct, ascending).

    Up to as many members as values: a table of the members, probed once per value. More
    members (the common shingles of a whole dump, looked up for one shard of it): building
    their table would cost more than the lookups (9M members for 3M values: ~1.5 s against
    ~0.1 s), so the values are sorted (numpy's argsort, twice as fast as a compiled one here)
    and walked along the members."""
    if members.size <= values.size:
        return member_mask(values, members)
    return walked_member_mask(values, np.argsort(values), members)


def common_mask(shingles: ShingleSets, common_df: int, threads: int = 1) -> np.ndarray:
    """Which entries of ``shingles.values`` are common: found in more than ``common_df``
    documents (counted and looked up on up to ``threads`` threads)."""
    values = shingles.values
    common = common_values(values, common_df, threads)
    return np.concatenate(split_map(lambda span: is_member(values[span[0] : span[1]], common),
                                    spans(values.size, threads), threads))


def score_pairs(
    shingles: ShingleSets, pairs: np.ndarray, common: np.ndarray | None = None, min_specific: int = 10,
    threads: int = 1,
) -> Scores:
    """Exact Jaccard, containment and specific containment of every pair ``(i, j)``.

    ``common`` flags the common entries of ``shingles.values`` (:func:`common_mask`); none
    are common when it is not given. Ranges of pairs are scored on up to ``threads`` threads.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    common = np.zeros(shingles.values.size, dtype=bool) if common is None else common
    counted = split_map(lambda span: pair_overlaps(shingles.values, shingles.offsets, common, pairs[span[0] : span[1]]),
                        spans(len(pairs), threads), threads)
    shared, own, own_shared = (np.concatenate(column) for column in zip(*counted))
    sizes = shingles.sizes
    jaccard, containment = _ratios(shared, sizes[pairs[:, 0]], sizes[pairs[:, 1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        specific = np.where(own >= min_specific, own_shared / np.maximum(own, 1), np.nan)
    return Scores(shared, jaccard, containment, specific)


def _ratios(shared: np.ndarray, sizes_a: np.ndarray, sizes_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard and containment of pairs of sets of ``sizes_a`` and ``sizes_b`` shingles
    that have ``shared`` in common."""
    union = sizes_a + sizes_b - shared
    smaller = np.minimum(sizes_a, sizes_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
        containment = np.where(smaller > 0, shared / np.maximum(smaller, 1), 0.0)
    return jaccard, containment


def accepts(thresholds: Thresholds, sizes_a: np.ndarray, sizes_b: np.ndarray, scores: Scores) -> np.ndarray:
    """Which scored pairs are edges under ``thresholds``."""
    smaller = np.minimum(sizes_a, sizes_b)
    long_enough = smaller >= thresholds.min_shingles
    by_jaccard = scores.jaccard >= thresholds.jaccard
    by_containment = (scores.containment >= thresholds.containment) & (smaller >= thresholds.min_contained)
    specific_ok = np.isnan(scores.specific) | (scores.specific >= thresholds.specific)
    return long_enough & (by_jaccard | by_containment) & specific_ok


def may_accept(thresholds: Thresholds, sizes_a: np.ndarray, sizes_b: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Which pairs that have ``shared`` shingles in common pass ``thresholds`` on everything
    but specific containment: the only pairs :func:`accepts` can take."""
    jaccard, containment = _ratios(shared, sizes_a, sizes_b)
    return accepts(thresholds, sizes_a, sizes_b, Scores(shared, jaccard, containment, np.full(shared.size, np.nan)))


def verify(
    shingles: ShingleSets, pairs: np.ndarray, thresholds: Thresholds, common: np.ndarray | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, Scores]:
    """The candidate pairs that pass ``thresholds``, with their scores (on up to ``threads`` threads)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    scores = score_pairs(shingles, pairs, common, thresholds.min_specific, threads)
    sizes = shingles.sizes
    keep = accepts(thresholds, sizes[pairs[:, 0]], sizes[pairs[:, 1]], scores)
    return pairs[keep], scores.take(keep)
