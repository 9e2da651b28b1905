"""Hashing keys of a text: the folded form that shingles are computed from.

Normalization is only ever applied to produce keys. Output text is always the
original. The steps, in order:

1. NFKD, full case folding (``str.casefold``), NFKD again (compatibility
   decomposition: ligatures split, ``أ`` becomes ``ا`` plus a hamza mark, ...);
2. removal of combining marks (``Mn``, ``Me``: harakat, hamza above/below,
   Quranic marks, accents), format characters (``Cf``: ZWJ/ZWNJ, bidi marks,
   BOM, soft hyphen) and spacing marks of non-zero combining class (``Mc`` that
   canonical ordering can move: a few viramas, Hangul tone marks);
3. Arabic letter folding (alef wasla and other alef forms, alef maksura, teh
   marbuta, Persian/Urdu yeh, heh and keheh forms) and removal of tatweel;
4. every decimal digit (``Nd``, any script) to its ASCII digit;
5. each Han, Hiragana and Katakana character becomes a word of its own;
6. everything else that is not a letter, number or spacing mark (``L``, ``N``,
   ``Mc``) separates words; words are joined by single spaces.

Every step works character by character: the key of a text is the keys of its
characters laid end to end, spaces collapsed. That is what lets the compiled
shingler (:mod:`dedup.kernels`) normalize through a lookup table built from
:func:`char_key`, and a test holds it to :func:`normalize` on random Unicode and
real news text.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Iterator, Sequence

import numpy as np
import regex

from .kernels import PENDING, TAG_DROPPED, TAG_SEPARATOR, doc_keys, missing_code_points

#: Bumped whenever the output of :func:`normalize` changes for some input, so that
#: persisted signatures can refuse to mix with keys from another version.
#: 2: per-character definition (NFKD + casefold instead of NFKC + lower), every
#: script's decimal digits, spacing marks kept inside words.
NORMALIZER_VERSION = 2

_LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ۍ": "ي", "ئ": "ي",
    "ة": "ه", "ۀ": "ه", "ە": "ه",
    "ؤ": "و",
    "ک": "ك", "ڪ": "ك",
    "ـ": "",  # tatweel
}

# Combining marks (harakat, Quranic marks, superscript alef...), format and bidi
# controls (Cf: ZWJ/ZWNJ, LRM/RLM, embeddings, isolates, BOM, soft hyphen), and the
# few spacing marks that canonical ordering may move (non-zero combining class:
# some viramas, Hangul tone marks, musical stems). With every reorderable
# character gone, NFKD of a text is the NFKD of its characters end to end.
_MARKS = regex.compile(r"[\p{Mn}\p{Me}\p{Cf}[\p{Mc}--\p{ccc=0}]]+", flags=regex.V1)
_DIGITS = regex.compile(r"\p{Nd}")
# Everything that is not a letter or a digit separates words; each CJK character
# is a word of its own, since those scripts do not separate words with spaces.
_SEPARATORS = regex.compile(r"[^\p{L}\p{N}\p{Mc}]+")
_CJK = regex.compile(r"([\p{Han}\p{Hiragana}\p{Katakana}])")


def _ascii_digit(match: regex.Match) -> str:
    digit = unicodedata.decimal(match[0], None)
    return match[0] if digit is None else str(digit)


def _fold(text: str) -> str:
    """Steps 1-6 without collapsing: separators become single spaces."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    text = _MARKS.sub("", text)
    for variant, letter in _LETTER_FOLDS.items():  # str.replace: far faster than translate here
        text = text.replace(variant, letter)
    text = _DIGITS.sub(_ascii_digit, text)
    text = _CJK.sub(r" \1 ", text)
    return _SEPARATORS.sub(" ", text)


def normalize(text: str) -> str:
    """Return the hashing key of ``text``: folded, unmarked, space-separated words.

    This is the readable reference; :func:`normalize_many` gives the same keys for
    whole batches through the compiled path.

    >>> normalize("أَعْلَنَ الرئيسُ ـــ مُبادرةً في ٢٠٢٥!")
    'اعلن الرييس مبادره في 2025'
    """
    return " ".join(_fold(text).split())


def words(text: str) -> list[str]:
    """The normalized words of ``text``, in order."""
    return _fold(text).split()


def char_key(char: str) -> str:
    """The key of one character: '' (dropped), ' ' (separator) or key letters.

    Letters may come with spaces around them (CJK) or between them (a ligature
    such as U+FDFA decomposes into several words).
    """
    return _fold(char)


# --- the lookup table for the compiled path -------------------------------------

