"""The incremental index, on both backends: SQLite (a file) and Redis (a server the
tests start on 127.0.0.1 with a random port, and stop)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dedup
from dedup import Document, Index, IndexSettingsError

from test_variants import seeds_and_variants

WORKER = """
import json, sys
import dedup
location, path, size, exact = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "exact"
docs = [dedup.Document(**json.loads(line)) for line in open(path, encoding="utf-8")]
index = dedup.Index(location)
for lo in range(0, len(docs), size):
    index.add(docs[lo:lo + size], exact=exact)
    print(lo + size, flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server); .ci/run installs it")
    pytest.importorskip("redis", reason="the redis package is not installed (extra dedup[redis])")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    yield port
    server.terminate()
    server.wait(10)


_DB_NUMBERS = iter(range(16))


@pytest.fixture(params=["sqlite", "redis"])
def location(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    port = request.getfixturevalue("redis_server")
    url = f"redis://127.0.0.1:{port}/{next(_DB_NUMBERS) % 16}"
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="module")
def corpus(seed_docs) -> list[Document]:
    return seeds_and_variants(seed_docs, shuffle=7)


def _partition(groups) -> list[list[str]]:
    return sorted(sorted(ids) for ids in groups)


def _index_partition(index: Index) -> list[list[str]]:
    return _partition([m["doc_id"] for m in c["members"]] for c in index.clusters())


@pytest.fixture(scope="module")
def batch_partition(corpus) -> list[list[str]]:
    result = dedup.find_clusters(corpus, workers=1, learn_templates=False)
    return _partition([m.doc_id for m in c.members] for c in result.clusters)


def test_five_daily_slices_give_the_batch_partition(location, corpus, batch_partition) -> None:
    index = Index(location)
    for day in range(5):
        index.add(corpus[day::5])
    assert _index_partition(index) == batch_partition
    stats = index.stats()
    assert stats["documents"] == sum(len(p) for p in batch_partition)
    assert stats["clusters"] == len(batch_partition)


def test_other_settings_are_refused(location, seed_docs) -> None:
    Index(location, ngram=3).add(seed_docs[:1])
    with pytest.raises(IndexSettingsError, match=r"ngram: index has 3, asked 5"):
        Index(location, ngram=5)
    assert Index(location).settings.ngram == 3  # no options: the index's own settings


def test_an_index_of_another_format_is_refused(tmp_path, seed_docs) -> None:
    path = tmp_path / "old.sqlite"
    Index(path).add(seed_docs[:1])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE header SET value = '1' WHERE name = 'schema'")
    with pytest.raises(IndexSettingsError, match=r"another version of dedup \(schema: index has 1, this version uses 2\)"):
        Index(path)


