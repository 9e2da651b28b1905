import numpy as np
import pytest

from dedup.lsh import Bands, collision_probability, optimal_bands
from dedup.minhash import MinHasher
from dedup.shingle import shingle


def test_layout_favours_recall_at_threshold() -> None:
    bands, rows = optimal_bands(0.5, 128)
    assert bands * rows <= 128
    assert collision_probability(0.5, bands, rows) > 0.5
    assert collision_probability(0.6, bands, rows) > 0.95
    assert collision_probability(0.1, bands, rows) < 0.05


def test_threshold_must_be_a_probability() -> None:
    with pytest.raises(ValueError):
        optimal_bands(1.5, 128)


def test_identical_documents_are_candidates_and_strangers_are_not(seed_docs) -> None:
    texts = [d.text for d in seed_docs] + [seed_docs[2].text]
    sigs = MinHasher(128, 1).signatures(shingle(texts, 3))
    pairs = Bands(*optimal_bands(0.4, 128)).candidates(sigs)
    assert [tuple(p) for p in pairs] == [(2, 5)]


def test_ineligible_documents_are_left_out(seed_docs) -> None:
    texts = [seed_docs[0].text] * 3
    sigs = MinHasher(128, 1).signatures(shingle(texts, 3))
    pairs = Bands(16, 8).candidates(sigs, eligible=np.array([True, False, True]))
    assert [tuple(p) for p in pairs] == [(0, 2)]


def test_huge_bucket_gives_linear_pairs() -> None:
    sigs = np.zeros((500, 32), dtype=np.uint32)
    pairs = Bands(4, 8).candidates(sigs, max_bucket=50)
    assert len(pairs) < 2 * 500
    # the star and chain still connect everything
    assert set(pairs.ravel()) == set(range(500))


def test_too_many_rows_is_an_error() -> None:
    with pytest.raises(ValueError):
        Bands(10, 10).keys(np.zeros((2, 64), dtype=np.uint32))
