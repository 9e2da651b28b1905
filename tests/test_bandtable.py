import numpy as np
import pytest

from dedup.index.bandtable import BandTable, combine


def _adds(rng: np.random.Generator, ascending: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches of (owners, band keys) as an index adds them: rows only grow, or (for the
    fallback) in any order; few distinct keys, so buckets hold many owners."""
    adds, row = [], 0
    for _ in range(9):  # more than the runs kept before a merge
        n = int(rng.integers(1, 200))
        owners = np.sort(rng.integers(row, row + 2 * n, n)) if ascending else rng.integers(0, 4000, n)
        row = int(owners.max()) + 1
        adds.append((owners, rng.integers(0, 20, (n, 4)).astype(np.uint32)))
    return adds


@pytest.mark.parametrize("ascending", [True, False])
def test_lookup_finds_every_owner_of_a_key_and_runs_stay_sorted_by_key_then_owner(ascending: bool) -> None:
    rng = np.random.default_rng(7)
    table, everything = BandTable(), []
    for owners, bands in _adds(rng, ascending):
        table.add(owners, bands)
        everything += zip(combine(bands).tolist(), np.repeat(owners, bands.shape[1]).tolist())
    for keys, owners in zip(table._keys, table._owners):  # the order the lookup limit relies on
        pairs = list(zip(keys.tolist(), owners.tolist()))
        assert pairs == sorted(pairs)
    queries = combine(rng.integers(0, 25, (30, 4)).astype(np.uint32))
    at, found = table.lookup(queries, limit=10**6)
    expected = sorted((q, o) for q, key in enumerate(queries.tolist()) for k, o in everything if k == key)
    assert sorted(zip(at.tolist(), found.tolist())) == expected
    assert len(table) == len(everything)


def test_a_bucket_proposes_its_earliest_owners_up_to_the_limit() -> None:
    table = BandTable()
    for row in range(7):  # seven runs: merged into one
        table.add(np.array([row]), np.array([[9, 9]], dtype=np.uint32))
    _, found = table.lookup(combine(np.array([[9, 9]], dtype=np.uint32))[:1], limit=2)
    assert found.tolist() == [0, 1]


@pytest.mark.parametrize("seed", range(4))
def test_equal_spans_are_what_two_sorted_searches_give(seed: int) -> None:
    from dedup import kernels

    rng = np.random.default_rng(seed)
    table = np.sort(rng.integers(0, 5000, int(rng.integers(0, 3000))).astype(np.uint64))
    ordered = np.sort(np.concatenate([rng.integers(0, 5100, 400), [0, 4999, 5099]]).astype(np.uint64))
    limit = int(rng.integers(1, 4))
    starts, counts = kernels.equal_spans(table, ordered, limit)
    lo = np.searchsorted(table, ordered, side="left")
    hi = np.minimum(np.searchsorted(table, ordered, side="right"), lo + limit)
    assert (counts == hi - lo).all()
    assert (starts[counts > 0] == lo[counts > 0]).all()
