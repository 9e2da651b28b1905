import numpy as np

from dedup.candidates import BandRows, band_rows
from dedup.lsh import Bands, optimal_bands
from dedup.minhash import MinHasher
from dedup.normalize import normalize
from dedup.shingle import ShingleSets, shingle_keys, shingle_windows


def _rows(keys: list[str], sigs: np.ndarray, eligible: np.ndarray, bands: Bands, hasher: MinHasher, width: int) -> BandRows:
    _, windows, owners = shingle_windows(keys, 3, width, hasher.a, hasher.b)
    return band_rows(sigs, eligible, windows, owners, bands)


def test_leads_and_windows_cover_long_keys_only() -> None:
    tiny = " ".join(f"w{i}" for i in range(60))
    short = " ".join(f"w{i}" for i in range(100))
    long = " ".join(f"w{i}" for i in range(250))
    hasher = MinHasher(128, 1)
    sets, windows, owners = shingle_windows([tiny, short, long], 3, 80, hasher.a, hasher.b)
    assert list(owners) == [1] + [2] * 7  # a lead each; windows at 0, 40, 80, 120, 160 and 170
    assert np.array_equal(sets.values, shingle_keys([tiny, short, long], 3).values)
    texts = [" ".join(f"w{i}" for i in range(lo, hi)) for lo, hi in
             [(0, 40), (0, 40), (0, 80), (40, 120), (80, 160), (120, 200), (160, 240), (170, 250)]]
    assert np.array_equal(windows, hasher.signatures(shingle_keys(texts, 3)))


def test_a_lead_only_copy_is_found_through_the_lead(seed_docs) -> None:
    story = normalize(seed_docs[4].text)
    lead = " ".join(story.split()[:30])
    keys = [story, lead]
    hasher = MinHasher(128, 1)
    sigs = hasher.signatures(shingle_keys(keys, 3))
    bands = Bands(*optimal_bands(0.4, 128))
    eligible = np.ones(2, dtype=bool)
    assert len(bands.candidates(sigs, eligible)) == 0
    assert [tuple(p) for p in _rows(keys, sigs, eligible, bands, hasher, 80).candidates(100)] == [(0, 1)]


def test_an_installment_is_found_through_windows(seed_docs) -> None:
    full = normalize(" ".join(d.text for d in seed_docs))  # a long statement, ~2,300 words
    words = full.split()
    part = " ".join(words[1000:1150])  # one installment from the middle
    keys = [full, part]
    hasher = MinHasher(128, 1)
    sigs = hasher.signatures(shingle_keys(keys, 3))
    bands = Bands(*optimal_bands(0.4, 128))
    eligible = np.ones(2, dtype=bool)
    assert len(_rows(keys, sigs, eligible, bands, hasher, 0).candidates(100)) == 0
    assert [tuple(p) for p in _rows(keys, sigs, eligible, bands, hasher, 80).candidates(100)] == [(0, 1)]


def test_rows_of_batches_laid_end_to_end_are_the_rows_of_one_batch(seed_docs) -> None:
    keys = [normalize(d.text) for d in seed_docs] + [normalize(" ".join(d.text for d in seed_docs))]
    hasher = MinHasher(128, 1)
    bands = Bands(*optimal_bands(0.4, 128))
    sigs = hasher.signatures(shingle_keys(keys, 3))
    eligible = np.array([True, False, True, True, True, True])
    whole = _rows(keys, sigs, eligible, bands, hasher, 80)
    parts = [
        _rows(keys[lo:hi], sigs[lo:hi], eligible[lo:hi], bands, hasher, 80) for lo, hi in [(0, 2), (2, 3), (3, 6)]
    ]
    joined = BandRows.concat(parts, [2, 1, 3])
    assert joined.whole == whole.whole == 5
    assert np.array_equal(joined.keys, whole.keys) and np.array_equal(joined.owners, whole.owners)
    assert np.array_equal(joined.candidates(100), whole.candidates(100))


def test_shingle_sets_laid_end_to_end_are_the_sets_of_one_batch(seed_docs) -> None:
    keys = [normalize(d.text) for d in seed_docs]
    whole = shingle_keys(keys, 3)
    joined = ShingleSets.concat([shingle_keys(keys[:2], 3), shingle_keys(keys[2:], 3)])
    for field in ("values", "offsets", "words"):
        assert np.array_equal(getattr(joined, field), getattr(whole, field))


def _seed_rows(seed_docs) -> tuple[list[str], np.ndarray, Bands, MinHasher]:
    keys = [normalize(d.text) for d in seed_docs] + [normalize(" ".join(d.text for d in seed_docs))]
    hasher = MinHasher(128, 1)
    return keys, hasher.signatures(shingle_keys(keys, 3)), Bands(*optimal_bands(0.4, 128)), hasher


def test_rows_taken_for_some_documents_are_the_rows_of_those_documents_alone(seed_docs) -> None:
    keys, sigs, bands, hasher = _seed_rows(seed_docs)
    eligible = np.array([True, False, True, True, True, True])
    whole = _rows(keys, sigs, eligible, bands, hasher, 80)
    for keep in ([0, 2, 5], [1, 3], [5], []):
        alone = _rows([keys[i] for i in keep], sigs[keep], eligible[keep], bands, hasher, 80)
        taken = whole.take(keep)
        assert taken.whole == alone.whole
        assert np.array_equal(taken.keys, alone.keys) and np.array_equal(taken.owners, alone.owners)


def test_rows_taken_in_any_order_are_the_rows_of_those_documents_in_that_order(seed_docs) -> None:
    keys, sigs, bands, hasher = _seed_rows(seed_docs)
    eligible = np.array([True, False, True, True, True, True])
    whole = _rows(keys, sigs, eligible, bands, hasher, 80)
    for keep in ([5, 0, 2], [3, 1, 4, 0], [2, 5]):
        alone = _rows([keys[i] for i in keep], sigs[keep], eligible[keep], bands, hasher, 80)
        taken = whole.take(keep)
        assert taken.whole == alone.whole
        assert np.array_equal(taken.keys, alone.keys) and np.array_equal(taken.owners, alone.owners)


def test_leads_are_the_whole_texts_and_the_first_row_after_them(seed_docs) -> None:
    keys, sigs, bands, hasher = _seed_rows(seed_docs)
    rows = _rows(keys, sigs, np.ones(len(keys), dtype=bool), bands, hasher, 80)
    leads = rows.leads()
    long = [i for i, k in enumerate(keys) if len(k.split()) > 80]
    assert leads.owners.tolist() == list(range(len(keys))) + long  # one lead per long key, windows gone
    lead_texts = [" ".join(keys[i].split()[:40]) for i in long]  # a lead is half a window
    lead_keys = bands.keys(hasher.signatures(shingle_keys(lead_texts, 3)))
    assert len(rows.keys) > len(leads.keys) and np.array_equal(leads.keys[len(keys):], lead_keys)


def test_shingle_sets_taken_are_the_sets_of_those_documents(seed_docs) -> None:
    keys = [normalize(d.text) for d in seed_docs]
    taken = shingle_keys(keys, 3).take([4, 1, 1])
    alone = shingle_keys([keys[4], keys[1], keys[1]], 3)
    for field in ("values", "offsets", "words"):
        assert np.array_equal(getattr(taken, field), getattr(alone, field))
    assert len(ShingleSets.empty()) == 0
