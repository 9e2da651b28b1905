"""The flow stage by stage over files: for dumps larger than memory, resumable, and the
unit of work any executor runs (local processes, or Ray: :mod:`dedup.engines`).

Every task reads files and writes files (atomically); an executor runs the tasks of a
stage, and a task whose output exists is not run again, so a killed run resumes where
it stopped. Files that no task will read again are deleted as soon as the stage reading
them is done (a stage whose readers are done is skipped on resuming). The result equals
:func:`dedup.find_clusters` on the same documents.

``read``      documents -> ``raw/part-K.parquet`` shards (the driver streams the input once)
``templates`` per shard, the line keys of its documents among the first ``template_docs`` of
              each source -> ``templates/lines-K.pkl``; then the templates -> ``templates.pkl``
``sign``      per shard: strip, normalize, sign -> ``sign/docs-K.parquet`` (id, provenance),
              ``sign/keys-K.*`` (normalized keys), ``sign/shingles-K.*`` (shingle sets) and
              ``sign/rows-K.*.npy`` (band keys of whole texts and windows)
``df``        per shard, then per hash partition: shingles found in more than ``common_df``
              documents -> ``df/common-P.npy``; then per shard, which of its shingles are
              common -> ``df/flags-K.npy``
``bands``     per shard, then per hash partition of band keys: bucket them -> candidate
              pairs, split by the range of their first document -> ``pairs/P/``
``verify``    per range of first documents: the distinct pairs, exact scores on the
              memory-mapped shingle slices of only the documents they need -> ``edges/P.npz``
``cluster``   the driver labels connected components (a union-find over one edge file at a
              time -> ``clusters/labels.npy``); per edge file, edges are routed to the task
              of their component (``clusters/route-P/``), and per shard, the shingle sets and
              keys of its documents that have an edge are dealt the same way
              (``clusters/deal-K/``); per task, the chain-guarded clustering of its
              components -> ``clusters/rows-T.parquet``; the driver numbers
              the clusters as a batch run does, adds every document without an edge as a
              cluster of its own -> ``clusters.parquet`` (the rows of ``dedup report --format
              parquet``)
"""

from __future__ import annotations

import json
import pickle
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import kernels
from .boilerplate.templates import learn_from_lines, site_lines
from .cluster import Provenance, cluster
from .collection import collector_paused
from .differs import KeyTexts
from .io import atomic_path, document_table, require, table_documents
from .lsh import distinct, sorted_bucket_pairs, unique_pairs
from .minhash import MinHasher
from .model import Cluster, Document, Evidence, Member
from .pipeline import (
    ChromeStripper,
    Deduplicator,
    Grouping,
    Result,
    Settings,
    Stripper,
    document_date,
    sign_keys,
    template_picks,
    to_clusters,
)
from .report.records import COLUMNS, parquet_schema
from .shingle import ShingleSets, offsets_of, segment_positions
from .verify import common_values, is_member, verify

#: ``run(function, argument_tuples)`` -> results in order; what an executor provides.
Executor = Callable[[Callable, list[tuple]], list]
_KIND_SHIFT = 62  # row ids: kind (whole text 0, window 1) << 62 | document << 20 | window number
_DOC_SHIFT = 20


@dataclass(frozen=True)
class Plan:
    """Where a staged run keeps its files and how it splits the work."""

    folder: Path
    settings: Settings
    shard_docs: int = 10_000
    partitions: int = 32
    keep_objects: bool = False  # also keep what stripping made of each document, and the clusters, pickled

    def ranges(self, shards: int) -> int:
        """How many ranges of first documents the candidate pairs are split into, one verify
        task each: one per shard (at least ``partitions``), so that a task's pairs and the
        shingle sets they need stay about a shard's worth however large the run."""
        return max(self.partitions, shards)

    def path(self, *parts: str) -> Path:
        return self.folder.joinpath(*parts)

    def output(self, task: str, number: int) -> Path:
        """The file task ``task`` number ``number`` writes last: it exists once the task is done."""
        folder, name = _OUTPUTS[task]
        return self.folder / folder / name.format(number)


_OUTPUTS = {
    "template_lines": ("templates", "lines-{:05d}.pkl"),
    "sign": ("sign", "docs-{:05d}.parquet"),
    "df_map": ("df", "map-{:05d}/bounds.npy"),
    "df_reduce": ("df", "common-{:03d}.npy"),
    "df_flags": ("df", "flags-{:05d}.npy"),
    "bands_map": ("bands", "map-{:05d}/bounds.npy"),
    "bands_reduce": ("pairs", "{:03d}/bounds.npy"),
    "verify": ("edges", "{:03d}.npz"),
    "route": ("clusters", "route-{:03d}/bounds.npy"),
    "deal": ("clusters", "deal-{:05d}/bounds.npy"),
    "cluster": ("clusters", "rows-{:03d}.parquet"),
}


def _done(path: Path) -> bool:
    return path.exists()


