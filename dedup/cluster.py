"""Clusters from verified edges: union-find, a chain guard, and the canonical choice.

Connected components alone chain stories together: A~B and B~C put A and C in one
cluster even when they share nothing. So every component is re-cut around its
canonical copy: a member stays only if it verifies against the canonical itself;
the others are clustered again among themselves, with the edges they have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import kernels
from .shingle import ShingleSets, segment_positions
from .verify import Scores, Thresholds, accepts, score_pairs


@dataclass(frozen=True)
class Group:
    """One cluster as document positions: the canonical, every member (canonical
    first), each member's exact scores against the canonical, and why the canonical
    was chosen."""

    canonical: int
    members: np.ndarray
    scores: Scores
    reason: str


@dataclass(frozen=True)
class Provenance:
    """Per-document facts the canonical choice breaks ties with.

    ``dates``: ISO-like sortable date strings or None; ``removed``: characters the
    stripper cut from each document; ``ids``: document ids, the last tie-break, so that
    the result does not depend on input order (positions when not given).
    """

    dates: Sequence[str | None]
    removed: np.ndarray
    ids: Sequence[str] | None = None

    def order_key(self, position: int) -> str | int:
        """What breaks a tie that every other criterion leaves."""
        return self.ids[position] if self.ids is not None else position


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member position) of every node."""
    parent = np.arange(n)
    kernels.union(parent, np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    return kernels.settle(parent)


#: A component holding more than this share of all shingle entries counts them by
#: corpus-wide shingle ids (one ``bincount`` over every id) instead of sorting its own:
#: a giant chained component is re-cut hundreds of times.
_COUNT_BY_ID = 1 / 16


def _coverage(members: np.ndarray, shingles: ShingleSets, shingle_ids: Callable[[], np.ndarray]) -> np.ndarray:
    """Each member's share of the component's shingles, each shingle weighted by the number
    of members that hold it (``shingle_ids()``: a dense id per entry of ``shingles.values``)."""
    at = segment_positions(shingles.offsets, members)
    if at.size > _COUNT_BY_ID * shingles.values.size:
        ids = shingle_ids()[at]
        weight = np.bincount(ids)[ids]
    else:
        _, where, support = np.unique(shingles.values[at], return_inverse=True, return_counts=True)
        weight = support[where]
    running = np.concatenate(([0], np.cumsum(weight)))
    ends = np.cumsum(shingles.sizes[members])
    return (running[ends] - running[ends - shingles.sizes[members]]) / max(at.size, 1)


def _choose_canonical(members: np.ndarray, shingles: ShingleSets, provenance: Provenance,
                      shingle_ids: Callable[[], np.ndarray]) -> tuple[int, str]:
    """The most complete copy, then the earliest dated, then the least stripped.

    Completeness is the share of the cluster's shingles a copy holds, each
    shingle weighted by the number of copies that hold it: a complete copy covers
    the shared text, while edits and additions found in one copy only count little.
    """
    coverage = _coverage(members, shingles, shingle_ids)
    # Only members whose coverage can round to the best (and one more, so that there is
    # a runner-up) are ranked on every criterion.
    ranked = np.argsort(-coverage, kind="stable")
    near = max(2, int(np.count_nonzero(coverage >= coverage[ranked[0]] - 0.002)))
    keys = [
        (-round(float(coverage[i]), 3), provenance.dates[int(members[i])] or "\uffff",
         int(provenance.removed[int(members[i])]), -int(shingles.sizes[members[i]]), provenance.order_key(int(members[i])))
        for i in ranked[:near]
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    best, runner = keys[order[0]], keys[order[1]]
    best_pos = int(members[ranked[order[0]]])
    share = f"holds {-best[0]:.0%} of the cluster's shared text"
    if best[0] != runner[0]:
        return best_pos, f"most complete copy: {share}"
    if best[1] != runner[1]:
        return best_pos, f"{share}, tied; earliest date {best[1]}"
    if best[2] != runner[2]:
        return best_pos, f"{share}, tied; fewest characters stripped ({best[2]})"
    if best[3] != runner[3]:
        return best_pos, f"{share}, tied; longest text ({-best[3]} shingles)"
    return best_pos, f"{share}, tied on every criterion; first by id"


def _scores_against(
    canonical: int, members: np.ndarray, shingles: ShingleSets, common: np.ndarray | None, thresholds: Thresholds
) -> Scores:
    pairs = np.stack([np.full(members.size, canonical), members], axis=1)
    return score_pairs(shingles, pairs, common, thresholds.min_specific)


def _parts(members: np.ndarray, edges: np.ndarray, weights: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Connected components of sorted ``members`` under ``edges`` (all among ``members``),
    each as ``(its members, its edges, their weights)``."""
    if not members.size:
        return []
    local = np.searchsorted(members, edges)
    labels = components(members.size, local)
    order = np.argsort(labels, kind="stable")
    edge_order = np.argsort(labels[local[:, 0]], kind="stable")
    edge_labels = labels[local[edge_order, 0]]
    parts = []
    for part in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1):
        lo, hi = np.searchsorted(edge_labels, [labels[part[0]], labels[part[0]] + 1])
        mine = edge_order[lo:hi]
        parts.append((members[part], edges[mine], weights[mine]))
    return parts


def _prefers_outside(star: np.ndarray, canonical: int, edges: np.ndarray, weights: np.ndarray,
                     against: np.ndarray) -> np.ndarray:
    """Which star members have a verified partner outside the star, among the ends of
    ``edges``, more similar to them (by Jaccard) than the canonical is (``against``)."""
    in_first, in_second = np.isin(edges[:, 0], star), np.isin(edges[:, 1], star)
    crossing = in_first ^ in_second
    inside = np.where(in_first[crossing], edges[crossing, 0], edges[crossing, 1])
    best = np.zeros(star.size)
    np.maximum.at(best, np.searchsorted(star, inside), weights[crossing])
    return (star != canonical) & (best > against)


def cluster(
    n: int,
    edges: np.ndarray,
    shingles: ShingleSets,
    thresholds: Thresholds,
    provenance: Provenance,
    common: np.ndarray | None = None,
    edge_jaccard: np.ndarray | None = None,
) -> list[Group]:
    """Partition positions ``0..n-1`` into groups; every position lands in exactly one.

    Each connected component is cut around its canonical: members that verify against
    it stay, unless a verified partner outside that star is more similar to them than
    the canonical (``edge_jaccard``, the Jaccard of each edge) — then they follow their
    best match, and the star is checked again until no member leaves. The rest are clustered again among themselves. ``common`` are the
    flags of the corpus's common shingles (see :func:`dedup.verify.common_mask`).
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edge_jaccard = np.zeros(len(edges)) if edge_jaccard is None else np.asarray(edge_jaccard)
    groups: list[Group] = []
    pending = _parts(np.arange(n), edges, edge_jaccard)
    shingle_ids = lru_cache(maxsize=1)(lambda: np.unique(shingles.values, return_inverse=True)[1])
    sizes = shingles.sizes
    while pending:
        members, own_edges, own_weights = pending.pop()
        if members.size == 1:
            m = int(members[0])
            one = np.ones(1)
            groups.append(Group(m, members, Scores(np.array([sizes[m]]), one, one, one), "no verified copy"))
            continue
        canonical, reason = _choose_canonical(members, shingles, provenance, shingle_ids)
        scores = _scores_against(canonical, members, shingles, common, thresholds)
        fits = accepts(thresholds, np.full(members.size, sizes[canonical]), sizes[members], scores)
        fits |= members == canonical
        while True:  # to a fixed point: once a member leaves, its star partners may prefer it too
            leave = _prefers_outside(members[fits], canonical, own_edges, own_weights, scores.jaccard[fits])
            if not leave.any():
                break
            fits[np.flatnonzero(fits)[leave]] = False
        kept = np.concatenate(([canonical], members[fits & (members != canonical)]))
        pick = np.searchsorted(members, kept)
        groups.append(Group(canonical, kept, scores.take(pick), reason))
        if (~fits).any():
            rest = members[~fits]
            among = np.isin(own_edges, rest).all(axis=1)
            pending.extend(_parts(rest, own_edges[among], own_weights[among]))
    groups.sort(key=lambda g: (-g.members.size, provenance.order_key(g.canonical)))
    return groups
