"""Signatures must equal datasketch's for the same 32-bit input hashes."""

import numpy as np
import pytest
from datasketch import MinHash

from dedup.minhash import EMPTY, MinHasher
from dedup.shingle import shingle


def _oracle(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    m.update_batch([int(h) for h in hashes])
    return m.hashvalues


@pytest.mark.parametrize("seed", [1, 3, 12345])
@pytest.mark.parametrize("num_perm", [1, 16, 128, 256])
@pytest.mark.parametrize("size", [1, 7, 500])
def test_hash_values_equal_datasketch(seed: int, num_perm: int, size: int) -> None:
    rng = np.random.default_rng(seed * 1000 + size)
    hashes = rng.integers(0, 2**32, size, dtype=np.uint64)
    assert np.array_equal(MinHasher(num_perm, seed).hash_values(hashes), _oracle(hashes, num_perm, seed))


def test_batch_signatures_equal_datasketch_per_document(seed_docs) -> None:
    texts = [d.text for d in seed_docs] + ["", "قصير", " ".join(["كلمة"] * 100_000)]
    sets = shingle(texts, 3)
    hasher = MinHasher(128, 1)
    sigs = hasher.signatures(sets)
    for i in range(len(texts)):
        low = sets[i].astype(np.uint32)
        if low.size:
            assert np.array_equal(sigs[i], _oracle(low, 128, 1)), i
        else:
            assert (sigs[i] == EMPTY).all()


def test_batch_is_independent_of_neighbours(seed_docs) -> None:
    texts = [d.text for d in seed_docs]
    hasher = MinHasher(64, 7)
    together = hasher.signatures(shingle(texts, 3))
    alone = np.vstack([hasher.signatures(shingle([t], 3)) for t in texts])
    assert np.array_equal(together, alone)


def test_rejects_zero_permutations() -> None:
    with pytest.raises(ValueError):
        MinHasher(0)


def test_only_the_low_32_bits_count() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 300, dtype=np.uint64)
    hasher = MinHasher(128, 1)
    assert np.array_equal(hasher.hash_values(hashes), _oracle(hashes & np.uint64(0xFFFFFFFF), 128, 1))


@pytest.mark.parametrize("ngram", [1, 5])
def test_other_ngram_sizes_equal_datasketch(seed_docs, ngram: int) -> None:
    sets = shingle([d.text for d in seed_docs], ngram)
    sigs = MinHasher(128, 1).signatures(sets)
    for i in range(len(sets)):
        assert np.array_equal(sigs[i], _oracle(sets[i].astype(np.uint32), 128, 1))


def test_no_documents() -> None:
    assert MinHasher(16, 1).signatures(shingle([], 3)).shape == (0, 16)
