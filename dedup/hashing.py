"""MurmurHash3's finalizer: the avalanching bijection every hash here ends with.

:mod:`dedup.kernels` has compiled scalar copies (``fmix64``, ``fmix32``) for its
loops; a test holds them equal to :func:`fmix`.
"""

from __future__ import annotations

import numpy as np

# (dtype, shift1, multiplier1, shift2, multiplier2, shift3) per width.
_FMIX = {
    32: (np.uint32, 16, 0x85EBCA6B, 13, 0xC2B2AE35, 16),
    64: (np.uint64, 33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33),
}


def fmix(values: np.ndarray, bits: int) -> np.ndarray:
    """MurmurHash3's ``bits``-bit finalizer (32 or 64), element-wise, on a copy.

    Multiplications wrap modulo ``2**bits``, which is the intended arithmetic.
    """
    dtype, s1, m1, s2, m2, s3 = _FMIX[bits]
    h = np.asarray(values).astype(dtype, copy=True)
    h ^= h >> dtype(s1)
    h *= dtype(m1)
    h ^= h >> dtype(s2)
    h *= dtype(m2)
    h ^= h >> dtype(s3)
    return h
