import gc

import pytest

from dedup import Document, find_clusters
from dedup.collection import collector_paused


def test_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failing batch")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_find_clusters_leaves_the_collector_as_it_found_it() -> None:
    docs = [Document(str(i), f"story number {i} about the harbour and the new bridge opening") for i in range(3)]
    find_clusters(docs, workers=1)
    assert gc.isenabled()
