"""Candidate pairs of a batch: LSH over whole documents and over windows of long ones.

Whole-document MinHash estimates Jaccard, which is low for a short copy of a long
text (a lead-only truncation, one installment of a wire statement): 170 shingles
inside 1,000 have Jaccard 0.17 and rarely share a band. So documents longer than
a window are also signed by their lead (the first half window of words), and
documents longer than two windows by overlapping windows of ``window`` words
(stride half a window); a short copy has a high Jaccard with the lead or window
it came from. Window rows only propose pairs of their owners; verification stays
exact.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .lsh import Bands, unique_pairs
from .minhash import MinHasher
from .shingle import shingle_keys

_WINDOW_DOCS = 2000  # documents whose windows are shingled and signed together


def windows(keys: Sequence[str], width: int, leads_only: bool = False) -> tuple[list[str], np.ndarray]:
    """Leads and overlapping windows of long keys, and the position of the key each came from.

    A key longer than ``width`` words gets its first ``width // 2`` words; one longer
    than ``2 * width`` words also gets windows of ``width`` words, stride ``width // 2``
    (unless ``leads_only``).
    """
    texts: list[str] = []
    owners: list[int] = []
    step = max(width // 2, 1)
    for pos, key in enumerate(keys):
        words = key.split(" ")
        if len(words) <= width:
            continue
        starts = []
        if len(words) > 2 * width and not leads_only:
            starts = list(range(0, len(words) - width, step)) + [len(words) - width]
        texts.append(" ".join(words[:step]))
        texts.extend(" ".join(words[start : start + width]) for start in starts)
        owners.extend([pos] * (1 + len(starts)))
    return texts, np.array(owners, dtype=np.int64)


def signed_rows(
    keys: Sequence[str],
    signatures: np.ndarray,
    eligible: np.ndarray,
    hasher: MinHasher,
    ngram: int,
    window: int,
    leads_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows LSH bands: each eligible document's signature, then the signatures of its
    lead and windows (:func:`windows`); and the position of the document each row belongs to."""
    n = len(keys)
    blocks, owners = [signatures[eligible]], [np.flatnonzero(eligible)]
    for lo in range(0, n if window else 0, _WINDOW_DOCS):  # a block of documents' windows at a time
        block = [k if ok else "" for k, ok in zip(keys[lo : lo + _WINDOW_DOCS], eligible[lo:])]
        texts, owner = windows(block, window, leads_only)
        if texts:
            blocks.append(hasher.signatures(shingle_keys(texts, ngram)))
            owners.append(owner + lo)
    return np.vstack(blocks), np.concatenate(owners)


def candidate_pairs(
    keys: Sequence[str],
    signatures: np.ndarray,
    eligible: np.ndarray,
    bands: Bands,
    hasher: MinHasher,
    ngram: int,
    window: int,
    max_bucket: int,
) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of eligible documents that share a band, whole or windowed."""
    rows, owner = signed_rows(keys, signatures, eligible, hasher, ngram, window)
    pairs = owner[bands.candidates(rows, max_bucket=max_bucket)]
    return unique_pairs(pairs[:, 0], pairs[:, 1])