def test_query_answers_without_storing(location, seed_docs) -> None:
    index = Index(location)
    added = index.add(seed_docs[:2])
    before = index.stats()["documents"]
    copy = Document("copy", seed_docs[0].text[: len(seed_docs[0].text) * 2 // 3])
    fresh = Document("fresh", seed_docs[3].text)
    found = {m.doc_id: m for m in index.query([copy, fresh])}
    assert found["copy"].cluster_id == added[0].cluster_id and not found["copy"].is_new_cluster
    assert found["copy"].evidence is not None and found["copy"].similarity >= 0.45
    assert found["fresh"].cluster_id is None and found["fresh"].is_new_cluster
    assert index.stats()["documents"] == before


def test_a_quick_query_joins_the_stored_cluster_whose_canonical_it_verifies_against(location, seed_docs) -> None:
    index = Index(location)
    added = {m.doc_id: m for m in index.add(seed_docs[:2])}
    body = dedup.strip(seed_docs[0].text).body
    copies = [Document("head", body[: len(body) * 2 // 3]), Document("tail", body[len(body) // 3 :])]
    fresh = Document("fresh", seed_docs[3].text)
    quick = {m.doc_id: m for m in index.query(copies + [fresh], exact=False)}
    for copy in copies:  # each alone a copy of the stored canonical that reshapes nothing: the exact answer
        assert quick[copy.id] == index.query([copy])[0]
        assert quick[copy.id].cluster_id == added[seed_docs[0].id].cluster_id
        assert quick[copy.id].canonical_id == seed_docs[0].id and quick[copy.id].evidence is not None
    assert quick["fresh"].cluster_id is None and quick["fresh"].is_new_cluster
    assert quick["fresh"].canonical_id == "fresh"
    assert index.stats()["documents"] == len(added)


def test_quick_queries_answer_from_the_stored_canonicals(location, corpus) -> None:
    index = Index(location)
    index.add(corpus[1::2])
    canonical = {c["cluster_id"]: c["canonical_id"] for c in index.clusters()}
    probes = corpus[0::2]
    exact = index.query(probes)
    quick = index.query(probes, exact=False)
    assert [m.doc_id for m in quick] == [m.doc_id for m in exact]  # every document, embedded ones too
    placed = [m for m in quick if m.cluster_id is not None]
    assert placed
    joining = {m.cluster_id: set() for m in placed}
    for m in placed:
        joining[m.cluster_id].add(m.doc_id)
    for m in placed:  # the stored canonical, or a more complete copy joining its cluster
        assert m.canonical_id in {canonical[m.cluster_id]} | joining[m.cluster_id] and not m.is_new_cluster
        assert m.similarity == max(m.evidence.jaccard, m.evidence.containment)
    for e, q in zip(exact, quick):
        if e.cluster_id is not None and (e.cluster_id, e.canonical_id) == (q.cluster_id, q.canonical_id):
            assert q.similarity == e.similarity and q.evidence == e.evidence
    assert sum(e.cluster_id == q.cluster_id for e, q in zip(exact, quick)) >= 0.9 * len(quick)


def test_cluster_ids_are_stable_and_the_canonical_follows_the_most_complete_copy(location, seed_docs) -> None:
    seed = seed_docs[3]
    half = Document("half", seed.text[: len(seed.text) // 2])
    first = Index(location).add([half])[0]
    assert first.is_new_cluster and first.canonical_id == "half"
    again = Index(location).add([Document("full", seed.text)])  # another process, another day
    full = next(m for m in again if m.doc_id == "full")
    assert full.cluster_id == first.cluster_id and not full.is_new_cluster
    assert full.canonical_id == "full"
    clusters = {c["cluster_id"]: c for c in Index(location).clusters()}
    assert clusters[first.cluster_id]["canonical_id"] == "full"


def _sizes_hold(index: Index) -> bool:
    """Every stored cluster's size is its number of members, and the counts agree."""
    clusters = list(index.clusters())
    stats = index.stats()
    return (all(c["size"] == len(c["members"]) for c in clusters) and len(clusters) == stats["clusters"]
            and sum(c["size"] for c in clusters if c["size"] > 1) == stats["duplicates"])


def test_a_quick_add_joins_the_stored_cluster_and_the_canonical_follows_the_more_complete_copy(location, seed_docs) -> None:
    seed = seed_docs[3]
    body = dedup.strip(seed.text).body
    index = Index(location)
    index.add(seed_docs[:2], exact=False)
    first = index.add([Document("half", body[: len(body) // 2])], exact=False)[0]
    assert first.is_new_cluster and first.canonical_id == "half"
    full = Index(location).add([Document("full", seed.text)], exact=False)  # another process, another day
    full = next(m for m in full if m.doc_id == "full")
    assert (full.cluster_id, full.is_new_cluster, full.canonical_id) == (first.cluster_id, False, "full")
    tail = index.add([Document("tail", body[len(body) // 3 :])], exact=False)[0]
    assert (tail.cluster_id, tail.canonical_id) == (first.cluster_id, "full") and tail.evidence is not None
    asked = index.query([Document("tail again", body[len(body) // 3 :])], exact=False)[0]
    assert (asked.cluster_id, asked.canonical_id, asked.similarity) == (tail.cluster_id, "full", tail.similarity)
    cluster = next(c for c in index.clusters() if c["cluster_id"] == first.cluster_id)
    assert cluster["canonical_id"] == "full" and cluster["size"] == 3
    similarity = {m["doc_id"]: m["similarity"] for m in cluster["members"]}
    assert similarity["full"] == 1.0 and 0.45 <= similarity["half"] < 1.0  # now against the new canonical
    assert _sizes_hold(index)


def test_a_quick_add_clusters_new_stories_among_themselves(location, seed_docs) -> None:
    index = Index(location)
    index.add(seed_docs[:1], exact=False)
    body = dedup.strip(seed_docs[3].text).body
    copies = [Document("a", body), Document("b", body[: len(body) * 2 // 3]), Document("c", seed_docs[4].text)]
    placed = {m.doc_id: m for m in index.add(copies, exact=False)}
    assert placed["a"].cluster_id == placed["b"].cluster_id and placed["a"].is_new_cluster
    assert placed["a"].canonical_id == "a" and placed["b"].similarity >= 0.45
    assert placed["c"].cluster_id not in (None, placed["a"].cluster_id)
    assert _sizes_hold(index)


def test_quick_daily_slices_come_close_to_the_batch_partition(location, corpus, batch_partition) -> None:
    index = Index(location)
    for day in range(5):
        index.add(corpus[day::5], exact=False)
    pairs = [{(a, b) for group in partition for a in group for b in group if a < b}
             for partition in (batch_partition, _index_partition(index))]
    together = len(pairs[0] & pairs[1])
    assert together >= 0.95 * len(pairs[0]) and together >= 0.95 * len(pairs[1])  # recall and precision of pairs
    assert sorted(d for group in _index_partition(index) for d in group) == sorted(d for g in batch_partition for d in g)
    assert _sizes_hold(index)


def _table(index: Index) -> list[tuple[int, int]]:
    table = index._table
    return sorted(zip(np.concatenate(table._keys).tolist(), np.concatenate(table._owners).tolist()))


def test_a_new_process_computes_the_band_keys_the_writer_kept(location, seed_docs) -> None:
    writer = Index(location)
    writer.add(seed_docs)  # long articles: whole texts and leads, embedded articles too
    reader = Index(location)  # band keys are not stored: it computes them from the stored texts
    told = []
    loaded = reader.load(lambda stage, done, total: told.append((stage, done, total)))
    stored = writer.stats()["documents"]
    assert loaded == stored and told[-1] == ("load", stored, stored)
    assert reader.load() == 0 and writer.load() == 0  # nothing new since
    assert _table(reader) == _table(writer) and len(_table(reader)) > 0


def test_a_loaded_sqlite_index_answers_without_reading_counters_again(tmp_path, seed_docs, monkeypatch) -> None:
    path = tmp_path / "news.sqlite"
    Index(path, df_bits=16).add(seed_docs[:3])
    reader = Index(path)
    reader.load()
    pages = []
    monkeypatch.setattr(reader.store, "_read_pages", lambda wanted: pages.append(wanted) or {})
    assert reader.query(seed_docs[3:], exact=False) and reader.query(seed_docs[3:])
    assert pages == []  # load read every page of counters; nobody wrote since
    Index(path).add(seed_docs[3:4])  # another connection writes: the kept pages may be stale
    reader.query(seed_docs[4:])
    assert pages


def test_adding_a_stored_id_again_changes_nothing(location, seed_docs) -> None:
    index = Index(location)
    first = index.add(seed_docs[:2])
    stats = index.stats()
    second = index.add(seed_docs[:2])  # the stored documents, not their embedded articles again
    assert [(m.doc_id, m.cluster_id) for m in second] == [(m.doc_id, m.cluster_id) for m in first if not m.parent_id]
    assert index.stats()["documents"] == stats["documents"]


def test_a_quick_add_of_stored_ids_gives_their_stored_place(location, seed_docs) -> None:
    index = Index(location)
    body = dedup.strip(seed_docs[3].text).body
    first = index.add(seed_docs[:2] + [Document("half", body[: len(body) // 2]), Document("full", body)], exact=False)
    stats = index.stats()
    again = index.add(seed_docs[:2] + [Document("half", "not read again"), Document("full", body)], exact=False)
    stored = {c["cluster_id"]: c for c in index.clusters()}
    assert [m.doc_id for m in again] == [m.doc_id for m in first if not m.parent_id]
    for m in again:
        member = next(x for x in stored[m.cluster_id]["members"] if x["doc_id"] == m.doc_id)
        assert m.already_stored and m.evidence is None and not m.is_new_cluster
        assert (m.canonical_id, m.similarity) == (stored[m.cluster_id]["canonical_id"], member["similarity"])
    assert [m.cluster_id for m in again] == [m.cluster_id for m in first if not m.parent_id]
    assert index.stats()["documents"] == stats["documents"]
    assert [m.doc_id for m in index.query([Document("full", body)], exact=False) if m.already_stored] == ["full"]


def test_remove_takes_documents_out_and_reclusters(location, seed_docs) -> None:
    seed = seed_docs[0]
    index = Index(location)
    copies = [Document("a", seed.text), Document("b", seed.text[: len(seed.text) // 2])]
    index.add(copies)
    assert index.remove(["a", "missing"]) == 1
    clusters = list(index.clusters())
    by_member = {m["doc_id"]: c for c in clusters for m in c["members"]}
    assert "a" not in by_member and by_member["b"]["canonical_id"] == "b"
    assert index.remove(["a"]) == 0


def _write_jsonl(path: Path, docs: list[Document]) -> None:
    path.write_text(
        "".join(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )


def _worker(location: str, path: Path, size: int, exact: bool = True) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.Popen([sys.executable, "-c", WORKER, location, str(path), str(size), "exact" if exact else "quick"],
                            stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "quick"])
def test_concurrent_writers_lose_nothing(location, corpus, batch_partition, tmp_path, exact) -> None:
    Index(location)  # create it before the writers race
    workers = []
    for k in range(3):
        path = tmp_path / f"slice{k}.jsonl"
        _write_jsonl(path, corpus[k::3])
        workers.append(_worker(location, path, 2, exact))
    for w in workers:
        assert w.wait(300) == 0
    index = Index(location)
    if exact:
        assert _index_partition(index) == batch_partition
    stored = sorted(d for group in _index_partition(index) for d in group)
    assert stored == sorted(d for group in batch_partition for d in group) and _sizes_hold(index)


def test_a_writer_killed_mid_add_leaves_whole_documents(location, corpus, batch_partition, tmp_path) -> None:
    path = tmp_path / "all.jsonl"
    _write_jsonl(path, corpus)
    rng = random.Random(11)
    for _ in range(3):
        writer = _worker(location, path, 1)
        writer.stdout.readline()  # it has stored something: now kill it at a random moment
        time.sleep(rng.uniform(0.0, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        index = Index(location)
        stats = index.stats()
        stored = {m["doc_id"] for c in index.clusters() for m in c["members"]}
        assert len(stored) == stats["documents"]  # every stored document sits in a cluster
        assert sum(c["size"] for c in index.clusters()) == stats["documents"]
        assert index.query(corpus[:1])[0].canonical_id  # it answers
    index = Index(location)
    index.add(corpus)  # the rest; what was stored is kept as it is
    assert _index_partition(index) == batch_partition


def test_cli_add_query_stats_export(tmp_path, seed_docs) -> None:
    from click.testing import CliRunner

    from dedup.cli import main

    seeds = str(Path(__file__).resolve().parent.parent / "seeds")
    db = str(tmp_path / "news.sqlite")
    run = CliRunner().invoke
    added = run(main, ["index", "add", db, seeds, "-q"])
    assert added.exit_code == 0, added.output
    assert "stored or found 8: already stored 0, copies of a stored story 0, new stories 8" in added.output
    again = run(main, ["index", "add", db, seeds, "-q"])
    assert "already stored 5" in again.output  # a re-run stores nothing twice
    copy = tmp_path / "copy.jsonl"
    _write_jsonl(copy, [Document("copy", seed_docs[1].text)])
    queried = run(main, ["index", "query", db, str(copy), "-q", "--format", "jsonl", "-o", str(tmp_path / "q.jsonl")])
    assert queried.exit_code == 0, queried.output
    rows = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["doc_id"] == "copy" and rows[0]["canonical_id"] == seed_docs[1].id
    assert rows[0]["evidence"]["jaccard"] == 1.0
    quick = run(main, ["index", "query", db, str(copy), "-q", "--quick", "--format", "jsonl"])
    assert quick.exit_code == 0 and [json.loads(line) for line in quick.stdout.splitlines()] == rows
    fast = str(tmp_path / "quick.sqlite")
    assert run(main, ["index", "add", fast, seeds, "-q", "--quick"]).exit_code == 0
    stored = run(main, ["index", "add", fast, str(copy), "-q", "--quick", "-o", str(tmp_path / "added.jsonl")])
    assert stored.exit_code == 0, stored.output
    assert "stored or found 2: already stored 0, copies of a stored story 2, new stories 0" in stored.output
    placed = [json.loads(line) for line in (tmp_path / "added.jsonl").read_text(encoding="utf-8").splitlines()]
    assert placed[0]["doc_id"] == "copy" and placed[0]["canonical_id"] == seed_docs[1].id
    stats = json.loads(run(main, ["index", "stats", db]).output)
    assert stats["documents"] == 8 and stats["settings"]["ngram"] == 3
    exported = run(main, ["index", "export", db, "-o", str(tmp_path / "c.jsonl")])
    assert exported.exit_code == 0
    assert len((tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()) == 8
    refused = run(main, ["index", "add", db, seeds, "-q", "--embedded", "drop"])
    assert refused.exit_code == 1 and "embedded: index has" in refused.output


def test_sqlite_counters_cached_between_operations_follow_other_writers(tmp_path) -> None:
    from dedup.index.sqlite import SQLiteStore

    path = tmp_path / "df.sqlite"
    mine, other = SQLiteStore(path), SQLiteStore(path)
    mine.init({"bands": "1"})
    buckets = np.array([5, 9000], dtype=np.int64)
    with mine.reading():
        assert mine.df(buckets).tolist() == [0, 0]  # now cached in ``mine``
    with other.writing():
        other.add_df(buckets, 1)
    with mine.reading():
        assert mine.df(buckets).tolist() == [1, 1]  # another connection's commit is seen
    with pytest.raises(RuntimeError), mine.writing():
        mine.add_df(buckets, 1)
        raise RuntimeError("the add fails")
    with mine.reading():
        assert mine.df(buckets).tolist() == [1, 1]  # a rolled-back write is not remembered
    with mine.writing():
        mine.add_df(buckets, 1)
    with other.reading():
        assert other.df(buckets).tolist() == [2, 2]


def test_sqlite_counters_count_each_entry_stop_at_zero_and_saturate(tmp_path) -> None:
    from dedup.index.sqlite import SQLiteStore
    from dedup.index.store import DF_MAX, DF_PAGE_BITS

    path = tmp_path / "df.sqlite"
    store = SQLiteStore(path)
    store.init({"bands": "1"})
    far = 3 << DF_PAGE_BITS  # a page after pages never written
    with store.writing():
        store.add_df(np.array([7, 7, 7, far, 8], dtype=np.int64), 1)  # an entry counts each time
        store.add_df(np.full(DF_MAX + 5, far + 1, dtype=np.int64), 1)
        store.add_df(np.array([8, 8, far + 1], dtype=np.int64), -1)  # 8 stops at 0; far + 1 stays saturated
    buckets = np.array([7, 8, 9, far, far + 1, 1 << DF_PAGE_BITS], dtype=np.int64)
    for reader in (store, SQLiteStore(path)):  # as kept, and as stored
        with reader.reading():
            assert reader.df(buckets).tolist() == [3, 0, 0, 1, DF_MAX, 0]


def test_new_sqlite_files_use_large_pages_and_old_ones_keep_theirs(tmp_path, seed_docs) -> None:
    import sqlite3

    def page_size(path: Path) -> int:
        with sqlite3.connect(path) as db:
            return db.execute("PRAGMA page_size").fetchone()[0]

    new = tmp_path / "new.sqlite"
    with Index(new) as index:
        index.add(seed_docs[:3])
    assert page_size(new) == 65536

    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:  # a file made with SQLite's default pages, as before
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE made_before (x)")
    with Index(old) as index:
        index.add(seed_docs[:3])
        index.add(seed_docs[3:])
        assert index.stats()["documents"] == 8  # five articles and three embedded ones
    assert page_size(old) == 4096
