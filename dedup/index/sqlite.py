"""The index in one SQLite file: no server, safe for several processes.

WAL journaling lets readers run while one process writes; every ``add`` is one
short ``BEGIN IMMEDIATE`` transaction, so a process killed in the middle leaves
the file as it was before that transaction. Documents get increasing row numbers
(``AUTOINCREMENT``), which lets every process catch up on what others stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path

from .store import KeyCodec, NewDoc, PagedCounters, StoredDoc, StoredPlace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS header (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, cluster INTEGER NOT NULL,
    similarity INTEGER NOT NULL, removed INTEGER NOT NULL, date TEXT, parent TEXT);
CREATE INDEX IF NOT EXISTS docs_cluster ON docs(cluster);
CREATE TABLE IF NOT EXISTS texts (row INTEGER PRIMARY KEY, key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS clusters (id INTEGER PRIMARY KEY, canonical INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS df (page INTEGER PRIMARY KEY, counts BLOB NOT NULL);
"""
_IN = "(SELECT value FROM json_each(?))"
_SIMILARITY_SCALE = 10_000  # similarities are stored as integers (2 bytes instead of 8)
#: SQLite's largest page. A stored text (~1.2 kB compressed) leaves part of a page empty where
#: the next does not fit; in 4 kB pages that was ~270 bytes per document, in 64 kB pages ~25.
_PAGE_SIZE = 65536
_CHUNK = 2000  # texts per chunk when catching up


