"""Worker processes that end with the process that started them, and see its documents.

A ``ProcessPoolExecutor``'s workers outlive a parent killed with SIGKILL: they keep waiting
on their task queue, idle and holding memory. The pools made here ask Linux to kill each
worker when its parent dies (``PR_SET_PDEATHSIG``). On other systems they are plain pools.

A pool can be given one object to share, such as the documents of a run: each worker
receives it once, when it starts (under the ``fork`` start method it is inherited rather than
sent), and tasks then name the items they work on
(:func:`on_shared`) instead of sending them. A forked worker also freezes the objects it
inherits out of reach of its cyclic garbage collector, which would otherwise touch, and so
copy, every page of the parent's heap. A forked worker inherits numba set up as well
(:func:`dedup.kernels.start_compiler`), instead of each paying for it at its first task.

So on Linux the pools fork, unless the program chose a start method itself
(``multiprocessing.set_start_method``): Python 3.14 made ``forkserver`` the default there,
under which every worker would receive a copy of the shared documents and start bare (4,000
articles: 3.3 s with two in-memory workers instead of 1.4, 17.3 s staged instead of 5.3).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .kernels import start_compiler

_PR_SET_PDEATHSIG = 1
#: In a worker process: the object its pool shares (set once, as the worker starts).
_shared: list[Any] = []


def process_pool(workers: int, shared: Sequence[Any] = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that are killed when this process dies and that
    hold ``shared`` for :func:`on_shared`."""
    context = multiprocessing.get_context(start_method())
    if context.get_start_method() == "fork":  # the workers fork at their first task
        start_compiler()
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker,
        initargs=(os.getpid(), context.get_start_method(), shared),
    )


def start_method() -> str | None:
    """The start method of the pools: the program's own choice, else ``fork`` on Linux, else
    (None) the platform's default."""
    chosen = multiprocessing.get_start_method(allow_none=True)
    return chosen or ("fork" if sys.platform.startswith("linux") else None)


def on_shared(function: Callable[..., Any], rows: Sequence[int], *arguments: Any) -> Any:
    """In a worker: ``function`` of the items at positions ``rows`` of what its pool
    shares, and ``arguments``."""
    items = _shared[0]
    return function([items[i] for i in rows], *arguments)


def _start_worker(parent: int, start_method: str, shared: Sequence[Any]) -> None:
    """In a new worker: hold ``shared``; be killed when the parent dies (on Linux), and exit
    now if it already has."""
    _shared[:] = [shared]
    if start_method == "fork":
        gc.freeze()  # the inherited objects: never traversed, so their pages stay shared
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return
    # the parent may have died between the fork and the prctl call (a forkserver is the
    # parent of its workers, so there the check does not apply)
    if start_method != "forkserver" and os.getppid() != parent:
        os._exit(1)
