"""Hashing keys of a text: the folded form that shingles are computed from.

Normalization is only ever applied to produce keys. Output text is always the
original. The steps, in order: NFKC; Arabic letter folding (alef forms, alef
maksura, teh marbuta, hamza carriers, Persian yeh/keheh); removal of tatweel,
harakat and other combining marks, bidi/format marks and NBSP-like spaces;
Arabic-Indic and Eastern digits to ASCII; punctuation to spaces; lower case;
whitespace collapsed to single spaces.
"""

from __future__ import annotations

import unicodedata

import regex

#: Bumped whenever the output of :func:`normalize` changes for some input, so that
#: persisted signatures can refuse to mix with keys from another version.
NORMALIZER_VERSION = 1

_LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ۍ": "ي", "ئ": "ي",
    "ة": "ه", "ۀ": "ه", "ە": "ه",
    "ؤ": "و",
    "ک": "ك", "ڪ": "ك",
    "ـ": "",  # tatweel
}
_DIGITS = {ord(c): str(i) for i in range(10) for c in (chr(0x0660 + i), chr(0x06F0 + i), chr(0x07C0 + i))}
_TABLE = {**{ord(k): v for k, v in _LETTER_FOLDS.items()}, **_DIGITS}

# Combining marks (harakat, Quranic marks, superscript alef...), format and bidi
# controls (Cf: ZWJ/ZWNJ, LRM/RLM, embeddings, isolates, BOM, soft hyphen).
_MARKS = regex.compile(r"[\p{Mn}\p{Me}\p{Cf}]+")
# Everything that is not a letter or a digit separates words; each CJK character
# is a word of its own, since those scripts do not separate words with spaces.
_SEPARATORS = regex.compile(r"[^\p{L}\p{N}]+")
_CJK = regex.compile(r"([\p{Han}\p{Hiragana}\p{Katakana}])")


def normalize(text: str) -> str:
    """Return the hashing key of ``text``: folded, unmarked, space-separated words.

    >>> normalize("أَعْلَنَ الرئيسُ ـــ مُبادرةً في ٢٠٢٥!")
    'اعلن الرييس مبادره في 2025'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _MARKS.sub("", text)
    text = text.translate(_TABLE)
    text = _CJK.sub(r" \1 ", text)
    text = _SEPARATORS.sub(" ", text)
    return text.lower().strip()


def words(text: str) -> list[str]:
    """The normalized words of ``text``, in order."""
    key = normalize(text)
    return key.split(" ") if key else []