_TABLE = np.zeros(0x110000, dtype=np.uint32)  # calloc'd: pages appear as entries do
# Keys of more than one code point, end to end. Never reallocated, so that a kernel
# holding it can never see an entry beyond its end; all of Unicode needs 348,530.
_POOL = np.zeros(1 << 19, dtype=np.uint32)
_pool_size = 1  # entry starts are >= 1, so that no built entry is 0
_lock = threading.Lock()


def _entries(cps: np.ndarray) -> None:
    """Fill the table entries of the PENDING code points ``cps`` (see :mod:`dedup.kernels`)."""
    global _pool_size
    for cp in cps.tolist():
        key = regex.sub(" +", " ", char_key(chr(cp)))  # the kernels only see word boundaries
        if key == " ":
            _TABLE[cp] = TAG_SEPARATOR
        elif key == "":
            _TABLE[cp] = TAG_DROPPED
        elif len(key) == 1:
            _TABLE[cp] = (ord(key) << 2) | 1
        else:
            if len(key) > 255:
                raise ValueError(f"key of U+{cp:04X} is too long ({len(key)} code points)")
            need = _pool_size + len(key)
            if need > _POOL.size:
                raise RuntimeError("key pool full")  # cannot happen: sized for all of Unicode
            _POOL[_pool_size:need] = [ord(c) for c in key]
            _TABLE[cp] = (_pool_size << 10) | (len(key) << 2)
            _pool_size = need


def code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All ``texts`` as one ``uint32`` array of Unicode code points (UTF-32), and
    each text's start in it.

    Lone surrogates (which ``str`` allows) pass through as code points of their own;
    they separate words like any other non-letter. (UTF-16 would encode faster for
    BMP text, but a second input type means a second compilation of every kernel,
    and the difference is ~0.2 us per news article.)
    """
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cps, starts


def lookup_table(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (table, pool) pair with entries for every code point of ``cps``."""
    with _lock:
        missing = missing_code_points(cps, _TABLE)
        if missing.size:
            try:
                _entries(missing)
            except BaseException:
                _TABLE[missing[_TABLE[missing] == PENDING]] = 0
                raise
        return _TABLE, _POOL


#: Characters per kernel call. Small enough that the encoded chunk and the kernel's
#: buffers stay in cache and in memory the allocator reuses (one big batch-wide
#: encoding costs more in page faults than in encoding), large enough that the
#: per-call overhead (microseconds) vanishes.
CHUNK_CHARS = 1 << 17


def chunks(texts: Sequence[str]) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` ranges of ``texts`` of about :data:`CHUNK_CHARS` characters each
    (at least one text, and one empty range for no texts)."""
    if sum(map(len, texts)) <= CHUNK_CHARS:  # the usual case for one document's lines
        yield 0, len(texts)
        return
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    lo = 0
    while True:
        base = ends[lo - 1] if lo else 0
        hi = min(len(texts), max(lo + 1, int(np.searchsorted(ends, base + CHUNK_CHARS, side="right"))))
        yield lo, hi
        if hi >= len(texts):
            return
        lo = hi


def run_kernel(kernel, texts: Sequence[str], *args):
    """``kernel(cps, starts, table, pool, *args)`` over ``texts`` (one chunk).

    The kernels stop (result's ``[1][0] == -1``) at a code point without a table
    entry; the entries for all of ``texts`` are then built and the kernel run again.
    Past the first chunks of a script, that is rare.
    """
    cps, starts = code_points(texts)
    result = kernel(cps, starts, _TABLE, _POOL, *args)
    if result[1].size and result[1][0] == -1:
        table, pool = lookup_table(cps)
        result = kernel(cps, starts, table, pool, *args)
    return result


def compiled(kernel, texts: Sequence[str], *args) -> list[tuple]:
    """:func:`run_kernel` on each of the :func:`chunks` of ``texts``, in order."""
    texts = texts if isinstance(texts, (list, tuple)) else list(texts)
    return [run_kernel(kernel, texts[lo:hi], *args) for lo, hi in chunks(texts)]


def normalize_many(texts: Sequence[str], fold_digits: bool = False) -> list[str]:
    """``[normalize(t) for t in texts]``, through the compiled path; with ``fold_digits``,
    each run of digits in a key becomes one ``0`` (every digit of a key is ASCII)."""
    keys: list[str] = []
    for out, offsets in compiled(doc_keys, texts, fold_digits):
        joined = out.tobytes().decode("utf-32-le", "surrogatepass")
        # offsets count code points, as str indices do
        keys.extend(joined[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1))
    return keys
