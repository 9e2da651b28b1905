"""The Ray engine: the same clusters and canonicals as the local run, and a worker killed
in the middle of a stage is retried by Ray with the result unchanged.

Run with ``pytest -m ray`` once Ray is installed (``pip install '.[ray]'``); ``.ci/run``
does both after the main suite.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

import dedup
from dedup import Document, Settings
from dedup.engines import ray_executor, staged_clusters
from dedup.stages import bands_reduce_task, verify_task

from test_variants import seeds_and_variants, with_provenance

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'dedup[ray]')")
pytestmark = pytest.mark.ray

_MARKERS = "DEDUP_TEST_KILL_MARKERS"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    markers = tmp_path_factory.mktemp("markers")
    os.environ[_MARKERS] = str(markers)  # the Ray workers inherit it
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield markers
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(seed_docs) -> list[Document]:
    return with_provenance(seeds_and_variants(seed_docs, shuffle=9), month=4)


def test_ray_engine_equals_the_local_engine(cluster, corpus) -> None:
    local = dedup.find_clusters(corpus, workers=1)
    distributed = dedup.find_clusters(corpus, engine="ray")
    assert distributed.clusters == local.clusters
    assert [c.canonical.id for c in distributed.clusters] == [c.canonical.id for c in local.clusters]
    assert distributed.stats == local.stats


def _die_once(name: str) -> None:
    """Kill this worker process the first time a task called ``name`` runs."""
    marker = Path(os.environ[_MARKERS]) / name
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def dying_bands_reduce(*args):
    _die_once("bands_reduce")
    return bands_reduce_task(*args)


def dying_verify(*args):
    _die_once("verify")
    return verify_task(*args)


def test_killed_workers_are_retried_and_the_result_is_unchanged(cluster, corpus) -> None:
    inner = ray_executor()
    swap = {bands_reduce_task: dying_bands_reduce, verify_task: dying_verify}

    def executor(function, arguments):
        return inner(swap.get(function, function), arguments)

    result = staged_clusters(corpus, Settings(), executor)
    assert (cluster / "bands_reduce").exists() and (cluster / "verify").exists()  # both workers did die
    assert result.clusters == dedup.find_clusters(corpus, workers=1).clusters
