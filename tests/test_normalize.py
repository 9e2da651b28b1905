import gzip
import json
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.boilerplate.lines import norm_key, norm_keys
from dedup.normalize import char_key, normalize, normalize_many, words


@pytest.mark.parametrize(
    "raw, key",
    [
        ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),
        ("مستشفى على", "مستشفي علي"),
        ("مدرسة", "مدرسه"),
        ("مسؤول رئيس", "مسوول رييس"),
        ("کتاب یک", "كتاب يك"),  # Persian keheh and yeh
        ("جـــمـيـل", "جميل"),  # tatweel
        ("مُحَمَّدٌ", "محمد"),  # harakat
        ("٢٠٢٥ ۱۴۰۳", "2025 1403"),  # Arabic-Indic and Eastern digits
        ("a\u200fb\u200e c\u202bd\u202c", "ab cd"),  # bidi marks
        ("one\u00a0two", "one two"),  # NBSP
        ("«قال»: نعم، لا؛ هل؟", "قال نعم لا هل"),  # punctuation
        ("Hello, WORLD!", "hello world"),
        ("ﻻ", "لا"),  # lam-alef ligature via NFKC
        ("中文字", "中 文 字"),  # CJK characters are words
    ],
)
def test_folding(raw: str, key: str) -> None:
    assert normalize(raw) == key


def test_original_text_is_not_altered() -> None:
    text = "أعلنَ الرئيسُ"
    copy = str(text)
    normalize(text)
    assert text == copy


def test_words_of_empty_text() -> None:
    assert words("") == []
    assert words(" ،،، ") == []
    assert words("أ ب") == ["ا", "ب"]


# --- the compiled path must give exactly the reference keys ---------------------

SAUDI = Path(__file__).resolve().parents[2] / "shared" / "data" / "saudinewsnet" / "saudinewsnet.jsonl.gz"

# Blocks that exercise every step: Latin with accents, combining marks, Greek
# (final sigma), Arabic and its presentation forms, Indic spacing marks, CJK and
# Hangul, surrogates, astral letters and musical symbols (reorderable marks).
_BLOCKS = [
    (0x20, 0x7F), (0xA0, 0x250), (0x300, 0x370), (0x370, 0x400), (0x600, 0x700), (0x750, 0x780),
    (0x8A0, 0x900), (0x900, 0x980), (0x1B00, 0x1B80), (0x1E00, 0x1F00), (0x2000, 0x2070),
    (0x3000, 0x3100), (0x4E00, 0x4E40), (0xAC00, 0xAC40), (0xD800, 0xE000), (0xFB50, 0xFE00),
    (0xFE70, 0xFF00), (0xFF00, 0xFFF0), (0x10000, 0x110000), (0x1D100, 0x1D200), (0, 0x110000),
]


def _random_texts(seed: int, n: int, bmp_only: bool = False) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        chars = []
        for _ in range(int(rng.integers(0, 40))):
            lo, hi = _BLOCKS[int(rng.integers(len(_BLOCKS)))]
            cp = int(rng.integers(lo, hi))
            if bmp_only and (cp > 0xFFFF or 0xD800 <= cp < 0xE000):
                cp = 0x0628
            chars.append(chr(cp))
        texts.append("".join(chars))
    return texts


@pytest.mark.parametrize("bmp_only", [True, False])
def test_compiled_keys_equal_reference_on_random_unicode(bmp_only: bool) -> None:
    texts = _random_texts(7 + bmp_only, 5000, bmp_only)
    assert normalize_many(texts) == [normalize(t) for t in texts]
    assert norm_keys(texts) == [norm_key(t) for t in texts]


@pytest.mark.parametrize(("raw", "key"), [
    ("عام ٢٠٢٥ و١٢ 34a5 x7", "عام 0 و0 0a0 x0"),  # every script's digits, runs inside words
    ("١٢ ٣٤", "0 0"),  # a space ends a run
    ("1,250.5", "0 0 0"),
])
def test_line_keys_fold_digit_runs(raw: str, key: str) -> None:
    assert norm_keys([raw]) == [norm_key(raw)] == [key]
    assert normalize_many([raw]) == [normalize(raw)]  # hashing keys keep their digits


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=5))
def test_compiled_keys_equal_reference_property(texts: list[str]) -> None:
    assert normalize_many(texts) == [normalize(t) for t in texts]


def test_compiled_keys_equal_reference_on_seeds(seed_docs) -> None:
    texts = [d.text for d in seed_docs]
    assert normalize_many(texts) == [normalize(t) for t in texts]


@pytest.mark.skipif(not SAUDI.exists(), reason="SaudiNewsNet not available")
def test_compiled_keys_equal_reference_on_news() -> None:
    with gzip.open(SAUDI, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in islice(fh, 300)]
    assert normalize_many(texts) == [normalize(t) for t in texts]


def test_key_is_the_keys_of_the_characters() -> None:
    for text in _random_texts(3, 500):
        assert normalize(text) == " ".join("".join(char_key(c) for c in text).split())


def test_reorderable_spacing_marks_are_dropped() -> None:
    # U+1D16D and U+1D165 swap under canonical ordering: keeping them would make
    # the key of a text differ from the keys of its characters.
    assert normalize("a\U0001d16d\U0001d165b") == "ab"


def test_normalizing_is_idempotent() -> None:
    for text in _random_texts(5, 2000):
        key = normalize(text)
        assert normalize(key) == key


def test_new_folds() -> None:
    assert normalize("ΟΔΟΣ Straße İstanbul") == "οδοσ strasse istanbul"  # casefold, no final-sigma context
    assert normalize("१२३ ๔๕") == "123 45"  # every script's decimal digits
    assert normalize("कीमत बाज़ार") == "कीमत बाजार"  # spacing vowel signs stay in words; nukta goes
    assert normalize("ﷺ") == "صلي الله عليه وسلم"  # a ligature of several words


@pytest.mark.slow
def test_table_covers_all_of_unicode() -> None:
    from dedup.normalize import lookup_table

    everything = np.arange(0x110000, dtype=np.uint32)
    table, pool = lookup_table(everything)
    assert (table != 0).all()
