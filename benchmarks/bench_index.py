"""The incremental index: add and query speed, bytes on disk, and query latency at scale.

Documents come from SaudiNewsNet, replicated with edits (as in ``bench_scale.py``) so that
they hold real clusters. Signatures are precomputed: documents are prepared
(``Index.prepare``: stripped, normalized, signed) before the clock starts, and the
timings cover the index's own work: band lookups, exact verification on the stored
text, re-clustering (or, in the quick placement, the stored canonicals), and the transaction.

1. SQLite: add ``--docs`` documents in batches of ``--batch``, then query ``--queries``
   new edited copies; once with the exact placement, once with the quick one (``exact=False``)
   in another index; docs/s, bytes per document on disk beyond the stored text, and how
   far the two partitions agree (pairs of documents clustered together in both).
2. Redis, in the same run: the same add+query for ``--redis-docs`` documents with
   ``dedup.Index`` on a Redis URL and with datasketch's ``MinHashLSH`` on its Redis
   storage (insert + query with the same signatures); docs/s and the ratio. A
   ``redis-server`` is started on 127.0.0.1 with a random port and stopped after.
3. Latency: fill a SQLite index with ``--fill`` documents (whole texts, no stripping, in batches of ``--batch``,
   quick placement unless ``--exact-fill``; ``--index PATH`` keeps it for the next run), then time ``--probes`` single-document queries, exact
   and quick (``exact=False``); p50 / p99 ms, and how often the quick answer is the exact one's cluster.

    python benchmarks/bench_index.py [--docs 100000] [--fill 1000000] [--index fill.sqlite] [--redis-docs 10000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import DATA, edited, have_data  # noqa: E402

from dedup import Document, Index, passthrough  # noqa: E402
from dedup.index import Batch  # noqa: E402
from dedup.minhash import MinHasher  # noqa: E402
from dedup.shingle import shingle_keys  # noqa: E402


def prepared(index: Index, added: list[Document], queried: list[Document], batch: int) -> tuple[list[Batch], Batch]:
    """``added`` in prepared batches of ``batch``, and ``queried`` prepared as one."""
    return [index.prepare(added[lo : lo + batch]) for lo in range(0, len(added), batch)], index.prepare(queried)


def add_then_query(index: Index, ready: list[Batch], probe: Batch, exact: bool = True) -> dict[str, float]:
    """Time adding the prepared batches ``ready`` one after the other, then querying ``probe``
    in one batch, exactly or quickly (``exact=False``: both the adding and the query)."""
    start = time.perf_counter()
    for part in ready:
        index.add(part, exact=exact)
    add_s = time.perf_counter() - start
    start = time.perf_counter()
    index.query(probe, exact=exact)
    query_s = time.perf_counter() - start
    return {"add_s": add_s, "query_s": query_s, "docs": sum(len(part.docs) for part in ready) + len(probe.docs)}


def pair_agreement(one: Index, other: Index) -> tuple[float, float]:
    """Of the pairs of documents ``one`` puts in a cluster together, the share ``other`` does too,
    and the other way round."""
    pairs = [{(a, b) for c in index.clusters() for a in (m["doc_id"] for m in c["members"])
              for b in (m["doc_id"] for m in c["members"]) if a < b} for index in (one, other)]
    both = len(pairs[0] & pairs[1])
    return tuple(both / len(own) if own else 1.0 for own in pairs)  # no pairs: nothing to disagree on


def datasketch_redis(port: int, added: list[Document], queried: list[Document], index: Index) -> float:
    """Seconds for datasketch MinHashLSH on Redis storage to insert ``added`` and query ``queried``."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    hasher = MinHasher(index.settings.num_perm, index.settings.seed)
    ready = index.prepare(added + queried)
    keys = [k for d, k in zip(ready.docs, ready.keys) if "parent_id" not in d.meta]  # the input documents
    sigs = hasher.signatures(shingle_keys(keys, index.settings.ngram))
    lsh = MinHashLSH(
        threshold=index.settings.lsh_threshold, num_perm=index.settings.num_perm,
        storage_config={"type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": port}},
    )
    hashes = [LeanMinHash(MinHash(num_perm=index.settings.num_perm, seed=index.settings.seed, hashvalues=s, scheme="affine32")) for s in sigs]
    start = time.perf_counter()
    with lsh.insertion_session() as session:
        for d, h in zip(added, hashes):
            session.insert(d.id, h)
    for h in hashes[len(added):]:
        lsh.query(h)
    return time.perf_counter() - start


def start_redis() -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis

    for _ in range(500):
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.01)
    return server, port


def latency(path: Path, fill: int, probes: int, batch: int, exact_fill: bool) -> dict[str, dict[str, float]]:
    """Fill an index with ``fill`` whole-text documents (unless ``path`` holds them already;
    with the quick placement, or the exact one when ``exact_fill``);
    per query mode (exact, and quick: ``exact=False``), p50 and p99 ms of one-document
    queries (prepared beforehand), p99 with preparation included, and the share of
    documents the quick mode puts in the cluster the exact one does."""
    index = Index(path, strip=passthrough, df_bits=24)
    for lo in range(index.stats()["documents"], fill, batch):
        index.add(_slice(lo, min(lo + batch, fill)), exact=exact_fill)
        print(f"  filled {min(lo + batch, fill):,}", file=sys.stderr, flush=True)
    fresh = Index(path, strip=passthrough)  # a new process's view: loads every band key once
    singles = _slice(fill, fill + probes, replica_offset=1000)
    ready = [fresh.prepare([d]) for d in singles]
    fresh.load()
    found: dict[str, dict[str, list]] = {mode: {"ms": [], "whole": [], "clusters": []} for mode in ("exact", "quick")}
    for mode, exact in (("exact", True), ("quick", False)):  # each mode as a stream of its own queries
        for d, one in zip(singles, ready):
            start = time.perf_counter()
            matches = fresh.query(one, exact=exact)
            found[mode]["ms"].append((time.perf_counter() - start) * 1000)
            found[mode]["clusters"].append(matches[0].cluster_id)
            start = time.perf_counter()
            fresh.query([d], exact=exact)
            found[mode]["whole"].append((time.perf_counter() - start) * 1000)
    same = np.mean([a == b for a, b in zip(found["exact"]["clusters"], found["quick"]["clusters"])])
    return {mode: {"p50": float(np.percentile(f["ms"], 50)), "p99": float(np.percentile(f["ms"], 99)),
                   "p99_whole": float(np.percentile(f["whole"], 99)), "same": float(same)}
            for mode, f in found.items()}


