"""Word n-gram shingles of whole batches, hashed to 64-bit integers.

Texts are normalized (:mod:`dedup.normalize`), their UTF-8 bytes are laid end to end
in one array, and every word is hashed at once with a polynomial byte hash
(``numpy.add.reduceat``) followed by a 64-bit avalanche. N-grams combine the word
hashes of a sliding window with position-dependent odd multipliers. No Python
code runs per word or per shingle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .hashing import fmix
from .normalize import normalize

_U64 = np.uint64
_BYTE_BASE = _U64(0x100000001B3)  # FNV-64 prime: odd, so powers never vanish mod 2^64
_WORD_SALT = _U64(0x9E3779B97F4A7C15)
_NGRAM_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=_U64,
)
MAX_NGRAM = len(_NGRAM_MULTIPLIERS)


@dataclass(frozen=True)
class ShingleSets:
    """Sorted, de-duplicated shingle hashes of many documents in one flat array.

    Document ``i`` owns ``values[offsets[i]:offsets[i + 1]]``; ``words[i]`` is its
    number of normalized words.
    """

    values: np.ndarray
    offsets: np.ndarray
    words: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @property
    def sizes(self) -> np.ndarray:
        """Number of distinct shingles of each document."""
        return np.diff(self.offsets)


def word_hashes(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word of already-normalized ``keys``.

    Returns the word hashes of all documents end to end and the number of words of
    each document.
    """
    counts = np.array([k.count(" ") + 1 if k else 0 for k in keys], dtype=np.int64)
    buf = np.frombuffer(" ".join(k for k in keys if k).encode("utf-8"), dtype=np.uint8)
    if buf.size == 0:
        return np.zeros(0, dtype=_U64), counts
    letter = buf != 0x20
    starts = np.flatnonzero(letter & np.concatenate(([True], ~letter[:-1])))
    ends = np.flatnonzero(letter & np.concatenate((~letter[1:], [True]))) + 1
    lengths = ends - starts
    chars = buf[letter].astype(_U64) + _U64(1)
    # Offsets of each word's bytes once spaces are removed, and the position of
    # every byte inside its word.
    word_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position = np.arange(chars.size) - np.repeat(word_starts, lengths)
    powers = np.cumprod(np.full(int(lengths.max()), _BYTE_BASE, dtype=_U64))
    powers = np.concatenate(([_U64(1)], powers[:-1]))
    hashes = np.add.reduceat(chars * powers[position], word_starts)
    return fmix(hashes ^ (lengths.astype(_U64) * _WORD_SALT), 64), counts


def shingle(texts: Sequence[str], ngram: int = 3) -> ShingleSets:
    """Word ``ngram``-gram shingle sets of ``texts`` (raw text; normalized here).

    A document with fewer than ``ngram`` words (but at least one) gets a single
    shingle of all its words, so that short texts still have a key.
    """
    if not 1 <= ngram <= MAX_NGRAM:
        raise ValueError(f"ngram must be between 1 and {MAX_NGRAM}, got {ngram}")
    return shingle_keys([normalize(t) for t in texts], ngram)


def shingle_keys(keys: Sequence[str], ngram: int) -> ShingleSets:
    """Like :func:`shingle`, for texts that are already normalized keys."""
    hashes, counts = word_hashes(keys)
    n_docs = len(keys)
    width = np.minimum(counts, ngram)  # window width used by each document
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n_grams = np.where(counts > 0, counts - width + 1, 0)
    doc_of_gram = np.repeat(np.arange(n_docs), n_grams)
    gram_start = first[doc_of_gram] + (np.arange(n_grams.sum()) - np.repeat(np.cumsum(n_grams) - n_grams, n_grams))
    gram_width = width[doc_of_gram]
    combined = np.zeros(gram_start.size, dtype=_U64)
    for k in range(ngram):
        inside = gram_width > k
        combined[inside] += hashes[gram_start[inside] + k] * _NGRAM_MULTIPLIERS[k]
    values = fmix(combined, 64)
    order = np.lexsort((values, doc_of_gram))
    values, doc_of_gram = values[order], doc_of_gram[order]
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = (values[1:] != values[:-1]) | (doc_of_gram[1:] != doc_of_gram[:-1])
    values, doc_of_gram = values[keep], doc_of_gram[keep]
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_of_gram, minlength=n_docs), out=offsets[1:])
    return ShingleSets(values=values, offsets=offsets, words=counts)
