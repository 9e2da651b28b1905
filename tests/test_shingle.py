import numpy as np
import pytest

from dedup.shingle import shingle


def test_same_ngram_same_hash_anywhere() -> None:
    s = shingle(["a b c d", "x a b c"], 3)
    assert np.intersect1d(s[0], s[1]).size == 1  # "a b c" only


def test_sets_are_sorted_and_unique() -> None:
    s = shingle(["a b a b a b a b"], 2)
    assert s.sizes[0] == 2  # "a b" and "b a"
    assert np.all(np.diff(s[0].astype(np.float64)) > 0)


def test_orthographic_variants_share_keys() -> None:
    s = shingle(["أعلن الرئيس مبادرة جديدة اليوم", "اعلن الرييس مبادره جديده اليوم"], 3)
    assert np.array_equal(s[0], s[1])


def test_short_and_empty_documents() -> None:
    s = shingle(["", "one", "one two", "one two three"], 3)
    assert list(s.sizes) == [0, 1, 1, 1]
    assert list(s.words) == [0, 1, 2, 3]
    assert s[1][0] != s[2][0]


def test_word_order_matters() -> None:
    s = shingle(["a b c", "c b a"], 3)
    assert s[0][0] != s[1][0]


def test_ngram_range() -> None:
    with pytest.raises(ValueError):
        shingle(["a"], 0)
    with pytest.raises(ValueError):
        shingle(["a"], 9)
