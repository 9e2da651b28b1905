"""Batch MinHash signatures, bit-compatible with datasketch's default scheme.

datasketch 2.x (``scheme="affine32"``) draws its permutations from
``numpy.random.RandomState(seed)``: ``a = 2 * randint(0, 2**31) + 1`` and
``b = randint(0, 2**32)``, both ``num_perm`` uint32 values. Each 32-bit input hash
is pre-mixed with MurmurHash3's 32-bit finalizer, then every permutation maps it
to ``a * h + b mod 2**32``; the signature is the minimum per permutation. Given
the same 32-bit input hashes, :class:`MinHasher` yields exactly datasketch's
``MinHash(num_perm, seed).hashvalues`` — so signatures can be handed to
datasketch's LSH, LSH Forest, LSH Ensemble or its Redis storage.

Our input hashes are the low 32 bits of the 64-bit shingle hashes.
"""

from __future__ import annotations

import numpy as np

from .hashing import fmix
from .shingle import ShingleSets

_U32 = np.uint32
EMPTY = np.iinfo(np.uint32).max
_CHUNK = 1 << 16  # shingles per block: bounds the (shingles x num_perm) temporary


class MinHasher:
    """The ``num_perm`` affine permutations of one seed, applied to whole batches."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be positive, got {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        gen = np.random.RandomState(seed)
        self.a = gen.randint(0, 1 << 31, num_perm, dtype=_U32) * _U32(2) + _U32(1)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=_U32)

    def hash_values(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of one set of 32-bit input hashes (datasketch ``hashvalues``)."""
        return self._block_minimum(np.asarray(hashes, dtype=_U32), np.zeros(1, dtype=np.int64))[0]

    def signatures(self, shingles: ShingleSets) -> np.ndarray:
        """Signatures of every document of ``shingles``: ``(n_docs, num_perm)`` uint32.

        A document without shingles gets the empty signature (all ``2**32 - 1``).
        """
        n = len(shingles)
        out = np.full((n, self.num_perm), EMPTY, dtype=_U32)
        sizes = shingles.sizes
        docs = np.flatnonzero(sizes > 0)
        if docs.size == 0:
            return out
        # Blocks of whole documents whose shingles start in the same _CHUNK window.
        window = shingles.offsets[docs] // _CHUNK
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(window)) + 1, [docs.size]))
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            block = docs[lo:hi]
            start, stop = shingles.offsets[block[0]], shingles.offsets[block[-1] + 1]
            values = shingles.values[start:stop].astype(_U32)  # low 32 bits
            out[block] = self._block_minimum(values, shingles.offsets[block] - start)
        return out

    def _block_minimum(self, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
        if values.size == 0:
            return np.full((len(starts), self.num_perm), EMPTY, dtype=_U32)
        permuted = fmix(values, 32)[:, None] * self.a[None, :] + self.b[None, :]
        return np.minimum.reduceat(permuted, starts, axis=0)
