"""Results do not depend on the number of worker processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from dedup import Deduplicator, Document, DuplicateIdError, Settings

from test_variants import variants


def _signature(result) -> list[tuple]:
    return [
        (c.canonical.id, c.reason, tuple((m.doc_id, m.similarity, m.evidence.specific) for m in c.members))
        for c in result.clusters
    ]


def test_same_clusters_for_one_and_two_workers(seed_docs) -> None:
    docs = list(seed_docs) + [v for s in seed_docs for v in variants(s)]
    one = Deduplicator(Settings(), workers=1, chunk=4).run(docs)
    two = Deduplicator(Settings(), workers=2, chunk=4).run(docs)
    assert _signature(one) == _signature(two)
    assert list(one.documents) == list(two.documents)
    assert any(c.size > 1 for c in one.clusters)


def test_duplicate_ids_across_chunks_are_refused(seed_docs) -> None:
    docs = list(seed_docs) + [seed_docs[0]]
    with pytest.raises(DuplicateIdError, match=seed_docs[0].id):
        Deduplicator(Settings(), workers=2, chunk=2).run(docs)


def test_unpicklable_hook_needs_one_worker(seed_docs) -> None:
    from dedup.model import Stripped

    with pytest.raises(ValueError, match="picklable"):
        Deduplicator(Settings(), strip=lambda d: Stripped(d.text), workers=2, chunk=2).run(seed_docs)
    assert len(Deduplicator(Settings(), strip=lambda d: Stripped(d.text), workers=1).run(seed_docs).clusters) == 5


def test_progress_is_reported_per_stage(seed_docs) -> None:
    seen: dict[str, tuple[int, int]] = {}
    Deduplicator(Settings(), workers=1).run(seed_docs, progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
    assert seen["strip"] == (5, 5)
    assert seen["bands"] == (8, 8) and seen["cluster"] == (8, 8)
    assert set(seen) == {"strip", "bands", "verify", "cluster"}  # no sources: no templates to learn


def test_huge_documents_are_hashed_up_to_the_cap_and_still_reported(seed_docs) -> None:
    story = seed_docs[3].text
    huge = Document("huge", story + "\n" + "نص إضافي طويل جدا " * 20_000)  # ~360k characters
    copy = Document("copy", story)
    result = Deduplicator(Settings(max_chars=len(story) + 10), workers=1).run([huge, copy])
    assert result.stats["capped"] == 1
    (cluster,) = [c for c in result.clusters if c.size > 1]
    assert {m.doc_id for m in cluster.members} == {"huge", "copy"}
    assert len(result.stripped["huge"].body) > 300_000  # the body is kept whole


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pools fork on Linux only")
@pytest.mark.parametrize(("default", "chosen", "inherited"),
                         [(None, None, "1"), ("forkserver", None, "1"), (None, "spawn", "0")])
def test_pools_fork_unless_the_program_chose_and_forked_workers_inherit_numba_set_up(default, chosen, inherited,
                                                                                    tmp_path) -> None:
    """``default``: the platform's default start method made this one (Python 3.14 made it
    ``forkserver`` on Linux); ``chosen``: the program's own choice."""
    script = tmp_path / "pool.py"  # a file: a spawned worker imports the main module again
    script.write_text(
        "import multiprocessing\n"
        "from dedup import kernels\n"
        "from dedup.pool import process_pool\n"
        "def compiled(): return len(kernels._first.signatures)\n"
        "from multiprocessing import context\n"
        "if __name__ == '__main__':\n"
        f"    if {default!r}: context._default_context._default_context = context._concrete_contexts[{default!r}]\n"
        f"    if {chosen!r}: multiprocessing.set_start_method({chosen!r})\n"
        "    print(len(kernels._first.signatures), process_pool(1).submit(compiled).result())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["0", inherited]  # forked: set up by the pool before the worker started


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_pool_workers_die_with_a_killed_parent() -> None:
    script = (
        "import os, sys, time\n"
        "from dedup.pool import process_pool\n"
        "pool = process_pool(2)\n"
        "print(*{f.result() for f in [pool.submit(os.getpid) for _ in range(8)]}, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
