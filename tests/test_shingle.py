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


def _fmix64(h: int) -> int:
    mask = (1 << 64) - 1
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    return h ^ (h >> 33)


def _word_hash(word: str) -> int:
    mask = (1 << 64) - 1
    h = 0x9E3779B97F4A7C15
    for c in word:
        h = (h * 0x100000001B3 + ord(c) + 1) & mask
    return _fmix64(h)


def test_hashes_follow_the_documented_definition() -> None:
    from dedup.shingle import _NGRAM_MULTIPLIERS, word_hashes

    words = ["اعلن", "الرييس", "中", "x"]
    hashes, counts = word_hashes(["أعلن الرئيس 中 X"])
    assert list(counts) == [4]
    assert [int(h) for h in hashes] == [_word_hash(w) for w in words]
    mask = (1 << 64) - 1
    grams = sorted(
        _fmix64(sum(_word_hash(w) * int(m) for w, m in zip(words[i : i + 3], _NGRAM_MULTIPLIERS)) & mask)
        for i in range(2)
    )
    assert [int(v) for v in shingle(["أعلن الرئيس 中 X"], 3)[0]] == grams


def _assert_same(a, b) -> None:
    assert np.array_equal(a.values, b.values)
    assert np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.words, b.words)


@pytest.mark.parametrize("ngram", [1, 3, 5, 8])
def test_keys_give_the_shingles_of_their_texts(seed_docs, ngram: int) -> None:
    from dedup.normalize import normalize
    from dedup.shingle import shingle_keys

    texts = [d.text for d in seed_docs] + ["", "ﷺ ﻻ 中文字 \U0001d400\U0001d401 a\ud800b"]
    _assert_same(shingle(texts, ngram), shingle_keys([normalize(t) for t in texts], ngram))


def test_words_are_the_normalized_words(seed_docs) -> None:
    from dedup.normalize import words

    texts = [d.text for d in seed_docs] + ["ﷺ ﻻ 中文字 \U0001d400 a\ud800b", ""]
    assert list(shingle(texts, 3).words) == [len(words(t)) for t in texts]


def test_chunking_does_not_change_anything(seed_docs, monkeypatch) -> None:
    import importlib

    module = importlib.import_module("dedup.normalize")  # the package exports a function of that name
    texts = [d.text for d in seed_docs] * 3 + ["", "a", "\U0001d400 b c d"]
    whole = shingle(texts, 3)
    monkeypatch.setattr(module, "CHUNK_CHARS", 500)
    _assert_same(shingle(texts, 3), whole)
    monkeypatch.setattr(module, "CHUNK_CHARS", 1)
    _assert_same(shingle(texts, 3), whole)


def test_astral_and_surrogate_texts_match_their_bmp_neighbours() -> None:
    # An astral character or a lone surrogate must not disturb the other documents.
    base = ["one two three four", "خمسة ستة سبعة"]
    plain = shingle(base, 2)
    for odd in ["\U0001d400 x", "a\ud800b"]:
        mixed = shingle(base + [odd], 2)
        assert np.array_equal(mixed.values[: plain.values.size], plain.values)
    assert list(shingle(["a\ud800b"], 1).words) == [2]
    assert list(shingle(["\U0001d400\U0001d401"], 1).words) == [1]  # math bold "AB" -> "ab"


def test_many_words_and_empty_batches() -> None:
    s = shingle([" ".join(f"w{i}" for i in range(50_000))], 3)
    assert s.sizes[0] == 50_000 - 2
    assert len(shingle([], 3)) == 0


def test_compiled_finalizers_equal_numpy_ones() -> None:
    from dedup import kernels
    from dedup.hashing import fmix

    values = np.random.default_rng(1).integers(0, 2**64, 50, dtype=np.uint64)
    assert [int(kernels.fmix64(v)) for v in values] == [int(v) for v in fmix(values, 64)]
    low = values & np.uint64(0xFFFFFFFF)
    assert [int(kernels.fmix32(v)) for v in low] == [int(v) for v in fmix(low.astype(np.uint32), 32)]


def test_random_unicode_shingles_like_their_keys() -> None:
    from dedup.normalize import normalize, words
    from dedup.shingle import shingle_keys

    rng = np.random.default_rng(11)
    pools = [(0x20, 0x7F), (0x300, 0x370), (0x600, 0x700), (0x3000, 0x3100), (0x4E00, 0x4E40),
             (0xD800, 0xE000), (0xFB50, 0xFE00), (0xFE70, 0xFF00), (0x10000, 0x110000), (0, 0x110000)]
    texts = []
    for _ in range(2000):
        picks = [pools[int(i)] for i in rng.integers(len(pools), size=int(rng.integers(0, 30)))]
        texts.append("".join(chr(int(rng.integers(lo, hi))) for lo, hi in picks))
    sets = shingle(texts, 2)
    assert list(sets.words) == [len(words(t)) for t in texts]
    _assert_same(sets, shingle_keys([normalize(t) for t in texts], 2))
