"""MinHash signatures on an NVIDIA GPU (numba CUDA kernels; extra ``dedup[gpu]``).

One thread block per document, one thread per permutation: each thread folds the
document's shingle hashes through its permutation (the same MurmurHash3 pre-mix and
``a * h + b mod 2**32`` as :mod:`dedup.minhash`), so signatures are bit-identical to
the CPU path. Moving the hashes is most of the cost, so only their low 32 bits travel
(the only bits the permutations use), through page-locked buffers, in slices whose
copies overlap the kernels of the slices before them (two CUDA streams).
:class:`dedup.minhash.MinHasher` uses it when a GPU is present (``device="auto"``).
Without CUDA the kernel can still be checked under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), which the tests do.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import pairwise

import numpy as np
from numba import cuda

from .kernels import fmix32


def available() -> bool:
    """Whether a CUDA GPU (or numba's simulator) can run the kernel in this process.

    CUDA does not survive a fork: a worker forked from a process that had set CUDA up
    cannot use it, and signs on the CPU instead (the same signatures). So the answer is
    found in each process, not inherited from the parent.
    """
    return _available_in(os.getpid())


@lru_cache(maxsize=1)
def _available_in(pid: int) -> bool:
    try:  # a context, to find out now whether CUDA works here (it is made for the kernel anyway)
        return bool(cuda.is_available()) and cuda.current_context() is not None
    except Exception:  # no driver, no toolkit, or CUDA set up before this process was forked
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
            h = _fmix32(np.uint64(values[i]))
            x = (ap * h + bp) & np.uint64(0xFFFFFFFF)
            if x < low:
                low = x
        out[d, p] = np.uint32(low)
        p += cuda.blockDim.x


_DOCS_PER_SLICE = 1 << 14
_COPY_THREADS = 4  # threads narrowing a slice's hashes into its page-locked buffer


class _Lane:
    """One stream with its page-locked host buffers and device buffers for one slice."""

    def __init__(self, hashes: int, docs: int, num_perm: int) -> None:
        self.stream = cuda.stream()
        self.host_in = cuda.pinned_array(max(hashes, 1), dtype=np.uint32)
        self.host_out = cuda.pinned_array((docs, num_perm), dtype=np.uint32)
        self.device_in = cuda.device_array(max(hashes, 1), dtype=np.uint32)
        self.device_out = cuda.device_array((docs, num_perm), dtype=np.uint32)
        self.offsets = None  # the slice's document offsets on the device, held while it runs
        self.done: slice | None = None  # the documents whose signatures are on their way back

    def collect(self, out: np.ndarray) -> None:
        """Wait for the slice in flight and copy its signatures into ``out``."""
        self.stream.synchronize()
        if self.done is not None:
            out[self.done] = self.host_out[: self.done.stop - self.done.start]
            self.done = None


def signatures(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signatures ``(n_docs, num_perm)`` uint32 of the shingle sets ``values``/``offsets``,
    one kernel launch per slice of at most ``_DOCS_PER_SLICE`` documents."""
    n_docs = offsets.size - 1
    out = np.empty((n_docs, a.size), dtype=np.uint32)
    if not n_docs:
        return out
    per_slice = min(_DOCS_PER_SLICE, -(-n_docs // 4))  # a smaller batch still overlaps four slices
    bounds = [*range(0, n_docs, per_slice), n_docs]
    widest = max(int(offsets[hi] - offsets[lo]) for lo, hi in pairwise(bounds))
    lanes = [_Lane(widest, per_slice, a.size) for _ in range(min(2, len(bounds) - 1))]
    device_a, device_b = cuda.to_device(a), cuda.to_device(b)
    threads = min(128, max(32, a.size))
    copy_threads = min(_COPY_THREADS, os.cpu_count() or 1)
    with ThreadPoolExecutor(copy_threads) as copiers:
        for k, (lo, hi) in enumerate(pairwise(bounds)):
            lane = lanes[k % len(lanes)]
            lane.collect(out)  # its buffers are free again
            start, end = int(offsets[lo]), int(offsets[hi])
            device_in = lane.device_in[: max(end - start, 1)]
            if end > start:
                _narrow(values[start:end], lane.host_in[: end - start], copiers, copy_threads)
                device_in.copy_to_device(lane.host_in[: end - start], stream=lane.stream)
            lane.offsets = cuda.to_device(np.asarray(offsets[lo : hi + 1] - start, dtype=np.int64), stream=lane.stream)
            device_out = lane.device_out[: hi - lo]
            _minhash_kernel[hi - lo, threads, lane.stream](device_in, lane.offsets, device_a, device_b, device_out)
            device_out.copy_to_host(lane.host_out[: hi - lo], stream=lane.stream)
            lane.done = slice(lo, hi)
    for lane in lanes:
        lane.collect(out)
    return out


def _narrow(hashes: np.ndarray, low: np.ndarray, copiers: ThreadPoolExecutor, parts: int) -> None:
    """``low[:] = hashes & 0xFFFFFFFF`` (uint64 to uint32), in ``parts`` on ``copiers``
    (NumPy releases the GIL while it copies)."""
    cuts = np.linspace(0, hashes.size, parts + 1).astype(np.int64).tolist()
    spans = [(lo, hi) for lo, hi in pairwise(cuts) if hi > lo]
    list(copiers.map(lambda span: np.copyto(low[span[0] : span[1]], hashes[span[0] : span[1]], casting="unsafe"), spans))
