"""Executors for the staged flow (:mod:`dedup.stages`): local processes or a Ray cluster.

An executor runs one stage's tasks — plain functions of picklable arguments that read
and write files — and returns their results in order. Both engines run the same task
code, so their results are identical. Ray retries a task whose worker dies
(``max_retries``); a task's output is written atomically, so a retried task starts clean.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

from .collection import collector_paused
from .model import Document
from .pipeline import Progress, Result, Settings, Stripper
from .pool import process_pool
from .stages import Executor, Plan, read_result, run_stages

ENGINES = ("local", "ray")


def local_executor(workers: int | None = None) -> Executor:
    """Tasks on ``workers`` local processes (default: all cores; in this process when 1).
    A lone task runs in a process of its own too: what it allocates leaves with it, and the
    driver, which every later worker is forked from, stays small."""
    workers = max(1, workers or os.cpu_count() or 1)

    def run(function: Callable, arguments: list[tuple]) -> list:
        if workers == 1 or not arguments:
            return [_paused(function, *a) for a in arguments]
        pool = process_pool(min(workers, len(arguments)))
        try:
            return list(pool.map(partial(_paused, function), *zip(*arguments)))
        finally:  # on a stop, drop the queued tasks: wait for the running ones only
            pool.shutdown(cancel_futures=True)

    return run


def ray_executor(address: str | None = None, workers: int | None = None, max_retries: int = 3) -> Executor:
    """Tasks on a Ray cluster (``address``, e.g. ``ray://head:10001`` or ``auto``), or on a
    local Ray instance of ``workers`` CPUs when no address is given (extra ``dedup[ray]``).
    The run's folder must be reachable from every worker (a shared file system)."""
    try:
        import ray
    except ImportError:
        raise ImportError("engine='ray' needs Ray: pip install 'dedup[ray]'") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False)

    def run(function: Callable, arguments: list[tuple]) -> list:
        remote = ray.remote(max_retries=max_retries)(_paused)
        return ray.get([remote.remote(function, *a) for a in arguments])

    return run


def _paused(function: Callable, *arguments: object) -> object:
    """``function(*arguments)``, with the cyclic garbage collector paused (a task is a batch)."""
    with collector_paused():
        return function(*arguments)


def executor_for(engine: str, workers: int | None = None, address: str | None = None) -> Executor:
    """The executor of ``engine`` (``local`` or ``ray``)."""
    if engine == "local":
        return local_executor(workers)
    if engine == "ray":
        return ray_executor(address, workers)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def staged_clusters(
    documents: Iterable[Document],
    settings: Settings,
    executor: Executor,
    strip: Stripper | None = None,
    progress: Progress | None = None,
    folder: str | Path | None = None,
) -> Result:
    """:func:`dedup.find_clusters` through the staged flow, in ``folder`` (a temporary
    folder when not given)."""
    place = contextlib.nullcontext(folder) if folder else tempfile.TemporaryDirectory(prefix="dedup-run-")
    with place as where:
        plan = Plan(Path(where), settings, keep_objects=True)
        counts = run_stages(plan, documents, executor, progress, strip)
        return read_result(plan, counts["shards"], counts)