def _save(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        write(temp)


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    def write(temp: Path) -> None:
        with open(temp, "wb") as fh:
            np.savez(fh, **arrays)

    _save(path, write)


def _save_table(path: Path, columns: dict[str, list] | Any) -> None:
    """Write ``columns`` (or an Arrow table) as Parquet, uncompressed: Snappy halves news
    text on disk, but writing a raw shard took 2-3 times as long with it, and reading one
    back a third longer (the read stage is one process)."""
    pq = require("pyarrow.parquet", "parquet", path)
    pa = require("pyarrow", "parquet", path)
    table = pa.table(columns) if isinstance(columns, dict) else columns
    _save(path, lambda temp: pq.write_table(table, temp, compression="none"))


def _read_table(path: Path, columns: Sequence[str] | None = None) -> dict[str, list]:
    return _parquet(path, columns).to_pydict()


def _parquet(path: Path, columns: Sequence[str] | None = None) -> Any:
    """The Parquet file at ``path`` (``columns`` of it) as an Arrow table, read as one file
    (``pq.read_table`` goes through the dataset layer: a third more CPU per small file)."""
    pq = require("pyarrow.parquet", "parquet", path)
    return pq.ParquetFile(path).read(columns=list(columns) if columns else None)


# -- read -------------------------------------------------------------------------------


def write_shards(plan: Plan, documents: Iterable[Document | list[Document] | Any],
                 describe: Callable[[], str] = str) -> tuple[int, str]:
    """Stream ``documents`` into ``raw/part-K.parquet`` shards of ``plan.shard_docs`` rows;
    the number of shards and ``describe()`` of the input once read (kept, so that a
    resumed run can tell it). ``documents`` may also come in batches: lists, or Arrow
    tables (:func:`dedup.io.read_batches`). With shards from an earlier run present, the
    input is not read again."""
    marker = plan.path("raw", "_shards.json")
    if _done(marker):
        kept = json.loads(marker.read_text())
        return kept["shards"], kept["input"]
    count, pending = 0, []  # Arrow tables not written yet

    def write(final: bool) -> None:
        nonlocal count, pending
        whole = require("pyarrow", "parquet", marker).concat_tables(pending)
        size = plan.shard_docs
        end = whole.num_rows if final else whole.num_rows - whole.num_rows % size
        for lo in range(0, end, size):
            _save_table(plan.path("raw", f"part-{count:05d}.parquet"), whole.slice(lo, size))
            count += 1
        if final and not count:
            _save_table(plan.path("raw", f"part-{count:05d}.parquet"), whole)
            count += 1
        pending = [whole.slice(end)]

    for table in _tables(documents):
        pending.append(table)
        if sum(t.num_rows for t in pending) >= plan.shard_docs:
            write(final=False)
    pending.append(document_table([]))
    write(final=True)
    note = describe()
    _save(marker, lambda temp: temp.write_text(json.dumps({"shards": count, "input": note}, ensure_ascii=False)))
    return count, note


def _tables(documents: Iterable[Document | list[Document] | Any]) -> Iterator[Any]:
    """Arrow tables (:func:`dedup.io.document_table`) of ``documents``, in order."""
    run: list[Document] = []
    for item in documents:
        if isinstance(item, Document):
            run.append(item)
            if len(run) < 1000:
                continue
            item, run = run, []
        elif run:
            yield document_table(run)
            run = []
        yield document_table(item) if isinstance(item, list) else item
    if run:
        yield document_table(run)


def _raw_documents(plan: Plan, number: int) -> list[Document]:
    return table_documents(_parquet(plan.path("raw", f"part-{number:05d}.parquet")))


# -- templates --------------------------------------------------------------------------


def template_picks_of(plan: Plan, shards: int, strip: Stripper | None = None) -> dict[int, list[int]]:
    """The rows of each shard that templates are learned from (found from the source column
    alone): the first ``template_docs`` documents of each source, none when ``strip`` is
    given or learning is off."""
    cap = plan.settings.template_docs if strip is None and plan.settings.learn_templates else 0
    if not cap:
        return {}
    taken: Counter[str] = Counter()
    picks = {k: template_picks(_read_table(plan.path("raw", f"part-{k:05d}.parquet"), ["source"])["source"], cap, taken)
             for k in range(shards)}
    return {k: rows for k, rows in picks.items() if rows}


def template_lines_task(plan: Plan, number: int, rows: list[int]) -> None:
    """The site and line keys of the picked ``rows`` of one shard -> ``templates/lines-K.pkl``."""
    out = plan.output("template_lines", number)
    if _done(out):
        return
    table = _parquet(plan.path("raw", f"part-{number:05d}.parquet"), ["text", "source"]).take(rows).to_pydict()
    docs = [Document(str(i), text, source) for i, text, source in zip(rows, table["text"], table["source"])]
    found = list(site_lines(docs))
    _save(out, lambda temp: temp.write_bytes(pickle.dumps(found)))


def learn(plan: Plan, picked: list[int], strip: Stripper | None = None) -> None:
    """Keep the stripping hook of the run: ``strip``, or the default with templates learned
    from the line keys of the ``picked`` shards."""
    out = plan.path("templates.pkl")
    if _done(out):
        return
    lines = (entry for k in picked for entry in pickle.loads(plan.output("template_lines", k).read_bytes()))
    stripper = strip or ChromeStripper(learn_from_lines(lines) if picked else None, plan.settings.embedded)
    _save(out, lambda temp: temp.write_bytes(pickle.dumps(stripper)))


# -- sign -------------------------------------------------------------------------------


def sign_task(plan: Plan, number: int) -> None:
    """Strip, normalize and sign one shard (its embedded articles split out too)."""
    docs_path = plan.output("sign", number)
    if _done(docs_path):
        return
    settings = plan.settings
    stripper = pickle.loads(plan.path("templates.pkl").read_bytes())
    docs, stripped, keys = Deduplicator(settings, stripper, workers=1).prepare(_raw_documents(plan, number), stripper)
    shingles, rows = sign_keys(keys, settings, MinHasher(settings.num_perm, settings.seed))
    owners, whole = rows.owners, rows.whole
    kind = np.zeros(len(owners), dtype=np.int64)
    kind[whole:] = 1
    ordinal = np.zeros(len(owners), dtype=np.int64)  # window number within its document
    windows = owners[whole:]
    if windows.size:
        firsts = np.flatnonzero(np.concatenate(([True], windows[1:] != windows[:-1])))
        ordinal[whole:] = np.arange(windows.size) - np.repeat(firsts, np.diff(np.append(firsts, windows.size)))
    encoded = [key.encode("utf-8") for key in keys]
    _save_npy(plan.path("sign", f"keys-{number:05d}.utf8.npy"), np.frombuffer(b"".join(encoded), dtype=np.uint8))
    _save_npy(plan.path("sign", f"keys-{number:05d}.offsets.npy"), offsets_of([len(e) for e in encoded]))
    for name, array in (("values", shingles.values), ("offsets", shingles.offsets), ("words", shingles.words)):
        _save_npy(plan.path("sign", f"shingles-{number:05d}.{name}.npy"), array)
    for name, array in (("owner", owners), ("kind", kind), ("ordinal", ordinal), ("keys", rows.keys)):
        _save_npy(_rows_path(plan, number, name), array)
    _save_table(docs_path, {  # last: the task is done once it exists
        "id": [d.id for d in docs], "source": [d.source for d in docs], "date": [document_date(d) for d in docs],
        "parent_id": [d.meta.get("parent_id") for d in docs],
        "removed": [len(d.text) - len(stripped[d.id].body) for d in docs],
        "capped": [len(stripped[d.id].body) > settings.max_chars for d in docs],
    } | ({"stripped": [pickle.dumps(stripped[d.id]) for d in docs]} if plan.keep_objects else {}))


def _rows_path(plan: Plan, number: int, name: str) -> Path:
    """Column ``name`` of the band rows (whole texts and windows) of shard ``number``, read by
    the bands stage: plain ``.npy`` files (an ``.npz`` archive checksums every byte written
    and read)."""
    return plan.path("sign", f"rows-{number:05d}.{name}.npy")


def _partition(values: np.ndarray, partitions: int) -> np.ndarray:
    """The hash partition of each (already well-mixed) 64-bit value."""
    return (values % np.uint64(partitions)).astype(np.int64)


# -- df ---------------------------------------------------------------------------------


def _save_npy(path: Path, array: np.ndarray) -> None:
    """``array`` as a ``.npy`` file, its data written by Python's file object: ``np.save``
    hands a real file to ``ndarray.tofile``, which turns a Ctrl-C arriving inside it into a
    ``TypeError`` (and the stop into a crash)."""
    def write(temp: Path) -> None:
        data = np.ascontiguousarray(array)
        with open(temp, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(data))
            fh.write(memoryview(data).cast("B") if data.size else b"")

    _save(path, write)


def _write_partitioned(marker: Path, part: np.ndarray, partitions: int, **columns: np.ndarray) -> None:
    """``columns`` grouped by ``part`` (their hash partition), one ``.npy`` file each beside
    ``marker`` (``bounds.npy``: where each partition starts), which is written last."""
    order, bounds = kernels.grouped_order(part, partitions)
    for name, column in columns.items():
        _save_npy(marker.with_name(f"{name}.npy"), column[order])
    _save_npy(marker, bounds)


def _write_ragged(marker: Path, part: np.ndarray, partitions: int, rows: np.ndarray, offsets: np.ndarray,
                  **columns: np.ndarray) -> None:
    """The entries of ``rows`` (row ``i`` owns ``column[offsets[i]:offsets[i + 1]]``), row
    after row in the order :func:`_write_partitioned` puts them for the same ``part``; one
    ``.npy`` file per column beside ``marker`` (where each partition's entries start),
    which is written last."""
    order, bounds = kernels.grouped_order(part, partitions)
    for name, column in columns.items():
        _save_npy(marker.with_name(f"{name}.npy"), kernels.take_rows(column, offsets, rows[order]))
    starts = offsets_of(offsets[rows[order] + 1] - offsets[rows[order]])
    _save_npy(marker, starts[bounds])


def _read_partition(markers: list[Path], partition: int | Sequence[int], *names: str) -> list[np.ndarray]:
    """The rows of ``partition`` of every map output (only they are read); for several
    partitions, those of the first of them in every output, then of the next..."""
    bounds = [np.load(marker) for marker in markers]
    spans = [(marker, int(b[p]), int(b[p + 1])) for p in ([partition] if isinstance(partition, int) else partition)
             for marker, b in zip(markers, bounds)]
    return [_read_spans([(marker.with_name(f"{name}.npy"), lo, hi) for marker, lo, hi in spans]) for name in names]


def _read_spans(spans: list[tuple[Path, int, int]]) -> np.ndarray:
    """Rows ``lo:hi`` of each 1-d ``.npy`` file of ``spans``, end to end: each read at once
    into its place in the result (a memory map would fault its pages in one at a time
    when they are not cached)."""
    with open(spans[0][0], "rb") as fh:
        out = np.empty(sum(hi - lo for _, lo, hi in spans), dtype=_npy_dtype(fh))
    at = 0
    for path, lo, hi in spans:
        with open(path, "rb") as fh:
            _npy_dtype(fh)
            fh.seek(lo * out.itemsize, 1)
            fh.readinto(memoryview(out[at : at + hi - lo]).cast("B"))
        at += hi - lo
    return out


def _npy_dtype(fh: BinaryIO) -> np.dtype:
    """The element type of the ``.npy`` file open at its start in ``fh``, which is left at
    the first element."""
    version = np.lib.format.read_magic(fh)
    read_header = np.lib.format.read_array_header_1_0 if version[0] == 1 else np.lib.format.read_array_header_2_0
    return read_header(fh)[2]


def df_map_task(plan: Plan, number: int) -> None:
    """Each document's distinct shingles of one shard, split by hash partition."""
    out = plan.output("df_map", number)
    if _done(out):
        return
    values = np.load(plan.path("sign", f"shingles-{number:05d}.values.npy"))
    _write_partitioned(out, _partition(values, plan.partitions), plan.partitions, values=values)


def df_reduce_task(plan: Plan, partition: int, shards: int) -> None:
    """The shingles of one partition found in more than ``common_df`` documents."""
    out = plan.output("df_reduce", partition)
    if _done(out):
        return
    (values,) = _read_partition([plan.output("df_map", k) for k in range(shards)], partition, "values")
    _save_npy(out, common_values(values, plan.settings.common_df))


@lru_cache(maxsize=2)
def _common_values(plan: Plan) -> np.ndarray:
    """Every common shingle of the run, sorted (read once per process, not once per shard)."""
    return np.sort(np.concatenate([np.load(plan.output("df_reduce", p)) for p in range(plan.partitions)]))


def df_flags_task(plan: Plan, number: int) -> None:
    """Which shingles of one shard are common, aligned with its ``values`` file."""
    out = plan.output("df_flags", number)
    if _done(out):
        return
    common = _common_values(plan)
    values = np.load(plan.path("sign", f"shingles-{number:05d}.values.npy"))
    _save_npy(out, is_member(values, common))


# -- bands ------------------------------------------------------------------------------


def bands_map_task(plan: Plan, number: int, first_doc: int) -> None:
    """Band entries ``(band, key, row id)`` of one shard, split by hash partition and, in
    each, by the kind of their row (whole texts, then windows): read in that order from
    shard after shard, a partition's entries come in row order."""
    out = plan.output("bands_map", number)
    if _done(out):
        return
    owner, kind, ordinal, keys = (np.load(_rows_path(plan, number, name)) for name in ("owner", "kind", "ordinal", "keys"))
    row_id = (kind << _KIND_SHIFT) | ((owner + first_doc) << _DOC_SHIFT) | ordinal
    n, bands = keys.shape
    band = np.tile(np.arange(bands, dtype=np.int8), n)
    key = keys.ravel()
    row = np.repeat(row_id, bands)
    part = 2 * _partition(key, plan.partitions) + np.repeat(kind, bands)
    _write_partitioned(out, part, 2 * plan.partitions, band=band, key=key, row=row)


def bands_reduce_task(plan: Plan, partition: int, shards: int, total_docs: int) -> None:
    """Candidate pairs of documents from the buckets of one partition, split into
    :meth:`Plan.ranges` ranges of their first document (what one verify task takes)."""
    out = plan.output("bands_reduce", partition)
    if _done(out):
        return
    markers = [plan.output("bands_map", k) for k in range(shards)]
    band, key, row = _read_partition(markers, (2 * partition, 2 * partition + 1), "band", "key", "row")
    order, starts = _bucket_order(band, key)
    del band, key
    doc = (row[order] >> _DOC_SHIFT) & np.int64((1 << (_KIND_SHIFT - _DOC_SHIFT)) - 1)
    del row, order
    first, second = sorted_bucket_pairs(doc, starts, plan.settings.max_bucket)
    del doc, starts
    pairs = unique_pairs(first, second)
    ranges = plan.ranges(shards)
    part = pairs[:, 0] * ranges // max(total_docs, 1)
    _write_partitioned(out, part, ranges, first=pairs[:, 0], second=pairs[:, 1])


def _bucket_order(band: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entries grouped by ``(band, key)``, in their order within a group, and which
    entries of that order start a group: one grouping of the keys with the band mixed in,
    unless two entries of different bands mix to one value (then a lexicographic sort)."""
    mixed = key ^ (band.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    order, starts = kernels.bucket_runs(mixed)
    del mixed
    if (~starts[1:] & (band[order[1:]] != band[order[:-1]])).any():
        order = np.lexsort((key, band))
        ranked_band, ranked_key = band[order], key[order]
        starts[1:] = (ranked_band[1:] != ranked_band[:-1]) | (ranked_key[1:] != ranked_key[:-1])
    return order, starts


# -- verify -----------------------------------------------------------------------------


def _shard_of(docs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.searchsorted(offsets, docs, side="right") - 1


def _gather(docs: np.ndarray, offsets: np.ndarray, read: Callable[[int, np.ndarray], Any]) -> list:
    """``read(shard, local positions)`` for each shard of global documents ``docs`` (sorted),
    in order."""
    shard_of = _shard_of(docs, offsets)
    return [read(int(k), docs[shard_of == k] - offsets[k]) for k in np.unique(shard_of)]


def _doc_columns(plan: Plan, docs: np.ndarray, offsets: np.ndarray, columns: Sequence[str]) -> dict[str, list]:
    """``columns`` of ``sign/docs-K.parquet`` for global documents ``docs`` (sorted)."""
    def read(k: int, local: np.ndarray) -> Any:
        return _parquet(plan.path("sign", f"docs-{k:05d}.parquet"), columns).take(local)

    parts = _gather(docs, offsets, read)
    return {c: [v for part in parts for v in part.column(c).to_pylist()] for c in columns}


def _shingles_of(plan: Plan, docs: np.ndarray, offsets: np.ndarray) -> tuple[ShingleSets, np.ndarray]:
    """The shingle sets of global documents ``docs`` (sorted), read from the memory-mapped
    shard files (only the slices they need), and which of their shingles are common."""
    shard_of = _shard_of(docs, offsets)
    parts = []  # (shard, its documents, their shard offsets)
    for k in np.unique(shard_of):
        local = docs[shard_of == k] - offsets[k]
        parts.append((int(k), local, np.load(plan.path("sign", f"shingles-{int(k):05d}.offsets.npy"))))
    sizes = np.concatenate([shard_offsets[local + 1] - shard_offsets[local] for _, local, shard_offsets in parts]
                           + [np.zeros(0, dtype=np.int64)])
    starts = offsets_of(sizes)
    values, flags = np.empty(int(starts[-1]), dtype=np.uint64), np.empty(int(starts[-1]), dtype=bool)
    words, row = np.empty(len(docs), dtype=np.int64), 0
    for k, local, shard_offsets in parts:  # filled in place: the gathered shingles are held once
        at = segment_positions(shard_offsets, local)
        lo, hi = starts[row], starts[row + len(local)]
        values[lo:hi] = np.load(plan.path("sign", f"shingles-{k:05d}.values.npy"), mmap_mode="r")[at]
        flags[lo:hi] = np.load(plan.output("df_flags", k), mmap_mode="r")[at]
        words[row : row + len(local)] = np.load(plan.path("sign", f"shingles-{k:05d}.words.npy"))[local]
        row += len(local)
    return ShingleSets(values, starts, words), flags


def verify_task(plan: Plan, partition: int, offsets: np.ndarray) -> None:
    """Exact scores of the candidate pairs of one range of first documents; keeps the
    verified edges and the number of candidates."""
    out = plan.output("verify", partition)
    if _done(out):
        return
    markers = [plan.output("bands_reduce", p) for p in range(plan.partitions)]
    first, second = _read_partition(markers, partition, "first", "second")
    pairs = unique_pairs(first, second)
    docs = distinct(pairs)
    shingles, common = _shingles_of(plan, docs, offsets)
    edges, scores = verify(shingles, np.searchsorted(docs, pairs), plan.settings.thresholds, common)
    _save_npz(out, edges=docs[edges].reshape(-1, 2), jaccard=scores.jaccard, candidates=np.int64(len(pairs)))


# -- cluster ----------------------------------------------------------------------------


def label_components(plan: Plan, total_docs: int, ranges: int) -> None:
    """The connected component (its smallest document) of every document under the
    verified edges -> ``clusters/labels.npy``: a union-find fed one edge file at a time,
    so the driver holds one label per document, never the whole edge set."""
    out = plan.path("clusters", "labels.npy")
    if _done(out):
        return
    parent = np.arange(total_docs)
    for p in range(ranges):
        with np.load(plan.output("verify", p)) as found:
            kernels.union(parent, found["edges"].astype(np.int64))
    _save_npy(out, kernels.settle(parent))


def route_task(plan: Plan, partition: int) -> None:
    """Split the verified edges of one verify output by the cluster task that takes their
    component (whole components go to one task)."""
    out = plan.output("route", partition)
    if _done(out):
        return
    with np.load(plan.output("verify", partition)) as found:
        edges, jaccard = found["edges"].astype(np.int64), found["jaccard"]
    labels = np.load(plan.path("clusters", "labels.npy"), mmap_mode="r")
    task = np.asarray(labels[edges[:, 0]]) % plan.partitions
    _write_partitioned(out, task, plan.partitions, first=edges[:, 0], second=edges[:, 1], jaccard=jaccard)


def deal_task(plan: Plan, number: int, first_doc: int) -> None:
    """Split the documents of one shard that have an edge by the cluster task that takes
    their component: their numbers, word counts, shingle sets (with common flags) and
    normalized keys, read once in order here, so that a cluster task reads its own as one
    slice of each shard's output."""
    out = plan.output("deal", number)
    if _done(out):
        return
    words = np.load(plan.path("sign", f"shingles-{number:05d}.words.npy"))
    labels = np.load(plan.path("clusters", "labels.npy"))
    mine = labels[first_doc : first_doc + words.size]
    rows = np.flatnonzero(np.bincount(labels)[mine] > 1)
    task = mine[rows] % plan.partitions
    shingle_offsets = np.load(plan.path("sign", f"shingles-{number:05d}.offsets.npy"))
    key_offsets = np.load(plan.path("sign", f"keys-{number:05d}.offsets.npy"))
    _write_ragged(out.with_name("shingles.npy"), task, plan.partitions, rows, shingle_offsets,
                  values=np.load(plan.path("sign", f"shingles-{number:05d}.values.npy")),
                  common=np.load(plan.output("df_flags", number)))
    _write_ragged(out.with_name("keys.npy"), task, plan.partitions, rows, key_offsets,
                  text=np.load(plan.path("sign", f"keys-{number:05d}.utf8.npy")))
    _write_partitioned(out, task, plan.partitions, doc=rows + first_doc, words=words[rows],
                       sizes=np.diff(shingle_offsets)[rows], key_sizes=np.diff(key_offsets)[rows])


def _largest_first(plan: Plan, ranges: int) -> list[int]:
    """The cluster tasks, those with the most edges first: a task holding a giant component
    starts at once instead of being left for last on one worker."""
    edges = np.zeros(plan.partitions, dtype=np.int64)
    for p in range(ranges):
        edges += np.diff(np.load(plan.output("route", p)))
    return np.argsort(-edges, kind="stable").tolist()


def cluster_task(plan: Plan, task: int, offsets: np.ndarray) -> None:
    """Cluster the components of one task (their documents' shingles only) and write
    their report rows, without cluster numbers yet."""
    out = plan.output("cluster", task)
    if _done(out):
        return
    settings = plan.settings
    markers = [plan.output("route", p) for p in range(plan.ranges(len(offsets) - 1))]
    first, second, jaccard = _read_partition(markers, task, "first", "second", "jaccard")
    edges = np.stack([first, second], axis=1)
    dealt = [plan.output("deal", k) for k in range(len(offsets) - 1)]
    linked, words, sizes, key_sizes = _read_partition(dealt, task, "doc", "words", "sizes", "key_sizes")
    values, common = _read_partition([m.with_name("shingles.npy") for m in dealt], task, "values", "common")
    (text,) = _read_partition([m.with_name("keys.npy") for m in dealt], task, "text")
    shingles, keys = ShingleSets(values, offsets_of(sizes), words), KeyTexts(text, offsets_of(key_sizes))
    table = _doc_columns(plan, linked, offsets, ("id", "source", "date", "parent_id", "removed"))
    ids = table["id"]
    provenance = Provenance(table["date"], np.array(table["removed"], dtype=np.int64), ids)
    groups = cluster(len(linked), np.searchsorted(linked, edges), shingles, settings.thresholds, provenance, common,
                     jaccard)
    grouping = Grouping(groups, shingles, shingles.words >= settings.min_words, 0, len(edges))
    docs = [Document(i, "", s, meta={"parent_id": p} if p else {})
            for i, s, p in zip(ids, table["source"], table["parent_id"])]
    made = to_clusters(groups, docs, keys, grouping, settings.min_words)
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    rows = _rows(table, ((position[m.doc_id], c.canonical.id, m, c.size, c.reason) for c in made for m in c.members))
    if plan.keep_objects:
        _save(plan.path("clusters", f"objects-{task:03d}.pkl"), lambda temp: temp.write_bytes(pickle.dumps(made)))
    _save_rows(out, rows)


def _rows(table: dict[str, list], entries: Iterable[tuple[int, str, Member | None, int, str]]) -> dict[str, list]:
    """The report rows (every column but the cluster number) of the documents of ``table``
    named by ``entries``: ``(document, canonical id, member, cluster size, reason)``, the
    member None for a document alone; column by column."""
    rows: dict[str, list] = {name: [] for name in COLUMNS if name != "cluster_id"}
    for i, canonical, member, size, reason in entries:
        ev = member.evidence if member is not None else None
        rows["doc_id"].append(table["id"][i])
        rows["is_canonical"].append(member.is_canonical if member is not None else True)
        rows["canonical_id"].append(canonical)
        rows["similarity"].append(member.similarity if member is not None else 1.0)
        rows["jaccard"].append(ev.jaccard if ev else 1.0)
        rows["containment"].append(ev.containment if ev else 1.0)
        rows["specific"].append(ev.specific if ev else 1.0)
        rows["cluster_size"].append(size)
        rows["source"].append(table["source"][i])
        rows["stripped_chars"].append(table["removed"][i])
        rows["parent_id"].append(table["parent_id"][i])
        rows["reason"].append(reason)
        rows["differs"].append(list(ev.differs) if ev else [])
    return rows


def _schema() -> Any:
    pa = require("pyarrow", "parquet", "the staged run")
    return parquet_schema(pa)


def _save_rows(path: Path, rows: dict[str, list]) -> None:
    pa = require("pyarrow", "parquet", path)
    pq = require("pyarrow.parquet", "parquet", path)
    schema = _schema().remove(COLUMNS.index("cluster_id"))
    _save(path, lambda temp: pq.write_table(pa.Table.from_pydict(rows, schema=schema), temp))


def write_report(plan: Plan, shards: int) -> dict[str, int]:
    """Number the clusters as a batch run does (largest first, then by canonical id), add
    every document without an edge as a cluster of its own, and write ``clusters.parquet``;
    the run's counts."""
    out, counts_path = plan.path("clusters.parquet"), plan.path("counts.json")
    if _done(out):
        return json.loads(counts_path.read_text())
    pa = require("pyarrow", "parquet", out)
    pq = require("pyarrow.parquet", "parquet", out)
    min_words = plan.settings.min_words
    candidates = edges = 0
    for p in range(plan.ranges(shards)):
        with np.load(plan.output("verify", p)) as found:
            candidates, edges = candidates + int(found["candidates"]), edges + len(found["jaccard"])
    grouped = pa.concat_tables([pq.read_table(plan.output("cluster", t)) for t in range(plan.partitions)])
    table = _doc_table(plan, shards)
    taken = set(grouped.column("doc_id").to_pylist())
    alone = [i for i, doc_id in enumerate(table["id"]) if doc_id not in taken]
    reasons = [f"too short after stripping: {table['words'][i]} words (minimum {min_words})"
               if table["words"][i] < min_words else "no verified copy" for i in alone]
    rows = _rows(table, ((i, table["id"][i], None, 1, reason) for i, reason in zip(alone, reasons)))
    every = pa.concat_tables([grouped, pa.Table.from_pydict(rows, schema=grouped.schema)])
    # one entry per cluster: where its rows start (the canonical's row comes first), its size
    starts = np.flatnonzero(every.column("is_canonical").to_numpy(zero_copy_only=False))
    sizes = every.column("cluster_size").to_numpy()[starts]
    canonical = every.column("doc_id").take(pa.array(starts)).to_pylist()
    order = sorted(range(len(starts)), key=lambda e: (-sizes[e], canonical[e]))
    first = segment_positions(np.append(starts, every.num_rows), np.asarray(order, dtype=np.int64))
    numbers = np.repeat(np.arange(1, len(order) + 1), sizes[order])
    report = every.take(pa.array(first)).add_column(COLUMNS.index("cluster_id"), "cluster_id", pa.array(numbers))
    with atomic_path(out) as temp:
        pq.write_table(report.cast(_schema()), temp)
    counts = {
        "documents": sum(p is None for p in table["parent_id"]), "embedded": sum(p is not None for p in table["parent_id"]),
        "clusters": len(order), "duplicates": int(sizes[sizes > 1].sum()), "edges": edges,
        "too_short": sum(w < min_words for w in table["words"]), "capped": int(sum(table["capped"])),
        "candidates": candidates, "chrome_removed": int(sum(table["removed"])), "largest": int(sizes.max(initial=0)),
    }
    _save(counts_path, lambda temp: temp.write_text(json.dumps(counts)))
    return counts


def _doc_table(plan: Plan, shards: int) -> dict[str, list]:
    columns = ("id", "source", "parent_id", "removed", "capped")
    table: dict[str, list] = {c: [] for c in columns}
    for k in range(shards):
        part = _read_table(plan.path("sign", f"docs-{k:05d}.parquet"), columns)
        for c in columns:
            table[c].extend(part[c])
    table["words"] = np.concatenate(
        [np.load(plan.path("sign", f"shingles-{k:05d}.words.npy")) for k in range(shards)]).tolist()
    return table


# -- the whole run ----------------------------------------------------------------------


@collector_paused()
def run_stages(plan: Plan, documents: Iterable[Document | list[Document] | Any], executor: Executor,
               progress: Callable[[str, int, int], None] | None = None, strip: Stripper | None = None,
               describe: Callable[[], str] = str) -> dict[str, Any]:
    """Run every stage (skipping finished tasks) on ``documents`` (or batches of them, see
    :func:`write_shards`); the run's counts, the number of shards, and ``describe()`` of the
    input."""
    report = progress or (lambda stage, done, total: None)
    _check_manifest(plan)
    for stale in plan.folder.rglob(".part-*"):  # left by a killed run (one run per folder at a time)
        stale.unlink()
    seconds: dict[str, float] = {}
    clock = _clock(seconds)
    partitions = range(plan.partitions)
    with clock("read"):
        shards, note = write_shards(plan, documents, describe)
    report("read", shards, shards)
    with clock("templates"):
        if not _done(plan.path("templates.pkl")):  # tasks: what learning holds is freed with their processes
            picks = template_picks_of(plan, shards, strip)
            _dispatch(plan, executor, template_lines_task, "template_lines", [(plan, k, r) for k, r in picks.items()])
            executor(learn, [(plan, sorted(picks), strip)])
        _remove(plan, "templates")
    with clock("sign"):
        _dispatch(plan, executor, sign_task, "sign", [(plan, k) for k in range(shards)])
        offsets = offsets_of([len(np.load(plan.path("sign", f"shingles-{k:05d}.words.npy"))) for k in range(shards)])
        _check_unique_ids(plan, shards)
        if not plan.keep_objects:  # read again only to rebuild the documents
            _remove(plan, "raw/part-*")
    report("sign", shards, shards)
    total = int(offsets[-1])
    ranges = range(plan.ranges(shards))
    with clock("df"):
        if not _all_done(plan, "df_reduce", partitions):
            _dispatch(plan, executor, df_map_task, "df_map", [(plan, k) for k in range(shards)])
            _dispatch(plan, executor, df_reduce_task, "df_reduce", [(plan, p, shards) for p in partitions])
        _remove(plan, "df/map-*")
        _dispatch(plan, executor, df_flags_task, "df_flags", [(plan, k) for k in range(shards)])
    with clock("bands"):
        if not (_all_done(plan, "bands_reduce", partitions) or _all_done(plan, "verify", ranges)):
            _dispatch(plan, executor, bands_map_task, "bands_map", [(plan, k, int(offsets[k])) for k in range(shards)])
            _dispatch(plan, executor, bands_reduce_task, "bands_reduce",
                      [(plan, p, shards, total) for p in partitions])
        _remove(plan, "bands", "sign/rows-*")
    report("candidates", len(ranges), len(ranges))
    with clock("verify"):
        _dispatch(plan, executor, verify_task, "verify", [(plan, r, offsets) for r in ranges])
        _remove(plan, "pairs")
    report("verify", len(ranges), len(ranges))
    with clock("cluster"):
        label_components(plan, total, len(ranges))
        if not _all_done(plan, "cluster", partitions):
            _dispatch(plan, executor, route_task, "route", [(plan, r) for r in ranges])
            _dispatch(plan, executor, deal_task, "deal", [(plan, k, int(offsets[k])) for k in range(shards)])
            tasks = _largest_first(plan, len(ranges))
            _dispatch(plan, executor, cluster_task, "cluster", [(plan, t, offsets) for t in tasks])
        _remove(plan, "clusters/route-*", "clusters/deal-*")
        result = write_report(plan, shards)
    report("cluster", result["clusters"], result["clusters"])
    _save(plan.path("timings.json"), lambda temp: temp.write_text(json.dumps(seconds, indent=1)))
    return {**result, "shards": shards, "input": note, "seconds": seconds}


def _clock(seconds: dict[str, float]) -> Callable[[str], Any]:
    """``with clock(stage):`` adds the wall time of the block to ``seconds[stage]``."""

    @contextmanager
    def clock(stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds[stage] = round(seconds.get(stage, 0.0) + time.perf_counter() - start, 2)

    return clock


def _dispatch(plan: Plan, executor: Executor, function: Callable, task: str, arguments: list[tuple]) -> None:
    """Hand ``executor`` the tasks whose output does not exist yet (argument 1 is the number)."""
    todo = [a for a in arguments if not _done(plan.output(task, a[1]))]
    if todo:
        executor(function, todo)


def _all_done(plan: Plan, task: str, numbers: Iterable[int]) -> bool:
    return all(_done(plan.output(task, n)) for n in numbers)


def _remove(plan: Plan, *patterns: str) -> None:
    """Delete the files and folders of the run matching ``patterns``, once every task that
    reads them is done: a 1M-document run writes ~20 GB of stage files, and those still
    to be read stay in the page cache."""
    for pattern in patterns:
        for path in plan.folder.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def _check_manifest(plan: Plan) -> None:
    """Refuse to resume a folder written with other settings."""
    manifest = plan.path("manifest.json")
    mine = {"settings": asdict(plan.settings), "shard_docs": plan.shard_docs, "partitions": plan.partitions}
    if manifest.exists():
        theirs = json.loads(manifest.read_text())
        if theirs != json.loads(json.dumps(mine)):
            raise ValueError(f"{plan.folder} holds a run with other settings; use another folder")
        return
    _save(manifest, lambda temp: temp.write_text(json.dumps(mine, indent=1)))


def _check_unique_ids(plan: Plan, shards: int) -> None:
    from .pipeline import DuplicateIdError

    seen: set[str] = set()
    for k in range(shards):
        for doc_id in _read_table(plan.path("sign", f"docs-{k:05d}.parquet"), ["id"])["id"]:
            if doc_id in seen:
                raise DuplicateIdError(f"duplicate document id {doc_id!r}")
            seen.add(doc_id)


def read_result(plan: Plan, shards: int, counts: dict[str, int]) -> Result:
    """The :class:`dedup.Result` of a run made with ``keep_objects``: the same as
    :func:`dedup.find_clusters` returns for the same documents."""
    documents: dict[str, Document] = {}
    stripped = {}
    sizes = []
    for k in range(shards):
        queue = _raw_documents(plan, k)
        part = _read_table(plan.path("sign", f"docs-{k:05d}.parquet"), ["id", "stripped"])
        for doc_id, blob in zip(part["id"], part["stripped"]):
            stripped[doc_id] = pickle.loads(blob)
        for doc in queue:
            documents[doc.id] = doc
        for doc_id in part["id"]:  # embedded articles, depth first after their parent
            for child in stripped[doc_id].children:
                documents.setdefault(child.id, child)
        offsets = np.load(plan.path("sign", f"shingles-{k:05d}.offsets.npy"))
        sizes.extend(np.diff(offsets).tolist())
    made = {c.canonical.id: c for t in range(plan.partitions)
            for c in pickle.loads(plan.path("clusters", f"objects-{t:03d}.pkl").read_bytes())}
    size_of = dict(zip(stripped, sizes))
    clusters = []
    for row in read_rows(plan):
        doc_id = row["doc_id"]
        if doc_id in made and row["is_canonical"]:
            c = made[doc_id]
            clusters.append(Cluster(row["cluster_id"], documents[doc_id], c.members, c.reason))
        elif row["cluster_size"] == 1:
            one = Evidence(1.0, 1.0, 1.0, size_of[doc_id], 0, 0, ())
            member = Member(doc_id, 1.0, True, one, row["parent_id"])
            clusters.append(Cluster(row["cluster_id"], documents[doc_id], (member,), row["reason"]))
    stats = {k: counts[k] for k in ("documents", "embedded", "too_short", "capped", "candidates", "edges")}
    return Result(tuple(clusters), documents, stripped, stats)


def read_rows(plan: Plan, batch: int = 65_536) -> Iterator[dict[str, Any]]:
    """The rows of ``clusters.parquet`` (one per document), in order, read ``batch`` rows at a time."""
    path = plan.path("clusters.parquet")
    pq = require("pyarrow.parquet", "parquet", path)
    for part in pq.ParquetFile(path).iter_batches(batch_size=batch):
        table = part.to_pydict()
        yield from (dict(zip(table, values)) for values in zip(*table.values()))
