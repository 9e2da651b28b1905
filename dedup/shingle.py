"""Word n-gram shingles of whole batches, hashed to 64-bit integers.

The code points of a whole batch are laid end to end in one UTF-32 array and a
compiled kernel (:mod:`dedup.kernels`) normalizes them through a per-code-point
table (:mod:`dedup.normalize`), hashes every word (a seeded polynomial hash over
its key code points, then a 64-bit avalanche), combines the word hashes
of each sliding window with position-dependent odd multipliers, and sorts and
de-duplicates each document's shingles. With :func:`shingle_windows` the same pass
also signs the lead and windows of each long document (:mod:`dedup.candidates`).
No Python code runs per character, word or shingle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import kernels
from .normalize import chunks, compiled, run_kernel

_U64 = np.uint64
_NGRAM_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=_U64,
)
MAX_NGRAM = len(_NGRAM_MULTIPLIERS)


@dataclass(frozen=True)
class ShingleSets:
    """Sorted, de-duplicated shingle hashes of many documents in one flat array.

    Document ``i`` owns ``values[offsets[i]:offsets[i + 1]]``; ``words[i]`` is its
    number of normalized words.
    """

    values: np.ndarray
    offsets: np.ndarray
    words: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @cached_property
    def sizes(self) -> np.ndarray:
        """Number of distinct shingles of each document."""
        return np.diff(self.offsets)

    def take(self, rows: Sequence[int] | np.ndarray) -> ShingleSets:
        """The documents ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        at = segment_positions(self.offsets, rows)
        return ShingleSets(self.values[at], offsets_of(self.sizes[rows]), self.words[rows])

    @classmethod
    def empty(cls) -> ShingleSets:
        """No documents."""
        return cls(np.zeros(0, dtype=_U64), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @classmethod
    def concat(cls, parts: Sequence[ShingleSets]) -> ShingleSets:
        """The documents of ``parts`` (at least one), one part after another."""
        return cls(
            values=np.concatenate([p.values for p in parts]),
            offsets=offsets_of(np.concatenate([p.sizes for p in parts])),
            words=np.concatenate([p.words for p in parts]),
        )


def offsets_of(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """Offsets of rows of ``sizes`` entries laid end to end (``len(sizes) + 1`` of them)."""
    return np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))).astype(np.int64)


def segment_positions(offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions of the entries of ``rows`` in a flat array where row ``i`` owns
    ``offsets[i]:offsets[i + 1]``, row after row (each row's entries in order)."""
    starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))


def word_hashes(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word of ``keys`` (raw or already normalized: the same words).

    Returns the word hashes of all documents end to end and the number of words of
    each document.
    """
    parts = compiled(kernels.word_hashes, keys)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def shingle(texts: Sequence[str], ngram: int = 3) -> ShingleSets:
    """Word ``ngram``-gram shingle sets of ``texts`` (raw text; normalized here).

    A document with fewer than ``ngram`` words (but at least one) gets a single
    shingle of all its words, so that short texts still have a key.
    """
    return _shingled(texts, ngram, 0, np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.uint32), False)[0]


def shingle_keys(keys: Sequence[str], ngram: int) -> ShingleSets:
    """Like :func:`shingle`, for texts that are already normalized keys.

    Normalizing is idempotent, so this gives exactly ``shingle(texts, ngram)`` for
    ``keys = [normalize(t) for t in texts]``.
    """
    return shingle(keys, ngram)


def shingle_windows(
    keys: Sequence[str], ngram: int, width: int, a: np.ndarray, b: np.ndarray, windows: bool = True
) -> tuple[ShingleSets, np.ndarray, np.ndarray]:
    """:func:`shingle_keys` of ``keys``, and the MinHash signatures (permutations ``a``,
    ``b``, as :class:`dedup.minhash.MinHasher`) of the leads and windows of the keys of more
    than ``width`` words (none when ``width`` is 0): ``(sets, signatures, owners)``, one
    ``(rows, len(a))`` uint32 signature per row, row ``r`` belonging to key ``owners[r]``.

    A key longer than ``width`` words gets its first ``width // 2`` words; one longer
    than ``2 * width`` words also gets windows of ``width`` words, stride ``width // 2``,
    the last one ending with the key (unless ``windows`` is False: leads only). A row is
    signed as the shingle set :func:`shingle_keys` finds in its words as a text of their
    own; the n-grams are hashed once per key, for its set and its rows together.
    """
    return _shingled(keys, ngram, width, a, b, windows)


def _shingled(
    texts: Sequence[str], ngram: int, width: int, a: np.ndarray, b: np.ndarray, windows: bool
) -> tuple[ShingleSets, np.ndarray, np.ndarray]:
    if not 1 <= ngram <= MAX_NGRAM:
        raise ValueError(f"ngram must be between 1 and {MAX_NGRAM}, got {ngram}")
    texts = texts if isinstance(texts, (list, tuple)) else list(texts)
    # One output for the whole batch, written chunk after chunk by the kernel.
    values = np.empty(max(16, sum(map(len, texts)) // 4), dtype=_U64)
    pos = 0
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    counts = np.zeros(len(texts), dtype=np.int64)
    signatures, owners = [np.zeros(0, dtype=np.uint32)], [np.zeros(0, dtype=np.int64)]
    for lo, hi in chunks(texts):
        values, part_offsets, part_counts, pos, part_signatures, part_owners = run_kernel(
            kernels.shingle_docs, texts[lo:hi], ngram, _NGRAM_MULTIPLIERS, values, pos, width, windows, a, b
        )
        offsets[lo + 1 : hi + 1] = part_offsets[1:]
        counts[lo:hi] = part_counts
        signatures.append(part_signatures)
        owners.append(part_owners + lo)
    # A view when the guess was close (no copy), a copy when it wasted over half.
    values = values[:pos] if 2 * pos >= values.size else values[:pos].copy()
    rows = np.concatenate(signatures).reshape(-1, len(a)) if len(a) else np.zeros((0, 0), dtype=np.uint32)
    return ShingleSets(values=values, offsets=offsets, words=counts), rows, np.concatenate(owners)


