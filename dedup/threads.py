"""Compiled work of one batch, split over threads.

The kernels these pieces run release the GIL (``nogil``), so the driver's batch-wide steps
(bucketing blocks of bands, counting the shingles of each part of the hash space, scoring
ranges of candidate pairs) use the cores a run's ``workers`` allow once its worker processes
are done. Pieces are independent and their results are combined in a fixed order, so a result
does not depend on the number of threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np


def split_map(function: Callable[[Any], Any], pieces: Iterable[Any], threads: int) -> list[Any]:
    """``[function(piece) for piece in pieces]``, on up to ``threads`` threads."""
    pieces = list(pieces)
    if threads <= 1 or len(pieces) < 2:
        return [function(piece) for piece in pieces]
    with ThreadPoolExecutor(min(threads, len(pieces))) as pool:
        return list(pool.map(function, pieces))


def spans(n: int, parts: int) -> list[tuple[int, int]]:
    """Up to ``parts`` consecutive ranges ``(lo, hi)`` of about equal size covering ``0..n``."""
    cuts = np.linspace(0, n, max(1, min(parts, n)) + 1).astype(np.int64).tolist()
    return list(pairwise(cuts))
