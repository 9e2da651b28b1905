"""The driver's batch-wide steps give the same result on any number of threads."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.lsh import key_pairs
from dedup.shingle import ShingleSets, offsets_of
from dedup.threads import spans
from dedup.verify import common_mask, common_values, score_pairs


def _sets(rng: np.random.Generator, docs: int = 400) -> ShingleSets:
    pool = rng.integers(0, 2**64, 3000, dtype=np.uint64)  # well-mixed hashes, many shared
    sizes = rng.integers(0, 60, docs)
    rows = [np.unique(rng.choice(pool, size)) for size in sizes]
    sizes = np.array([row.size for row in rows])
    values = np.concatenate(rows) if rows else np.zeros(0, np.uint64)
    return ShingleSets(values, offsets_of(sizes), sizes.astype(np.int64))


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_bucketing_counting_and_scoring_do_not_depend_on_threads(threads: int) -> None:
    rng = np.random.default_rng(threads)
    keys = rng.integers(0, 40, (500, 42)).astype(np.uint64)  # crowded buckets, some over max_bucket
    assert np.array_equal(key_pairs(keys, 10, threads), key_pairs(keys, 10))
    sets = _sets(rng)
    for df in (0, 3, 30):
        assert np.array_equal(common_values(sets.values, df, threads), common_values(sets.values, df))
        assert np.array_equal(common_mask(sets, df, threads), common_mask(sets, df))
    flags = common_mask(sets, 3)
    pairs = np.sort(rng.integers(0, len(sets), (777, 2)), axis=1)
    one, many = score_pairs(sets, pairs, flags, 5), score_pairs(sets, pairs, flags, 5, threads)
    for name in ("shared", "jaccard", "containment", "specific"):
        assert np.array_equal(getattr(one, name), getattr(many, name), equal_nan=True), name


def test_spans_cover_the_range_in_order() -> None:
    assert spans(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert spans(2, 8) == [(0, 1), (1, 2)]
    assert spans(0, 4) == [(0, 0)]
