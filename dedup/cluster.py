"""Clusters from verified edges: union-find, a chain guard, and the canonical choice.

Connected components alone chain stories together: A~B and B~C put A and C in one
cluster even when they share nothing. So every component is re-cut around its
canonical copy: a member stays only if it verifies against the canonical itself;
the others are clustered again among themselves, with the edges they have.

A giant chained component is cut hundreds of times, a star at a time, so what a cut
needs is kept up to date rather than recomputed (a :class:`_Piece`): how many members
hold each shingle, each member's coverage as an upper bound that only the leaders
recompute, which members hold each shingle (to count what they share with the
canonical, so that only those that can verify are scored), and the edges still inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import kernels
from .shingle import ShingleSets, offsets_of
from .verify import Scores, Thresholds, accepts, may_accept, score_pairs


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

    def take(self, positions: Sequence[int]) -> Provenance:
        """The facts of the documents at ``positions``, in that order."""
        ids = None if self.ids is None else [self.ids[p] for p in positions]
        return Provenance([self.dates[p] for p in positions], self.removed[list(positions)], ids)


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member position) of every node."""
    parent = np.arange(n)
    kernels.union(parent, np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    return kernels.settle(parent)


#: Members whose coverage is this close to the best are ranked on every criterion.
_NEAR = 0.002
#: A piece of at most this many documents scores all of them against the canonical:
#: sorting out first those that cannot verify costs more than it saves.
_SCORE_ALL = 64


def choose_canonical(positions: np.ndarray, coverage: np.ndarray, shingles: ShingleSets,
                     provenance: Provenance) -> tuple[int, str]:
    """The most complete copy, then the earliest dated, then the least stripped.

    Completeness is the share of the cluster's shingles a copy holds, each
    shingle weighted by the number of copies that hold it: a complete copy covers
    the shared text, while edits and additions found in one copy only count little.
    ``positions`` are the members whose coverage is within :data:`_NEAR` of the best
    (and the runner-up when the best is alone), ``coverage`` theirs.
    """
    keys = [
        (-round(float(c), 3), provenance.dates[p] or "\uffff", int(provenance.removed[p]), -int(shingles.sizes[p]),
         provenance.order_key(p))
        for p, c in zip(positions.tolist(), coverage.tolist())
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    best, runner = keys[order[0]], keys[order[1]]
    best_pos = int(positions[order[0]])
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


def _parts(members: np.ndarray, edges: np.ndarray, weights: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Connected components of sorted ``members`` under ``edges`` (all among ``members``),
    each as ``(its members, its edges, their weights)``."""
    if not members.size:
        return []
    local = np.searchsorted(members, edges)
    labels = components(members.size, local)
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.diff(labels[order])) + 1
    heads = labels[order[np.concatenate(([0], starts))]]  # each part's label
    edge_order = np.argsort(labels[local[:, 0]], kind="stable")
    edge_labels = labels[local[edge_order, 0]]
    edges, weights = edges[edge_order], weights[edge_order]
    bounds = zip(np.searchsorted(edge_labels, heads).tolist(), np.searchsorted(edge_labels, heads, side="right").tolist())
    return [(part, edges[lo:hi], weights[lo:hi]) for part, (lo, hi) in zip(np.split(members[order], starts), bounds)]


class _Piece:
    """A connected set of documents being cut into stars (rows: its members in position
    order), with what each cut needs kept up to date as members leave."""

    def __init__(self, members: np.ndarray, edges: np.ndarray, weights: np.ndarray, shingles: ShingleSets) -> None:
        n = members.size
        self.positions, self.sizes = members, shingles.sizes[members]
        self.alive = np.ones(n, dtype=bool)
        # shingles: dense ids of each row's entries, how many rows hold each, which rows
        self.ids, n_ids = kernels.entry_ids(shingles.values, shingles.offsets, members)
        self.row_offsets = offsets_of(self.sizes)
        self.counts = np.bincount(self.ids, minlength=n_ids)
        self.holder_starts, self.holders = kernels.group_by(self.ids, n_ids, np.repeat(np.arange(n), self.sizes))
        self.total = int(self.sizes.sum())
        # edges: their rows, those still inside, and the edges of each row
        self.ends, self.weights = np.searchsorted(members, edges), weights
        self.live = np.arange(len(edges))
        self.incident_starts, self.incident = kernels.group_by(self.ends.T.ravel(), n, np.tile(self.live, 2))
        # coverage sums: upper bounds in a max-heap, exact where fresh[row] == epoch
        self.bound = kernels.row_sums(self.ids, self.row_offsets, self.counts)
        self.fresh = np.zeros(n, dtype=np.int64)
        self.epoch = 0
        self.heap = np.arange(n)
        self.heap_size = n
        kernels.heapify(self.heap, self.bound)

    def leaders(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows whose coverage is within :data:`_NEAR` of the best (and the runner-up
        when the best is alone), and their coverage."""
        total = max(self.total, 1)
        rows, self.heap_size = kernels.leaders(self.heap, self.heap_size, self.bound, self.fresh, self.epoch,
                                               self.alive, self.ids, self.row_offsets, self.counts, total, _NEAR)
        return rows, self.bound[rows] / total

    def shared_with(self, row: int) -> np.ndarray:
        """How many shingles of ``row`` each row holds (0 for rows gone)."""
        return kernels.shared_with(row, self.ids, self.row_offsets, self.holder_starts, self.holders, self.alive)

    def settle(self, star: np.ndarray, center: int, against: np.ndarray) -> None:
        """Drop from ``star`` the members that prefer a partner left outside it (see
        :func:`dedup.kernels.settle_star`)."""
        kernels.settle_star(star, center, against, self.incident_starts, self.incident, self.ends, self.weights,
                            self.alive)

    def drop(self, rows: np.ndarray) -> None:
        """Take ``rows`` out of the piece."""
        kernels.drop_rows(rows, self.ids, self.row_offsets, self.counts, self.alive)
        self.total -= int(self.sizes[rows].sum())
        self.epoch += 1

    def split(self) -> list[tuple[np.ndarray, ...]]:
        """Keep the largest connected part of the rows left; the other parts leave the
        piece and are returned as ``(members, edges, weights)``."""
        labels, self.live = kernels.split_parts(self.ends, self.live, self.alive)
        rows = np.flatnonzero(self.alive)
        if not rows.size or (labels[rows] == labels[rows[0]]).all():
            return []
        roots, size = np.unique(labels[rows], return_counts=True)
        gone = labels[rows] != roots[np.argmax(size)]
        self.drop(rows[gone])
        edges = self.live[gone[np.searchsorted(rows, self.ends[self.live, 0])]]
        return _parts(self.positions[rows[gone]], self.positions[self.ends[edges]], self.weights[edges])


def _cut(piece: _Piece, shingles: ShingleSets, thresholds: Thresholds, provenance: Provenance,
         common: np.ndarray | None) -> Group:
    """Cut the star of the piece's canonical out of it: the members that verify against
    the canonical and do not prefer a partner left outside the star."""
    rows, coverage = piece.leaders()
    canonical, reason = choose_canonical(piece.positions[rows], coverage, shingles, provenance)
    center = int(np.searchsorted(piece.positions, canonical))
    scored, scores = _scores_against(piece, center, shingles, thresholds, common)
    fits = accepts(thresholds, np.full(scored.size, piece.sizes[center]), piece.sizes[scored], scores)
    star = np.zeros(piece.positions.size, dtype=bool)
    star[scored[fits | (scored == center)]] = True
    against = np.zeros(piece.positions.size)
    against[scored] = scores.jaccard
    piece.settle(star, center, against)  # to a fixed point: once one leaves, its partners may follow
    kept = np.concatenate(([center], np.flatnonzero(star & (np.arange(star.size) != center))))
    piece.drop(np.flatnonzero(star))
    return Group(canonical, piece.positions[kept], scores.take(np.searchsorted(scored, kept)), reason)


def _scores_against(piece: _Piece, center: int, shingles: ShingleSets, thresholds: Thresholds,
                    common: np.ndarray | None) -> tuple[np.ndarray, Scores]:
    """The rows that may verify against row ``center`` (judged on the shingles they share
    with it), the center included, and their exact scores against it."""
    scored = np.flatnonzero(piece.alive)
    if scored.size > _SCORE_ALL:
        shared = piece.shared_with(center)[scored]
        maybe = may_accept(thresholds, np.full(scored.size, piece.sizes[center]), piece.sizes[scored], shared)
        scored = scored[maybe | (scored == center)]
    pairs = np.stack([np.full(scored.size, piece.positions[center]), piece.positions[scored]], axis=1)
    return scored, score_pairs(shingles, pairs, common, thresholds.min_specific)


def alone(position: int, shingles: ShingleSets) -> Group:
    """The group of a document without a verified copy."""
    one = np.ones(1)
    return Group(position, np.array([position]), Scores(np.array([shingles.sizes[position]]), one, one, one),
                 "no verified copy")


def pair_coverage(pairs: np.ndarray, shared: np.ndarray, shingles: ShingleSets) -> np.ndarray:
    """The coverage of each copy of the clusters of two documents ``pairs`` whose copies have
    ``shared`` shingles in common, ``(pairs, 2)``: each holds its own shingles once and the
    shared ones twice, so copy ``d`` covers ``(sizes[d] + shared) / (sizes[a] + sizes[b])``."""
    sizes = shingles.sizes[pairs]
    return (sizes + np.asarray(shared)[:, None]) / sizes.sum(axis=1)[:, None]


def pair_canonicals(pairs: np.ndarray, coverage: np.ndarray, shingles: ShingleSets,
                    provenance: Provenance) -> list[tuple[int, str]]:
    """The canonical of each cluster of two documents ``pairs``, and why
    (:func:`choose_canonical`); ``coverage``: :func:`pair_coverage`."""
    return [choose_canonical(pair, cover, shingles, provenance) for pair, cover in zip(pairs, coverage)]


def _pair_groups(pairs: np.ndarray, shingles: ShingleSets, thresholds: Thresholds, provenance: Provenance,
                 common: np.ndarray | None) -> list[Group]:
    """The groups of components of two documents, ``pairs`` (rows ascending), scored in one
    batch: what :func:`_cut` makes of each, the same groups, without building a piece.

    The canonical (:func:`pair_canonicals`) keeps the other copy when it verifies against it
    (no partner is left outside the star).
    """
    if not pairs.size:
        return []
    shared = score_pairs(shingles, pairs, common, thresholds.min_specific).shared
    chosen = pair_canonicals(pairs, pair_coverage(pairs, shared, shingles), shingles, provenance)
    centers = np.array([canonical for canonical, _ in chosen], dtype=np.int64)
    against = np.stack([np.repeat(centers, 2), pairs.ravel()], axis=1)  # each canonical against both rows
    scores = score_pairs(shingles, against, common, thresholds.min_specific)
    fits = accepts(thresholds, shingles.sizes[against[:, 0]], shingles.sizes[against[:, 1]], scores)
    groups = []
    for k, (canonical, reason) in enumerate(chosen):
        own, other = (2 * k, 2 * k + 1) if pairs[k, 0] == canonical else (2 * k + 1, 2 * k)
        if fits[other]:
            groups.append(Group(canonical, against[[own, other], 1], scores.take([own, other]), reason))
        else:
            groups += [Group(canonical, against[[own], 1], scores.take([own]), reason),
                       alone(int(against[other, 1]), shingles)]
    return groups


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
    best match, and the star is checked again until no member leaves. The rest are
    clustered again among themselves. ``common`` are the flags of the corpus's common
    shingles (see :func:`dedup.verify.common_mask`).
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    edge_jaccard = np.zeros(len(edges)) if edge_jaccard is None else np.asarray(edge_jaccard, dtype=np.float64)
    parts = _parts(np.arange(n), edges, edge_jaccard)
    pairs = np.array([members for members, _, _ in parts if members.size == 2], dtype=np.int64).reshape(-1, 2)
    groups = _pair_groups(pairs, shingles, thresholds, provenance, common)
    pending = [part for part in parts if part[0].size != 2]
    while pending:
        members, own_edges, own_weights = pending.pop()
        if members.size == 1:
            groups.append(alone(int(members[0]), shingles))
            continue
        piece = _Piece(members, own_edges, own_weights, shingles)
        while piece.alive.any():
            groups.append(_cut(piece, shingles, thresholds, provenance, common))
            pending.extend(piece.split())
            if np.count_nonzero(piece.alive) == 1:
                groups.append(alone(int(piece.positions[piece.alive][0]), shingles))
                break
    groups.sort(key=lambda g: (-g.members.size, provenance.order_key(g.canonical)))
    return groups