class SQLiteStore(PagedCounters):
    """A :class:`dedup.index.store.Store` in the SQLite file at ``path``."""

    def __init__(self, path: str | Path, timeout: float = 600.0) -> None:
        super().__init__()
        self._codec = KeyCodec()
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self.db.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # a new file only; an existing one keeps its own
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._version = -1  # the file's data_version the kept counter pages belong to

    def header(self) -> dict[str, str] | None:
        """The stored header, or None for a new index."""
        exists = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'header'").fetchone()
        rows = self.db.execute("SELECT name, value FROM header").fetchall() if exists else []
        return dict(rows) or None

    def init(self, header: dict[str, str]) -> None:
        """Create the tables and the header unless another process just did."""
        with self.writing():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self.db.execute(statement)
            if not self.db.execute("SELECT 1 FROM header").fetchone():
                self.db.executemany("INSERT INTO header VALUES (?, ?)", header.items())
                self.db.execute("INSERT INTO header VALUES ('next_cluster', '1')")

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One exclusive transaction, committed whole or rolled back."""
        self.db.execute("BEGIN IMMEDIATE")
        self._check_pages()
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._forget_pages()  # they may hold writes that were rolled back
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read snapshot."""
        self.db.execute("BEGIN")
        self.db.execute("SELECT 1 FROM header LIMIT 1").fetchone()  # the snapshot starts here
        self._check_pages()
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def _check_pages(self) -> None:
        """Forget the kept counter pages if another connection has committed since they were read."""
        (version,) = self.db.execute("PRAGMA data_version").fetchone()
        if version != self._version:
            self._forget_pages()
            self._version = version

    def keys_since(self, row: int) -> Iterator[tuple[list[int], list[str]]]:
        """The rows and normalized texts of documents stored after ``row``, a chunk at a time."""
        cursor = self.db.execute("SELECT row, key FROM texts WHERE row > ? ORDER BY row", (row,))
        while chunk := cursor.fetchmany(_CHUNK):
            yield [r for r, _ in chunk], [self._codec.unpack(k) for _, k in chunk]

    def count_since(self, row: int) -> int:
        """How many documents are stored after ``row``."""
        return self.db.execute("SELECT COUNT(*) FROM texts WHERE row > ?", (row,)).fetchone()[0]

    def docs(self, rows: Sequence[int]) -> list[StoredDoc]:
        """The stored documents among ``rows``, in row order."""
        query = (
            "SELECT d.row, d.id, d.cluster, t.key, d.removed, d.date, d.parent "
            f"FROM docs d JOIN texts t ON t.row = d.row WHERE d.row IN {_IN} ORDER BY d.row"
        )
        return [
            StoredDoc(r, i, c, self._codec.unpack(k), rm, dt, p)
            for r, i, c, k, rm, dt, p in self.db.execute(query, (json.dumps([int(r) for r in rows]),))
        ]

    def rows_of(self, ids: Sequence[str]) -> dict[str, int]:
        """The rows of the stored documents among ``ids``."""
        return dict(self.db.execute(f"SELECT id, row FROM docs WHERE id IN {_IN}", (json.dumps(list(ids)),)))

    def members(self, clusters: Sequence[int]) -> list[int]:
        """The rows of every document in ``clusters``."""
        query = f"SELECT row FROM docs WHERE cluster IN {_IN} ORDER BY row"
        return [r for (r,) in self.db.execute(query, (json.dumps([int(c) for c in clusters]),))]

    def canonicals(self, rows: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``row -> (canonical row, size)`` of the cluster of each stored document among ``rows``."""
        query = f"SELECT d.row, c.canonical, c.size FROM docs d JOIN clusters c ON c.id = d.cluster WHERE d.row IN {_IN}"
        return {r: (c, n) for r, c, n in self.db.execute(query, (json.dumps([int(r) for r in rows]),))}

    def places(self, rows: Sequence[int]) -> dict[int, StoredPlace]:
        """Where each of the stored documents among ``rows`` sits, as stored."""
        query = ("SELECT d.row, d.id, d.cluster, k.id, d.similarity, d.parent FROM docs d JOIN clusters c "
                 f"ON c.id = d.cluster JOIN docs k ON k.row = c.canonical WHERE d.row IN {_IN}")
        found = self.db.execute(query, (json.dumps([int(r) for r in rows]),))
        return {r: StoredPlace(i, c, k, s / _SIMILARITY_SCALE, p) for r, i, c, k, s, p in found}

    def _read_pages(self, pages: list[int]) -> dict[int, bytes]:
        found = self.db.execute(f"SELECT page, counts FROM df WHERE page IN {_IN}", (json.dumps(pages),))
        return dict(found)

    def _write_pages(self, pages: dict[int, bytes]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO df VALUES (?, ?)", pages.items())

    def insert(self, docs: Sequence[NewDoc]) -> list[int]:
        """Store ``docs`` under rows after every row ever used."""
        (last,) = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'docs'").fetchone()
        rows = list(range(last + 1, last + 1 + len(docs)))
        self.db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r, d.id, d.cluster, round(d.similarity * _SIMILARITY_SCALE), d.removed, d.date, d.parent)
             for r, d in zip(rows, docs)],
        )
        self.db.executemany("INSERT INTO texts VALUES (?, ?)", [(r, d.packed) for r, d in zip(rows, docs)])
        return rows

    def delete(self, rows: Sequence[int]) -> None:
        """Remove the documents at ``rows``."""
        listed = (json.dumps([int(r) for r in rows]),)
        self.db.execute(f"DELETE FROM docs WHERE row IN {_IN}", listed)
        self.db.execute(f"DELETE FROM texts WHERE row IN {_IN}", listed)

    def assign(self, placements: dict[int, tuple[int, float]]) -> None:
        """Move documents: ``row -> (cluster, similarity)``."""
        self.db.executemany(
            "UPDATE docs SET cluster = ?, similarity = ? WHERE row = ?",
            [(c, round(s * _SIMILARITY_SCALE), r) for r, (c, s) in placements.items()],
        )

    def new_cluster_ids(self, n: int) -> list[int]:
        """``n`` cluster ids never handed out before."""
        (first,) = self.db.execute("SELECT value FROM header WHERE name = 'next_cluster'").fetchone()
        first = int(first)
        self.db.execute("UPDATE header SET value = ? WHERE name = 'next_cluster'", (str(first + n),))
        return list(range(first, first + n))

    def put_clusters(self, clusters: dict[int, tuple[int, int]]) -> None:
        """Set ``cluster -> (canonical row, size)``."""
        self.db.executemany("INSERT OR REPLACE INTO clusters VALUES (?, ?, ?)", [(c, r, n) for c, (r, n) in clusters.items()])

    def drop_clusters(self, clusters: Sequence[int]) -> None:
        """Forget clusters that no longer have members."""
        self.db.execute(f"DELETE FROM clusters WHERE id IN {_IN}", (json.dumps([int(c) for c in clusters]),))

    def clusters(self) -> Iterator[tuple[int, str, list[tuple[str, float]]]]:
        """Every cluster with its canonical id and members, by cluster id."""
        query = (
            "SELECT d.cluster, d.id, d.similarity, d.row = c.canonical FROM docs d "
            "JOIN clusters c ON c.id = d.cluster ORDER BY d.cluster, d.row"
        )
        for cluster, rows in groupby(self.db.execute(query), key=lambda r: r[0]):
            members = list(rows)
            canonical = next(i for _, i, _, is_canonical in members if is_canonical)
            yield cluster, canonical, [(i, s / _SIMILARITY_SCALE) for _, i, s, _ in members]

    def counts(self) -> dict[str, int]:
        """Documents, clusters, duplicates, largest cluster, bytes on disk and of stored text."""
        one = self.db.execute
        page_size = one("PRAGMA page_size").fetchone()[0]
        pages = one("PRAGMA page_count").fetchone()[0] - one("PRAGMA freelist_count").fetchone()[0]
        return {
            "documents": one("SELECT COUNT(*) FROM docs").fetchone()[0],
            "clusters": one("SELECT COUNT(*) FROM clusters").fetchone()[0],
            "duplicates": one("SELECT COALESCE(SUM(size), 0) FROM clusters WHERE size > 1").fetchone()[0],
            "largest": one("SELECT COALESCE(MAX(size), 0) FROM clusters").fetchone()[0],
            "bytes": page_size * pages,
            "text_bytes": one("SELECT COALESCE(SUM(LENGTH(key)), 0) FROM texts").fetchone()[0],
        }

    def close(self) -> None:
        """Checkpoint the journal into the file and close."""
        self.db.close()
