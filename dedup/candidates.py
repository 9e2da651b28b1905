"""Candidate pairs of a batch: LSH over whole documents and over windows of long ones.

Whole-document MinHash estimates Jaccard, which is low for a short copy of a long
text (a lead-only truncation, one installment of a wire statement): 170 shingles
inside 1,000 have Jaccard 0.17 and rarely share a band. So documents longer than
a window are also signed by their lead (the first half window of words), and
documents longer than two windows by overlapping windows of ``window`` words
(stride half a window); a short copy has a high Jaccard with the lead or window
it came from. Window rows only propose pairs of their owners; verification stays
exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .lsh import Bands, key_pairs, unique_pairs
from .shingle import offsets_of


@dataclass(frozen=True)
class BandRows:
    """The band keys of the rows LSH buckets, ``(rows, bands)`` uint64: each eligible
    document's whole text (the first ``whole`` rows, in document order), then the leads and
    windows of long ones (in document order); ``owners`` are the rows' document positions."""

    keys: np.ndarray
    owners: np.ndarray
    whole: int

    @classmethod
    def concat(cls, parts: Sequence[BandRows], sizes: Sequence[int]) -> BandRows:
        """The rows of batches laid end to end (part ``k`` holding ``sizes[k]`` documents; at
        least one part), in the order one batch of all their documents has: whole texts
        first, then windows."""
        starts = offsets_of(sizes)[:-1].tolist()
        wholes = [(p.keys[: p.whole], p.owners[: p.whole] + start) for p, start in zip(parts, starts)]
        windows = [(p.keys[p.whole :], p.owners[p.whole :] + start) for p, start in zip(parts, starts)]
        rows = wholes + windows
        return cls(np.concatenate([k for k, _ in rows]), np.concatenate([o for _, o in rows]), sum(p.whole for p in parts))

    def take(self, positions: Sequence[int] | np.ndarray) -> BandRows:
        """The rows of the documents at ``positions`` (distinct, in any order), renumbered
        ``0, 1, ...`` in that order: whole texts first, then windows, each by new number
        (a document's windows keep their order)."""
        positions = np.asarray(positions, dtype=np.int64)
        number = np.full(max(int(self.owners.max(initial=-1)), int(positions.max(initial=-1))) + 1, -1, dtype=np.int64)
        number[positions] = np.arange(positions.size)
        owners = number[self.owners]
        kept = np.flatnonzero(owners >= 0)
        window = kept >= self.whole
        order = kept[np.lexsort((owners[kept], window))]  # a stable sort: windows keep their order
        return BandRows(self.keys[order], owners[order], int(kept.size - window.sum()))

    def leads(self) -> BandRows:
        """The rows of whole texts and leads, without the windows (a long document's lead is
        its first row after the whole texts)."""
        windows = self.owners[self.whole :]
        first = np.ones(windows.size, dtype=bool)
        first[1:] = windows[1:] != windows[:-1]
        keep = np.concatenate((np.ones(self.whole, dtype=bool), first))
        return BandRows(self.keys[keep], self.owners[keep], self.whole)

    def candidates(self, max_bucket: int, threads: int = 1) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, of documents that share a band, whole or windowed
        (buckets over ``max_bucket`` as in :meth:`dedup.lsh.Bands.candidates`), bucketed on
        up to ``threads`` threads."""
        pairs = self.owners[key_pairs(self.keys, max_bucket, threads)]
        return unique_pairs(pairs[:, 0], pairs[:, 1])


def band_rows(signatures: np.ndarray, eligible: np.ndarray, windows: np.ndarray, owners: np.ndarray,
              bands: Bands) -> BandRows:
    """The :class:`BandRows` of the ``eligible`` documents: the band keys of their whole-text
    ``signatures``, then of the signatures ``windows`` of leads and windows of documents
    ``owners`` (:func:`dedup.shingle.shingle_windows`)."""
    whole, kept = np.flatnonzero(eligible), eligible[owners]
    if not kept.all():
        windows, owners = windows[kept], owners[kept]
    keys = np.concatenate([bands.keys(signatures[whole]), bands.keys(windows)])  # no copy of the windows
    return BandRows(keys, np.concatenate([whole, owners]), whole.size)
