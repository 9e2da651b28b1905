"""The words that differ between a copy and its canonical: evidence a reader can check.

For each member of a cluster, the words found in only one of its normalized key and the
canonical's (``+w`` the member's own, ``-w`` the canonical's), those holding a number
first, then in string order; at most :data:`MAX_DIFFERS`. A compiled kernel
(:func:`dedup.kernels.differing_words`) compares the keys as UTF-8 bytes; words are
split where ``str.split()`` splits them, and a word holds a number when ``\\d`` matches
in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

from . import kernels
from .shingle import offsets_of

MAX_DIFFERS = 10
_DIGIT = regex.compile(r"\d")
_SEPARATES, _NUMBER = 1, 2


@dataclass(frozen=True)
class KeyTexts:
    """Normalized keys as UTF-8, end to end: key ``i`` is ``data[offsets[i]:offsets[i + 1]]``."""

    data: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, keys: Sequence[str]) -> KeyTexts:
        """The keys ``keys`` (lone surrogates pass through as their own code points)."""
        encoded = [key.encode("utf-8", "surrogatepass") for key in keys]
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets_of([len(e) for e in encoded]))


@lru_cache(maxsize=1)
def _classes() -> np.ndarray:
    """Per code point: :data:`_SEPARATES` where ``str.split()`` splits, :data:`_NUMBER`
    where ``\\d`` matches."""
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    classes = np.zeros(0x110000, dtype=np.uint8)
    classes[[m.start() for m in _DIGIT.finditer(every)]] = _NUMBER
    kept = "".join(every.split())  # every code point but those str.split() splits at
    separates = np.ones(0x110000, dtype=bool)
    separates[np.frombuffer(kept.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)] = False
    classes[separates] |= _SEPARATES
    return classes


def differing_words(keys: KeyTexts, members: np.ndarray, canonicals: np.ndarray | int) -> list[tuple[str, ...]]:
    """The marked words that differ between each key ``members[k]`` and key ``canonicals[k]``
    (one canonical for all, when an int): in one call for many clusters, their members in
    runs that share a canonical."""
    members = np.asarray(members, dtype=np.int64)
    if not members.size:
        return []
    canonicals = np.broadcast_to(np.asarray(canonicals, dtype=np.int64), members.shape).copy()
    out, counts = kernels.differing_words(keys.data, keys.offsets, members, canonicals, _classes(), MAX_DIFFERS)
    words = out.tobytes().decode("utf-8", "surrogatepass").split("\n")
    ends = np.cumsum(counts).tolist()
    return [tuple(words[end - count : end]) for end, count in zip(ends, counts.tolist())]
