"""The index on a Redis server, shared by many processes or machines (extra ``dedup[redis]``).

Keys, under one prefix: ``header`` (hash), ``seq`` and ``next_cluster`` (counters),
``rows`` (sorted set of rows, for catching up), ``ids`` (id -> row), ``meta``
and ``texts`` (row -> packed fields), ``place`` (row -> cluster and
similarity), ``members:<cluster>`` (sets of rows), ``clusters`` (cluster ->
canonical row and size), and ``df`` (pages of byte counters). A write runs under a lock key and is sent as one
``MULTI``/``EXEC`` pipeline, so a writer that dies mid-way stores nothing. The lock
expires after ``lock_seconds``; a lock left by a dead process of this machine is
taken over at once.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from .store import KeyCodec, NewDoc, PagedCounters, StoredDoc, StoredPlace

_CHUNK = 2000  # commands or fields per round trip


class RedisStore(PagedCounters):
    """A :class:`dedup.index.store.Store` on the Redis server at ``url``."""

    def __init__(self, url: str, prefix: str = "dedup:", lock_seconds: float = 30.0) -> None:
        try:
            import redis
        except ImportError:
            raise ImportError("a Redis index needs the redis package: pip install 'dedup[redis]'") from None
        super().__init__()
        self._codec = KeyCodec()
        self.db = redis.Redis.from_url(url)
        self.p = prefix
        self.lock_seconds = lock_seconds
        self._tx = None  # the pipeline of the write in progress
        self._deleted: set[int] = set()

    def _k(self, name: str) -> str:
        return self.p + name

    def header(self) -> dict[str, str] | None:
        """The stored header, or None for a new index."""
        return {k.decode(): v.decode() for k, v in self.db.hgetall(self._k("header")).items()} or None

    def init(self, header: dict[str, str]) -> None:
        """Create the header unless another process just did."""
        with self.writing():
            if not self.db.exists(self._k("header")):
                self._tx.hset(self._k("header"), mapping=header)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock; send every write as one MULTI/EXEC at the end."""
        token = f"{socket.gethostname()} {os.getpid()} {uuid.uuid4().hex}"
        lock = self._k("lock")
        while not self.db.set(lock, token, nx=True, px=int(self.lock_seconds * 1000)):
            holder = self.db.get(lock)
            if holder is not None and _dead_here(holder.decode()):
                self.db.delete(lock)  # its writer died: nothing of its write was sent
            time.sleep(0.005)
        self._tx = self.db.pipeline(transaction=True)
        self._forget_pages()  # other processes may have written since
        try:
            yield
            self._tx.execute()
        except BaseException:
            self._forget_pages()  # they may hold writes that were not sent
            raise
        finally:
            self._tx, self._deleted = None, set()
            if self.db.get(self._k("lock")) == token.encode():
                self.db.delete(self._k("lock"))

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads go straight to the server; each write lands whole."""
        self._forget_pages()  # other processes may have written since
        yield

    def keys_since(self, row: int) -> Iterator[tuple[list[int], list[str]]]:
        """The rows and normalized texts of documents stored after ``row``, a chunk at a time."""
        rows = [int(r) for r in self.db.zrangebyscore(self._k("rows"), f"({row}", "+inf")]
        for lo in range(0, len(rows), _CHUNK):
            part = rows[lo : lo + _CHUNK]
            found = [(r, blob) for r, blob in zip(part, self.db.hmget(self._k("texts"), part)) if blob is not None]
            yield [r for r, _ in found], [self._codec.unpack(blob) for _, blob in found]

    def count_since(self, row: int) -> int:
        """How many documents are stored after ``row``."""
        return int(self.db.zcount(self._k("rows"), f"({row}", "+inf"))

    def docs(self, rows: Sequence[int]) -> list[StoredDoc]:
        """The stored documents among ``rows``, in row order."""
        rows = sorted(int(r) for r in rows if int(r) not in self._deleted)
        out = []
        for lo in range(0, len(rows), _CHUNK):
            part = rows[lo : lo + _CHUNK]
            pipe = self.db.pipeline(transaction=False)
            for name in ("meta", "texts", "place"):
                pipe.hmget(self._k(name), part)
            metas, texts, places = pipe.execute()
            for r, m, t, pl in zip(part, metas, texts, places):
                if m is None:
                    continue
                doc_id, removed, date, parent = json.loads(m)
                cluster = int(pl.split()[0])
                out.append(StoredDoc(r, doc_id, cluster, self._codec.unpack(t), removed, date, parent))
        return out

    def rows_of(self, ids: Sequence[str]) -> dict[str, int]:
        """The rows of the stored documents among ``ids``."""
        ids = list(ids)
        found = {}
        for lo in range(0, len(ids), _CHUNK):
            part = ids[lo : lo + _CHUNK]
            found.update({i: int(r) for i, r in zip(part, self.db.hmget(self._k("ids"), part)) if r is not None})
        return {i: r for i, r in found.items() if r not in self._deleted}

    def members(self, clusters: Sequence[int]) -> list[int]:
        """The rows of every document in ``clusters``."""
        if not clusters:
            return []
        pipe = self.db.pipeline(transaction=False)
        for c in clusters:
            pipe.smembers(self._k(f"members:{int(c)}"))
        rows = {int(r) for members in pipe.execute() for r in members}
        return sorted(rows - self._deleted)

    def canonicals(self, rows: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``row -> (canonical row, size)`` of the cluster of each stored document among ``rows``."""
        rows = [r for r in rows if r not in self._deleted]
        if not rows:
            return {}
        places = self.db.hmget(self._k("place"), rows)
        clusters = {r: int(p.split()[0]) for r, p in zip(rows, places) if p is not None}
        heads = self._heads(clusters.values())
        return {r: heads[c] for r, c in clusters.items() if c in heads}

    def _heads(self, clusters: Iterable[int]) -> dict[int, tuple[int, int]]:
        """``cluster -> (canonical row, size)`` of the stored ones among ``clusters``."""
        named = sorted(set(clusters))
        if not named:
            return {}
        return {c: tuple(map(int, v.split())) for c, v in zip(named, self.db.hmget(self._k("clusters"), named))
                if v is not None}

    def places(self, rows: Sequence[int]) -> dict[int, StoredPlace]:
        """Where each of the stored documents among ``rows`` sits, as stored."""
        rows = [r for r in rows if r not in self._deleted]
        if not rows:
            return {}
        pipe = self.db.pipeline(transaction=False)
        pipe.hmget(self._k("place"), rows)
        pipe.hmget(self._k("meta"), rows)
        found = {r: (p.split(), json.loads(m)) for r, p, m in zip(rows, *pipe.execute()) if p and m}
        heads = {c: canonical for c, (canonical, _) in self._heads(int(p[0]) for p, _ in found.values()).items()}
        names = sorted(set(heads.values()))
        ids = {r: json.loads(m)[0] for r, m in zip(names, self.db.hmget(self._k("meta"), names)) if m} if names else {}
        return {r: StoredPlace(meta[0], int(place[0]), ids[heads[int(place[0])]], float(place[1]), meta[3])
                for r, (place, meta) in found.items() if heads.get(int(place[0])) in ids}

    def keep_counters(self, buckets: int) -> None:
        """Nothing: every operation forgets the counters it read (other processes write them)."""

    def _read_pages(self, pages: list[int]) -> dict[int, bytes]:
        found = {}
        for lo in range(0, len(pages), _CHUNK):
            part = pages[lo : lo + _CHUNK]
            found.update({p: v for p, v in zip(part, self.db.hmget(self._k("df"), part)) if v is not None})
        return found

    def _write_pages(self, pages: dict[int, bytes]) -> None:
        if pages:
            self._tx.hset(self._k("df"), mapping=pages)

    def insert(self, docs: Sequence[NewDoc]) -> list[int]:
        """Store ``docs`` under new rows."""
        if not docs:
            return []
        last = self.db.incrby(self._k("seq"), len(docs))
        rows = list(range(last - len(docs) + 1, last + 1))
        tx = self._tx
        for lo in range(0, len(docs), _CHUNK):
            part = list(zip(rows[lo : lo + _CHUNK], docs[lo : lo + _CHUNK]))
            tx.hset(self._k("meta"), mapping={r: json.dumps([d.id, d.removed, d.date, d.parent]) for r, d in part})
            tx.hset(self._k("texts"), mapping={r: d.packed for r, d in part})
            tx.hset(self._k("ids"), mapping={d.id: r for r, d in part})
            tx.zadd(self._k("rows"), {r: r for r, _ in part})
        self.assign({r: (d.cluster, d.similarity) for r, d in zip(rows, docs)}, new=True)
        return rows

    def delete(self, rows: Sequence[int]) -> None:
        """Remove the documents at ``rows``."""
        gone = self.docs(rows)
        tx = self._tx
        for d in gone:
            tx.hdel(self._k("ids"), d.id)
            tx.srem(self._k(f"members:{d.cluster}"), d.row)
            for name in ("meta", "texts", "place"):
                tx.hdel(self._k(name), d.row)
            tx.zrem(self._k("rows"), d.row)
        self._deleted.update(d.row for d in gone)

    def assign(self, placements: dict[int, tuple[int, float]], new: bool = False) -> None:
        """Move documents: ``row -> (cluster, similarity)``."""
        rows = list(placements)
        before = [] if new or not rows else self.db.hmget(self._k("place"), rows)
        tx = self._tx
        for r, old in zip(rows, before):
            if old is not None:
                tx.srem(self._k(f"members:{int(old.split()[0])}"), r)
        for r, (cluster, similarity) in placements.items():
            tx.sadd(self._k(f"members:{cluster}"), r)
        if placements:
            tx.hset(self._k("place"), mapping={r: f"{c} {s:.4f}" for r, (c, s) in placements.items()})

    def new_cluster_ids(self, n: int) -> list[int]:
        """``n`` cluster ids never handed out before."""
        last = self.db.incrby(self._k("next_cluster"), n) if n else 0
        return list(range(last - n + 1, last + 1))

    def put_clusters(self, clusters: dict[int, tuple[int, int]]) -> None:
        """Set ``cluster -> (canonical row, size)``."""
        if clusters:
            self._tx.hset(self._k("clusters"), mapping={c: f"{r} {n}" for c, (r, n) in clusters.items()})

    def drop_clusters(self, clusters: Sequence[int]) -> None:
        """Forget clusters that no longer have members."""
        if clusters:
            self._tx.hdel(self._k("clusters"), *clusters)

    def clusters(self) -> Iterator[tuple[int, str, list[tuple[str, float]]]]:
        """Every cluster with its canonical id and members, by cluster id."""
        table = {int(c): v.decode().split() for c, v in self.db.hgetall(self._k("clusters")).items()}
        for cluster in sorted(table):
            canonical = int(table[cluster][0])
            rows = self.members([cluster])
            pipe = self.db.pipeline(transaction=False)
            pipe.hmget(self._k("meta"), rows)
            pipe.hmget(self._k("place"), rows)
            metas, places = pipe.execute()
            ids = {r: json.loads(m)[0] for r, m in zip(rows, metas)}
            yield cluster, ids[canonical], [(ids[r], float(p.split()[1])) for r, p in zip(rows, places)]

    def counts(self) -> dict[str, int]:
        """Documents, clusters, duplicates, largest cluster, bytes used and of stored text."""
        sizes = [int(v.split()[1]) for v in self.db.hvals(self._k("clusters"))]
        memory = sum(self.db.memory_usage(k) or 0 for k in self.db.scan_iter(self.p + "*"))
        texts = sum(len(v) for v in self.db.hvals(self._k("texts")))
        return {
            "documents": self.db.hlen(self._k("meta")),
            "clusters": len(sizes),
            "duplicates": sum(n for n in sizes if n > 1),
            "largest": max(sizes, default=0),
            "bytes": memory,
            "text_bytes": texts,
        }

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def _dead_here(holder: str) -> bool:
    """Whether the lock ``holder`` is a process of this machine that no longer runs."""
    host, pid, _ = holder.split(" ", 2)
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
