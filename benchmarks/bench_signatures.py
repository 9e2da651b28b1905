"""Signature throughput: raw text to MinHash signatures (pytest-benchmark).

Run: ``pytest benchmarks/bench_signatures.py``. Uses SaudiNewsNet from
``../shared/data`` when present (first 2,000 articles), else the seeds repeated.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from dedup.minhash import MinHasher
from dedup.shingle import shingle

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "saudinewsnet" / "saudinewsnet.jsonl.gz"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
N_DOCS = 2000


def _texts() -> list[str]:
    if DATA.exists():
        with gzip.open(DATA, "rt", encoding="utf-8") as fh:
            return [json.loads(line)["text"] for _, line in zip(range(N_DOCS), fh)]
    print(f"{DATA} not found: using the seeds repeated")
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return [seeds[i % len(seeds)] + f" {i}" for i in range(N_DOCS)]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _texts()


@pytest.mark.parametrize("num_perm", [128])
@pytest.mark.parametrize("ngram", [3, 5])
def test_text_to_signatures(benchmark, texts: list[str], ngram: int, num_perm: int) -> None:
    hasher = MinHasher(num_perm, 1)
    sigs = benchmark(lambda: hasher.signatures(shingle(texts, ngram)))
    assert sigs.shape == (len(texts), num_perm)
    benchmark.extra_info["docs"] = len(texts)
    benchmark.extra_info["docs_per_s"] = round(len(texts) / benchmark.stats.stats.mean)
