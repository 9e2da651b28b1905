"""Batch work with Python's cyclic garbage collector paused.

Stripping, clustering and reading allocate millions of small container objects (lines,
cuts, members, records) that die young and form no cycles. Each allocation counts
towards the collector's next pass, and every full pass walks every live object, the whole
input corpus included: on SaudiNewsNet that was a tenth of ``find_clusters``' time. The
collector is paused while a batch runs and restored after it; a run over 31,030 articles
left 7 objects in cycles for it to free afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (also as a decorator); it is enabled
    again afterwards only if it was enabled before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
