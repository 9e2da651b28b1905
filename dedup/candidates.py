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
from .shingle import window_rows

_WINDOW_DOCS = 2000  # documents whose windows are shingled and signed together


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
        values, offsets, owner = window_rows(block, ngram, window, leads_only)
        blocks.append(hasher.sign_rows(values, offsets))
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
