"""MinHash signatures on an NVIDIA GPU (numba CUDA kernels; extra ``dedup[gpu]``).

One thread block per document, one thread per permutation: each thread folds the
document's shingle hashes through its permutation (the same MurmurHash3 pre-mix and
``a * h + b mod 2**32`` as :mod:`dedup.minhash`), so signatures are bit-identical to
the CPU path. :class:`dedup.minhash.MinHasher` uses it when a GPU is present
(``device="auto"``). Without CUDA the kernel can still be checked under numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``), which the tests do.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import cuda

from .kernels import fmix32

_MASK = np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether a CUDA GPU (or numba's simulator) can run the kernel."""
    try:
        return bool(cuda.is_available())
    except Exception:  # no driver, no toolkit: no GPU
        return False


_fmix32 = cuda.jit(device=True)(fmix32.py_func)  # the CPU kernels' finalizer, compiled for the GPU


@cuda.jit
def _minhash_kernel(values, offsets, a, b, out):
    d = cuda.blockIdx.x
    p = cuda.threadIdx.x
    while p < a.size:
        ap, bp = np.uint64(a[p]), np.uint64(b[p])
        low = np.uint64(0xFFFFFFFF)
        for i in range(offsets[d], offsets[d + 1]):
            h = _fmix32(values[i] & _MASK)
            x = (ap * h + bp) & _MASK
            if x < low:
                low = x
        out[d, p] = np.uint32(low)
        p += cuda.blockDim.x


_DOCS_PER_LAUNCH = 1 << 17


def signatures(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signatures ``(n_docs, num_perm)`` uint32 of the shingle sets ``values``/``offsets``,
    ``_DOCS_PER_LAUNCH`` documents per kernel launch."""
    n_docs = offsets.size - 1
    out = np.empty((n_docs, a.size), dtype=np.uint32)
    threads = min(128, max(32, a.size))
    device_a, device_b = cuda.to_device(a), cuda.to_device(b)
    for lo in range(0, n_docs, _DOCS_PER_LAUNCH):
        hi = min(lo + _DOCS_PER_LAUNCH, n_docs)
        start, end = int(offsets[lo]), int(offsets[hi])
        part = np.ascontiguousarray(values[start:end], dtype=np.uint64)
        local = np.ascontiguousarray(offsets[lo : hi + 1] - start, dtype=np.int64)
        device_out = cuda.device_array((hi - lo, a.size), dtype=np.uint32)
        _minhash_kernel[hi - lo, threads](cuda.to_device(part), cuda.to_device(local), device_a, device_b, device_out)
        out[lo:hi] = device_out.copy_to_host()
    return out
