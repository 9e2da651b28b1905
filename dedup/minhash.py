"""Batch MinHash signatures, bit-compatible with datasketch's default scheme.

datasketch 2.x (``scheme="affine32"``) draws its permutations from
``numpy.random.RandomState(seed)``: ``a = 2 * randint(0, 2**31) + 1`` and
``b = randint(0, 2**32)``, both ``num_perm`` uint32 values. Each 32-bit input hash
is pre-mixed with MurmurHash3's 32-bit finalizer, then every permutation maps it
to ``a * h + b mod 2**32``; the signature is the minimum per permutation. Given
the same 32-bit input hashes, :class:`MinHasher` yields exactly datasketch's
``MinHash(num_perm, seed).hashvalues`` — so signatures can be handed to
datasketch's LSH, LSH Forest, LSH Ensemble or its Redis storage.

Our input hashes are the low 32 bits of the 64-bit shingle hashes. The loop over
documents, shingles and permutations is compiled (:mod:`dedup.kernels`); the
permutation loop is plain 32-bit arithmetic that LLVM vectorizes.
"""

from __future__ import annotations

import numpy as np

from .kernels import minhash_docs
from .shingle import ShingleSets

_U32 = np.uint32
EMPTY = np.iinfo(np.uint32).max


class MinHasher:
    """The ``num_perm`` affine permutations of one seed, applied to whole batches."""

    def __init__(self, num_perm: int = 128, seed: int = 1, device: str = "auto") -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be positive, got {num_perm}")
        if device not in ("auto", "cpu", "gpu"):
            raise ValueError(f"device must be auto, cpu or gpu, got {device!r}")
        self.num_perm = num_perm
        self.seed = seed
        self.device = device
        gen = np.random.RandomState(seed)
        self.a = gen.randint(0, 1 << 31, num_perm, dtype=_U32) * _U32(2) + _U32(1)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=_U32)

    def hash_values(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of one set of 32-bit input hashes (datasketch ``hashvalues``)."""
        values = np.asarray(hashes).astype(np.uint64) & np.uint64(0xFFFFFFFF)
        return minhash_docs(values, np.array([0, values.size], dtype=np.int64), self.a, self.b)[0]

    def signatures(self, shingles: ShingleSets) -> np.ndarray:
        """Signatures of every document of ``shingles``: ``(n_docs, num_perm)`` uint32.

        A document without shingles gets the empty signature (all ``2**32 - 1``). On a
        GPU (``device="gpu"``, or ``"auto"`` when one is present) the result is the same.
        """
        values = np.ascontiguousarray(shingles.values, dtype=np.uint64)
        offsets = np.ascontiguousarray(shingles.offsets, dtype=np.int64)
        if self.device != "cpu" and _gpu_ready(self.device):
            from . import gpu

            return gpu.signatures(values, offsets, self.a, self.b)
        return minhash_docs(values, offsets, self.a, self.b)


def _gpu_ready(device: str) -> bool:
    """Whether to sign on the GPU: always for ``gpu`` (failing without one), when one works
    for ``auto`` (a CUDA install that fails to load counts as none there)."""
    try:
        from . import gpu

        usable = gpu.available()
    except Exception:  # not only ImportError: a CUDA package broken against this NumPy raises others
        if device == "gpu":
            raise
        return False
    if device == "gpu" and not usable:
        raise RuntimeError("device='gpu' but no CUDA GPU is available in this process (none found, or CUDA was "
                           "set up before this process was forked: use device='auto' in forked workers)")
    return usable
