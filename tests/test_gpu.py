"""The GPU signature kernel is bit-identical to the CPU path: on a real GPU when there is
one, else under numba's CUDA simulator (in a child process, which the simulator needs
from the start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dedup import gpu
from dedup.minhash import MinHasher
from dedup.pool import process_pool, start_method
from dedup.shingle import shingle

ROOT = Path(__file__).resolve().parent.parent
CHECK = """
import numpy as np
from pathlib import Path
import dedup.gpu
from dedup.minhash import MinHasher
from dedup.shingle import shingle
texts = [p.read_text(encoding="utf-8") for p in sorted(Path("seeds").glob("*.txt"))] + ["", "one", "a b c d e"]
texts.append(" ".join(texts))  # a long document: thousands of shingles for one block
sets = shingle(texts, 3)
assert sets.sizes.max() > 2048, sets.sizes.max()
dedup.gpu._DOCS_PER_SLICE = 3  # several slices, through both streams
for num_perm, seed in ((128, 1), (16, 7), (200, 3)):
    cpu = MinHasher(num_perm, seed, device="cpu").signatures(sets)
    gpu = MinHasher(num_perm, seed, device="gpu").signatures(sets)
    assert gpu.dtype == np.uint32 and gpu.shape == cpu.shape, (gpu.dtype, gpu.shape)
    assert (gpu == cpu).all(), (num_perm, seed)
print("identical")
"""


def test_the_kernel_matches_the_cpu() -> None:
    """On the GPU when there is one, else under numba's CUDA simulator."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if not gpu.available():
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "identical"


def test_asking_for_a_gpu_without_one_is_an_error() -> None:
    if gpu.available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        MinHasher(device="gpu").signatures(shingle(["a b c"], 3))


def _usable_here() -> bool:
    return gpu.available()


@pytest.mark.skipif(start_method() != "fork", reason="only forked workers inherit CUDA")
def test_a_worker_forked_after_cuda_was_set_up_signs_on_the_cpu(monkeypatch) -> None:
    """CUDA does not survive a fork (numba raises "CUDA initialized before forking" at the
    worker's first call): such a worker finds no GPU, and device="auto" signs on the CPU."""
    parent = os.getpid()

    def context() -> object:
        if os.getpid() != parent:
            raise RuntimeError("CUDA initialized before forking")
        return object()

    monkeypatch.setattr(gpu.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu.cuda, "current_context", context)
    gpu._available_in.cache_clear()
    try:
        assert gpu.available()  # the parent has set CUDA up
        pool = process_pool(1)
        try:
            assert pool.submit(_usable_here).result(timeout=120) is False
        finally:
            pool.shutdown()
    finally:
        gpu._available_in.cache_clear()


class _BrokenCuda:
    """A GPU module whose CUDA package fails to load against this NumPy."""

    @staticmethod
    def available() -> bool:
        raise AttributeError("module 'numpy' has no attribute 'row_stack'")


def test_a_cuda_install_that_fails_to_load_leaves_auto_on_the_cpu(monkeypatch) -> None:
    import dedup

    sets = shingle(["a b c d e f", "one two three four"], 3)
    expected = MinHasher(device="cpu").signatures(sets)
    monkeypatch.setattr(dedup, "gpu", _BrokenCuda)
    assert (MinHasher(device="auto").signatures(sets) == expected).all()
    with pytest.raises(AttributeError, match="row_stack"):
        MinHasher(device="gpu").signatures(sets)
