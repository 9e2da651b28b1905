"""Worker processes that end with the process that started them.

A ``ProcessPoolExecutor``'s workers outlive a parent killed with SIGKILL: they keep waiting
on their task queue, idle and holding memory. The pools made here ask Linux to kill each
worker when its parent dies (``PR_SET_PDEATHSIG``). On other systems they are plain pools.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that are killed when this process dies."""
    context = multiprocessing.get_context()
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_die_with_parent,
        initargs=(os.getpid(), context.get_start_method()),
    )


def _die_with_parent(parent: int, start_method: str) -> None:
    """In a worker: be killed when the parent dies; exit now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return
    # the parent may have died between the fork and the prctl call (a forkserver is the
    # parent of its workers, so there the check does not apply)
    if start_method != "forkserver" and os.getppid() != parent:
        os._exit(1)
