import pytest

from dedup.normalize import normalize, words


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
