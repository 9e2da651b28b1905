"""Properties over arbitrary input: nothing raises, nothing is lost, order and workers do not matter.

Each property runs a few dozen cases in the default suite and thousands under ``pytest -m slow``
(over 10,000 in all).
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import (
    Deduplicator,
    Document,
    Index,
    InputError,
    ReadStats,
    Settings,
    find_clusters,
    read_documents,
)
from dedup.boilerplate import reconstruct, strip, strip_many
from dedup.boilerplate.lines import norm_key, norm_keys
from dedup.minhash import MinHasher
from dedup.normalize import normalize, normalize_many
from dedup.shingle import shingle, shingle_keys, shingle_windows

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SENTENCES = [s.strip() for p in sorted(SEEDS.glob("*.txt")) for s in p.read_text(encoding="utf-8").split("\n") if len(s.split()) > 6]
NOISE = ["\u200f", "\u200e", "\u202b", "\u202c", "\u0640", "\u064e", "\u0651", "\x00", "\x1f", "\u00a0", "\ufeff",
         "•", "«", "»", "إقرأ أيضاً:", "المصدر: واس", "Read more", "\n", "\n\n", " "]
UNICODE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
TEXTS = st.one_of(
    UNICODE,
    st.lists(st.one_of(st.sampled_from(SENTENCES), st.sampled_from(NOISE), UNICODE), max_size=25).map("\n".join),
    st.text(st.sampled_from("ab ت\u064e\n•«»ـ0٣"), min_size=2000, max_size=6000),  # very long lines
)


def _fast_and_slow(check: Callable[..., None], *strategies: st.SearchStrategy, slow: int = 4000,
                   fast: int = 40) -> tuple[Callable, Callable]:
    """One property as two tests: ``fast`` cases in the default suite, ``slow`` under ``pytest -m slow``."""
    def tests(examples: int) -> Callable:
        return settings(max_examples=examples, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])(given(*strategies)(check))
    return tests(fast), pytest.mark.slow(tests(slow))


def _strip_reconstructs(text: str) -> None:
    s = strip(text, doc_id="d")
    assert reconstruct(s.body, s.cuts) == text
    for child in s.children:
        assert child.meta["parent_id"] == "d"


def _normalize_total(texts: list[str]) -> None:
    keys = normalize_many(texts)
    assert keys == [normalize(t) for t in texts]
    assert all(normalize(k) == k and "\n" not in k for k in keys)  # idempotent; one line each
    assert norm_keys(texts) == [norm_key(t) for t in texts]  # digit runs folded by the kernel


test_strip_reconstructs_any_text, test_strip_reconstructs_any_text_many = _fast_and_slow(_strip_reconstructs, TEXTS)


def _strip_many_is_strip(texts: list[str]) -> None:
    docs = [Document(f"d{i}", t, source="site.example") for i, t in enumerate(texts)]
    assert strip_many(docs) == [strip(d.text, source=d.source, doc_id=d.id) for d in docs]


test_strip_many_is_strip, test_strip_many_is_strip_many = _fast_and_slow(
    _strip_many_is_strip, st.lists(TEXTS, max_size=5), slow=1000)
test_normalize_any_text, test_normalize_any_text_many = _fast_and_slow(_normalize_total, st.lists(TEXTS, max_size=5))


# --------------------------------------------------------------- clustering

def _corpus(draw_seed: int, size: int) -> list[Document]:
    """Stories, their edited copies and noise, with shuffled ids: a small realistic corpus."""
    rng = random.Random(draw_seed)
    stories = [" ".join(rng.sample(SENTENCES, rng.randint(1, 6))) for _ in range(max(1, size // 3))]
    docs = []
    for k in range(size):
        text = rng.choice(stories)
        words = text.split()
        kind = rng.random()
        if kind < 0.3 and len(words) > 10:
            text = " ".join(words[: rng.randint(len(words) // 2, len(words))])
        elif kind < 0.5:
            text = "".join(c + rng.choice(NOISE) if rng.random() < 0.02 else c for c in text)
        elif kind < 0.6:
            text = rng.choice(["", "كلمة", "\u200f", text[:20]])
        docs.append(Document(f"doc-{rng.randrange(10**9)}-{k}", text))
    return docs


def _partition(result) -> set[tuple[str, frozenset[str]]]:
    return {(c.canonical.id, frozenset(m.doc_id for m in c.members)) for c in result.clusters}


def _clusters_are_total_and_order_free(seed: int, size: int) -> None:
    docs = _corpus(seed, size)
    result = find_clusters(docs, workers=1)
    seen = [m.doc_id for c in result.clusters for m in c.members]
    assert sorted(seen) == sorted(result.documents)  # every document exactly once
    assert {d.id for d in docs} <= set(seen)
    shuffled = list(docs)
    random.Random(seed + 1).shuffle(shuffled)
    assert _partition(find_clusters(shuffled, workers=1)) == _partition(result)


# --------------------------------------------------------------- shingling

def _shingles_per_document(texts: list[str]) -> None:
    together = shingle(texts, 3)
    assert len(together) == len(texts)
    for i, text in enumerate(texts):
        alone = shingle([text], 3)
        assert together[i].tolist() == alone[0].tolist()  # a batch does not change a document's set
        assert together.words[i] == alone.words[0]
        assert (together[i][1:] > together[i][:-1]).all()  # sorted, distinct
    again = shingle_keys(normalize_many(texts), 3)  # normalizing first changes nothing
    assert together.values.tolist() == again.values.tolist() and together.offsets.tolist() == again.offsets.tolist()


test_shingles_do_not_depend_on_the_batch, test_shingles_do_not_depend_on_the_batch_many = _fast_and_slow(
    _shingles_per_document, st.lists(TEXTS, max_size=6))


def _window_texts(keys: list[str], width: int) -> tuple[list[str], list[int]]:
    """The leads and windows of long keys, as texts: the definition :func:`shingle_windows` signs."""
    texts, owners = [], []
    step = max(width // 2, 1)
    for pos, key in enumerate(keys):
        words = key.split()
        if len(words) <= width:
            continue
        starts = [] if len(words) <= 2 * width else [*range(0, len(words) - width, step), len(words) - width]
        texts += [" ".join(words[:step])] + [" ".join(words[a : a + width]) for a in starts]
        owners += [pos] * (1 + len(starts))
    return texts, owners


def _windows_are_their_texts(texts: list[str], width: int, ngram: int) -> None:
    keys = normalize_many(texts)
    hasher = MinHasher(16, 3)
    sets, signatures, owners = shingle_windows(keys, ngram, width, hasher.a, hasher.b)
    expected, expected_owners = _window_texts(keys, width)
    assert owners.tolist() == expected_owners
    assert np.array_equal(signatures, hasher.signatures(shingle_keys(expected, ngram)).reshape(-1, 16))
    plain = shingle_keys(keys, ngram)  # the sets are those of shingle_keys
    assert sets.values.tolist() == plain.values.tolist() and sets.offsets.tolist() == plain.offsets.tolist()


test_windows_shingle_like_their_texts, test_windows_shingle_like_their_texts_many = _fast_and_slow(
    _windows_are_their_texts, st.lists(TEXTS, max_size=6), st.integers(1, 12), st.integers(1, 5), slow=1000)


# --------------------------------------------------------------- clustering

test_clusters_are_total_and_do_not_depend_on_order, test_clusters_are_total_and_do_not_depend_on_order_many = (
    _fast_and_slow(_clusters_are_total_and_order_free, st.integers(0, 10**6), st.integers(1, 24), slow=1500))


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10**6))
def test_clusters_do_not_depend_on_workers(seed: int) -> None:
    docs = _corpus(seed, 30)
    one = Deduplicator(Settings(), workers=1, chunk=7).run(docs)
    two = Deduplicator(Settings(), workers=2, chunk=7).run(docs)
    assert _partition(one) == _partition(two)


# --------------------------------------------------------------- the index

def _index_accounts_for_every_document(seed: int, size: int, slices: int) -> None:
    docs = _corpus(seed, size)
    with tempfile.TemporaryDirectory() as tmp, Index(Path(tmp) / "index.sqlite") as index:
        placed = [m for k in range(slices) for m in index.add(docs[k::slices])]
        ids = [m.doc_id for m in placed]
        assert len(ids) == len(set(ids)) and {d.id for d in docs} <= set(ids)  # each document once
        stats = index.stats()
        assert stats["documents"] == len(ids)
        clusters = list(index.clusters())
        assert sorted(m["doc_id"] for c in clusters for m in c["members"]) == sorted(ids)
        where = {m["doc_id"]: c["cluster_id"] for c in clusters for m in c["members"]}
        again = index.add(docs)  # nothing is stored twice; every answer says where it sits
        assert all(m.already_stored and m.cluster_id == where[m.doc_id] for m in again)
        assert index.stats()["documents"] == len(ids)


test_index_accounts_for_every_document, test_index_accounts_for_every_document_many = _fast_and_slow(
    _index_accounts_for_every_document, st.integers(0, 10**6), st.integers(1, 16), st.integers(1, 3), slow=500, fast=10)


# --------------------------------------------------------------- reading dirty bytes

def _read_never_crashes(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.jsonl"
        path.write_bytes(b"\n".join(lines))
        stats = ReadStats()
        docs = list(read_documents(path, on_error="skip", stats=stats))
        records = [line for line in lines if line.strip()]
        assert stats.read == len(docs)
        assert stats.read + sum(stats.skipped.values()) == len(records)  # every record accounted for
        try:
            list(read_documents(path))
        except InputError as err:
            assert str(err).startswith(f"{path}:")


RECORDS = st.lists(st.one_of(
    st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}).encode(), st.integers(0, 20), st.text(max_size=40)),
    st.builds(lambda t: b'{"id": "x", "text": "' + t + b'"}', st.binary(max_size=20).filter(lambda b: b"\n" not in b and b"\r" not in b and b'"' not in b and b"\\" not in b)),
), max_size=12)


test_reading_dirty_bytes_accounts_for_every_record, test_reading_dirty_bytes_accounts_for_every_record_many = (
    _fast_and_slow(_read_never_crashes, RECORDS, slow=1000))
