"""Signature throughput: raw text to MinHash signatures, dedup against datasketch and rensa.

Every contender goes from the same raw texts to 128-permutation signatures of word
3-grams:

* datasketch ``MinHash.bulk`` and rensa ``RMinHash.digest_matrix_from_token_sets``
  are fed by a plain Python tokenizer (``text.split()``, 3-grams joined by spaces,
  UTF-8 bytes; no normalization), whose time is counted in theirs;
* dedup: ``MinHasher(128, 1).signatures(shingle(texts, 3))`` (normalization,
  tokenizing and hashing included).

Run ``python benchmarks/bench_signatures.py [--docs N] [--repeat R]`` for a table
(best of R runs each: the machine is shared and timings are noisy), or
``pytest benchmarks/bench_signatures.py`` for pytest-benchmark. Uses the first
5,000 SaudiNewsNet articles from ``../shared/data`` when present, else the seeds
repeated. rensa is optional (``pip install rensa``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from dedup import gpu
from dedup.minhash import MinHasher
from dedup.shingle import ShingleSets, offsets_of, shingle

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "saudinewsnet" / "saudinewsnet.jsonl.gz"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
N_DOCS = 5000
NUM_PERM = 128
NGRAM = 3

try:
    import rensa
except ImportError:  # optional contender
    rensa = None


def load_texts(n: int = N_DOCS) -> list[str]:
    if DATA.exists():
        with gzip.open(DATA, "rt", encoding="utf-8") as fh:
            return [json.loads(line)["text"] for _, line in zip(range(n), fh)]
    print(f"{DATA} not found: using the seeds repeated", file=sys.stderr)
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return [seeds[i % len(seeds)] + f" {i}" for i in range(n)]


def python_tokens(texts: list[str], ngram: int = NGRAM) -> list[list[bytes]]:
    """The straightforward tokenizer the other libraries get: split, n-grams, UTF-8."""
    sets = []
    for text in texts:
        w = text.split()
        grams = [" ".join(w[i : i + ngram]) for i in range(max(1, len(w) - ngram + 1))] if w else []
        sets.append([g.encode("utf-8") for g in grams])
    return sets


def run_datasketch(texts: list[str]) -> np.ndarray:
    from datasketch import MinHash

    return np.array([m.hashvalues for m in MinHash.bulk(python_tokens(texts), num_perm=NUM_PERM, seed=1)])


def run_rensa(texts: list[str]):
    """An ``RMinHashDigestMatrix`` (kept as is: converting it to rows is not timed)."""
    return rensa.RMinHash.digest_matrix_from_token_sets(python_tokens(texts), NUM_PERM, 1)


def run_dedup(texts: list[str]) -> np.ndarray:
    return MinHasher(NUM_PERM, 1, device="cpu").signatures(shingle(texts, NGRAM))


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def first_call_seconds() -> float:
    """Import plus first signature in a fresh interpreter (numba's on-disk cache warm)."""
    code = (
        "import time; t = time.perf_counter(); from dedup.minhash import MinHasher; "
        "from dedup.shingle import shingle; MinHasher(128, 1).signatures(shingle(['a b c d'], 3)); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=N_DOCS)
    parser.add_argument("--repeat", type=int, default=7, help="runs of dedup and rensa (datasketch: 2)")
    args = parser.parse_args()
    texts = load_texts(args.docs)
    n = len(texts)
    run_dedup(texts[:10])  # compile / load the kernels outside the timings
    hasher = MinHasher(NUM_PERM, 1, device="cpu")
    sets = shingle(texts, NGRAM)

    rows: list[tuple[str, float]] = []
    rows.append(("dedup  (text -> signature)", best_of(lambda: run_dedup(texts), args.repeat)))
    rows.append(("  dedup normalize+tokenize+hash", best_of(lambda: shingle(texts, NGRAM), args.repeat)))
    rows.append(("  dedup minhash", best_of(lambda: hasher.signatures(sets), args.repeat)))
    if gpu.available():
        on_gpu = MinHasher(NUM_PERM, 1, device="gpu")
        assert (on_gpu.signatures(sets) == hasher.signatures(sets)).all(), "GPU signatures differ from the CPU's"
        rows.append(("  dedup minhash on the GPU (hashed shingles)", best_of(lambda: on_gpu.signatures(sets), args.repeat)))
    else:
        print("no CUDA GPU: the GPU row is skipped", file=sys.stderr)
    rows.append(("python tokenizer (in both below)", best_of(lambda: python_tokens(texts), max(2, args.repeat // 2))))
    if rensa is not None:
        rows.append((f"rensa {getattr(rensa, '__version__', '')} digest_matrix_from_token_sets".replace("  ", " "),
                     best_of(lambda: run_rensa(texts), max(2, args.repeat // 2))))
    else:
        print("rensa not installed: skipped", file=sys.stderr)
    rows.append(("datasketch MinHash.bulk", best_of(lambda: run_datasketch(texts), 2)))

    ours = rows[0][1]
    print(f"{n} docs, {sum(map(len, texts)) / n:,.0f} chars/doc avg, {NGRAM}-grams, {NUM_PERM} permutations, "
          f"best of {args.repeat} (datasketch: 2), 1 thread")
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"{'path':44} {'us/doc':>9} {'docs/s':>10} {'x dedup':>8}")
    for name, seconds in rows:
        print(f"{name:44} {seconds / n * 1e6:9.1f} {n / seconds:10,.0f} {seconds / ours:8.1f}")
    if gpu.available():  # the GPU overlaps copies with kernels across slices: a large batch shows its rate
        big = ShingleSets(np.tile(sets.values, 10), offsets_of(np.tile(sets.sizes, 10)), np.tile(sets.words, 10))
        seconds = best_of(lambda: on_gpu.signatures(big), args.repeat)
        print(f"GPU, hashed shingles, one batch of {len(big):,} documents (these 10 times): {len(big) / seconds:,.0f} docs/s")
    print(f"first call in a fresh process (import + kernels from numba's cache): {first_call_seconds():.2f} s")


# --- pytest-benchmark ----------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return load_texts()


def _record(benchmark, texts: list[str]) -> None:
    benchmark.extra_info["docs"] = len(texts)
    benchmark.extra_info["docs_per_s"] = round(len(texts) / benchmark.stats.stats.min)


@pytest.mark.parametrize("ngram", [3, 5])
def test_dedup_text_to_signatures(benchmark, texts: list[str], ngram: int) -> None:
    hasher = MinHasher(NUM_PERM, 1)
    hasher.signatures(shingle(texts[:10], ngram))
    sigs = benchmark(lambda: hasher.signatures(shingle(texts, ngram)))
    assert sigs.shape == (len(texts), NUM_PERM)
    _record(benchmark, texts)


def test_dedup_minhash_only(benchmark, texts: list[str]) -> None:
    hasher = MinHasher(NUM_PERM, 1, device="cpu")
    sets = shingle(texts, NGRAM)
    benchmark(lambda: hasher.signatures(sets))
    _record(benchmark, texts)


@pytest.mark.skipif(rensa is None, reason="rensa not installed")
def test_rensa_text_to_signatures(benchmark, texts: list[str]) -> None:
    sigs = benchmark.pedantic(lambda: run_rensa(texts), rounds=3, iterations=1)
    assert (sigs.len(), sigs.get_num_perm()) == (len(texts), NUM_PERM)
    _record(benchmark, texts)


def test_datasketch_text_to_signatures(benchmark, texts: list[str]) -> None:
    sigs = benchmark.pedantic(lambda: run_datasketch(texts), rounds=1, iterations=1)
    assert sigs.shape == (len(texts), NUM_PERM)
    _record(benchmark, texts)


if __name__ == "__main__":
    main()
