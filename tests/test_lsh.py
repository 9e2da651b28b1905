from itertools import pairwise

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


def _reference_candidates(bands: Bands, signatures, eligible=None, max_bucket=100):
    """The straightforward per-bucket loop the vectorized version must match."""
    index = np.arange(len(signatures)) if eligible is None else np.flatnonzero(eligible)
    keys = bands.keys(signatures[index])
    found = set()
    for band in range(bands.bands):
        buckets: dict[int, list[int]] = {}
        for pos, key in enumerate(keys[:, band].tolist()):
            buckets.setdefault(key, []).append(pos)
        for members in buckets.values():
            members = sorted(members)
            if len(members) <= max_bucket:
                found.update((members[i], members[j]) for i in range(len(members)) for j in range(i + 1, len(members)))
            else:
                found.update((members[0], m) for m in members[1:])
                found.update(zip(members[1:-1], members[2:]))
    pairs = sorted(tuple(sorted((int(index[i]), int(index[j])))) for i, j in found)
    return np.array(sorted(set(pairs)), dtype=np.int64).reshape(-1, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_bucket", [0, 1, 2, 3, 7, 100])
def test_candidates_equal_the_per_bucket_loop(seed: int, max_bucket: int) -> None:
    rng = np.random.default_rng(seed)
    # few distinct values per row: buckets of every size, within and across bands
    sigs = rng.integers(0, 3, (300, 32), dtype=np.uint32)
    sigs[rng.random(300) < 0.5] = rng.integers(0, 2**32, (1, 32), dtype=np.uint32)[0]
    eligible = rng.random(300) < 0.8
    bands = Bands(8, 4)
    for mask in (None, eligible):
        got = bands.candidates(sigs, mask, max_bucket)
        assert np.array_equal(got, _reference_candidates(bands, sigs, mask, max_bucket))


def test_no_or_one_document() -> None:
    assert Bands(4, 2).candidates(np.zeros((0, 8), dtype=np.uint32)).shape == (0, 2)
    assert Bands(4, 2).candidates(np.zeros((1, 8), dtype=np.uint32)).shape == (0, 2)


def test_bucket_runs_group_equal_keys_with_rows_ascending() -> None:
    from dedup.kernels import bucket_runs

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 17, 1000, 40_000):  # the largest spreads over many buckets
        keys = rng.integers(0, 2**64, n, dtype=np.uint64)
        if n:
            keys[rng.integers(0, n, n // 2)] = keys[rng.integers(0, n, n // 2)]  # groups of many rows
        order, first = bucket_runs(keys)
        assert np.array_equal(np.sort(order), np.arange(n))
        bounds = np.append(np.flatnonzero(first), n)
        groups = [order[lo:hi] for lo, hi in pairwise(bounds)]
        assert all(lo < hi for lo, hi in pairwise(bounds))
        assert all((keys[g] == keys[g[0]]).all() and (np.diff(g) > 0).all() for g in groups)
        assert len(groups) == np.unique(keys).size  # one group per distinct key