_BASE: list[dict] = []


def _slice(lo: int, hi: int, replica_offset: int = 0) -> list[Document]:
    """Documents ``lo..hi`` of the endless edited replication of SaudiNewsNet."""
    if not _BASE:
        with gzip.open(DATA, "rt", encoding="utf-8") as fh:
            _BASE.extend(json.loads(line) for line in fh)
    docs = []
    for n in range(lo, hi):
        record = _BASE[n % len(_BASE)]
        replica = n // len(_BASE) + replica_offset
        rng = random.Random(n * 7919 + replica)
        text = record["text"] if replica == 0 else edited(record["text"], rng)
        docs.append(Document(f"{record['id']}~{replica}", text, date=record.get("date")))
    return docs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--redis-docs", type=int, default=10_000)
    parser.add_argument("--fill", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=1_000)
    parser.add_argument("--index", type=Path, default=None,
                        help="SQLite file of the latency index: kept, and only topped up to --fill when run again")
    parser.add_argument("--exact-fill", action="store_true",
                        help="fill the latency index with the exact placement (default: the quick one, exact=False)")
    parser.add_argument("--workers", type=int, default=2, help="processes preparing documents (not timed)")
    args = parser.parse_args()
    if not have_data():
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        added, queried = _slice(0, args.docs), _slice(args.docs, args.docs + args.queries, replica_offset=500)
        indexes = {}
        for mode, exact in (("", True), (", quick (`exact=False`)", False)):
            index = indexes[exact] = Index(Path(tmp) / f"bench-{exact}.sqlite", workers=args.workers)
            if exact:
                ready, probe = prepared(index, added, queried, args.batch)
            r = add_then_query(index, ready, probe, exact)
            stats = index.stats()
            rows.append((f"SQLite add{mode}", args.docs, r["add_s"], ""))
            rows.append((f"SQLite query{mode}", args.queries, r["query_s"], ""))
            rows.append((f"SQLite add+query{mode}", r["docs"], r["add_s"] + r["query_s"],
                         (f"{stats['bytes_per_document_beyond_text']:.0f} B/doc beyond text "
                          f"({stats['bytes'] / 2**20:.0f} MiB, text {stats['text_bytes'] / 2**20:.0f} MiB); "
                          f"{stats['clusters']:,} clusters, {stats['duplicates']:,} in duplicate clusters")))
        agreement = pair_agreement(indexes[True], indexes[False])
        if args.redis_docs and shutil.which("redis-server"):
            server, port = start_redis()
            try:
                small, probe = added[: args.redis_docs], queried[: args.redis_docs // 10]
                ours = Index(f"redis://127.0.0.1:{port}/0", workers=args.workers)
                ready = prepared(ours, small, probe, args.batch)
                timed = {exact: add_then_query(Index(f"redis://127.0.0.1:{port}/{1 + exact}"), *ready, exact)
                         for exact in (True, False)}
                theirs = datasketch_redis(port, small, probe, ours)
                for mode, exact in (("", True), (", quick (`exact=False`)", False)):
                    ours_s = timed[exact]["add_s"] + timed[exact]["query_s"]
                    rows.append((f"Redis add+query{mode} (dedup)", timed[exact]["docs"], ours_s,
                                 f"{theirs / ours_s:.1f}x datasketch"))
                rows.append(("Redis insert+query (datasketch MinHashLSH)", timed[True]["docs"], theirs, ""))
            finally:
                server.terminate()
                server.wait(10)
        elif args.redis_docs:
            print("redis-server not installed: Redis rows skipped", file=sys.stderr)
        print("| operation | documents | seconds | docs/s | notes |")
        print("|---|---|---|---|---|")
        for name, n, seconds, note in rows:
            print(f"| {name} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} | {note} |")
        print(f"\nPairs of documents clustered together: {agreement[0]:.1%} of the exact placement's are together "
              f"in the quick one, {agreement[1]:.1%} of the quick placement's in the exact one.")
        if args.fill:
            start = time.perf_counter()
            path = args.index or Path(tmp) / "fill.sqlite"
            modes = latency(path, args.fill, args.probes, args.batch, args.exact_fill)
            print(f"\nquery latency, one new article against {args.fill:,} stored (SQLite; filled or opened, and queried, in "
                  f"{time.perf_counter() - start:.0f} s, {'exact' if args.exact_fill else 'quick'} placement), "
                  f"{args.probes:,} articles:\n")
            print("| query | p50 ms | p99 ms | p99 ms with normalizing and signing | same cluster as exact |")
            print("|---|---|---|---|---|")
            for mode, m in modes.items():
                print(f"| {mode} | {m['p50']:.2f} | {m['p99']:.2f} | {m['p99_whole']:.2f} | {m['same']:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
