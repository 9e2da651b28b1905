"""Reading documents from JSONL (plain, gzip or zstd), CSV, Parquet, ``.txt`` files and folders.

Files are streamed: JSONL a few megabytes of whole lines at a time, Parquet batch by
batch, so memory does not grow with the size of a file. With pyarrow installed,
:func:`read_batches` gives a JSONL chunk that Arrow's multithreaded JSON reader reads
exactly as Python's would (one object per line, only the id, text and provenance fields,
valid UTF-8, ids new and non-empty) as an Arrow table, never made into Python objects.

Bad input stops the read with an :class:`InputError` naming ``file:line`` and the
problem, unless ``on_error="skip"``: then the record is skipped and counted in the
:class:`ReadStats` passed in. Invalid UTF-8 is decoded with replacement characters
and counted; nothing is dropped without a count.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import importlib
import io
import json
import os
import signal
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import zstandard

from .model import Document

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zst")
PARQUET_SUFFIXES = (".parquet",)
TEXT_SUFFIXES = (".txt",)
_PROVENANCE = ("source", "url", "date")


class BadRecord(ValueError):
    """What is wrong with one record: a short reason (the skip count's key) and detail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class InputError(ValueError):
    """A record or file that cannot be read, with where it is and what is wrong."""

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}")
        self.location = location
        self.problem = problem


@dataclass
class ReadStats:
    """What a read saw: records read, records skipped by reason, repaired text."""

    read: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (location, problem) of each skip
    invalid_utf8: int = 0
    ignored_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: read / skipped (with reasons) / repaired."""
        parts = [f"read {self.read}"]
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.skipped.items()))
        parts.append(f"skipped {total}" + (f" ({reasons})" if reasons else ""))
        if self.invalid_utf8:
            parts.append(f"invalid UTF-8 repaired in {self.invalid_utf8}")
        if self.ignored_files:
            parts.append(f"ignored {len(self.ignored_files)} file(s) of unknown type")
        return " / ".join(parts)


@dataclass(frozen=True)
class Fields:
    """Which record fields hold the id and the text."""

    id: str = "id"
    text: str = "text"


def read_documents(
    paths: str | Path | Sequence[str | Path],
    *,
    fields: Fields = Fields(),
    on_error: str = "fail",
    stats: ReadStats | None = None,
) -> Iterator[Document]:
    """Yield the documents of every file under ``paths`` (files or folders).

    ``on_error`` is ``"fail"`` (raise :class:`InputError`) or ``"skip"`` (count the
    problem in ``stats`` and go on). Duplicate ids are input errors too.
    """
    for batch in _batches(paths, fields, on_error, stats, arrow=False):
        yield from batch


def read_batches(
    paths: str | Path | Sequence[str | Path],
    *,
    fields: Fields = Fields(),
    on_error: str = "fail",
    stats: ReadStats | None = None,
) -> Iterator[list[Document] | Any]:
    """The documents :func:`read_documents` yields, in order, in batches: lists of
    :class:`Document`, and Arrow tables (:func:`document_table`'s columns) for the JSONL
    chunks that Arrow reads exactly (none without pyarrow). For writers of Arrow files,
    which then never turn those records into Python objects."""
    yield from _batches(paths, fields, on_error, stats, arrow=True)


def _batches(paths: str | Path | Sequence[str | Path], fields: Fields, on_error: str, stats: ReadStats | None,
             arrow: bool) -> Iterator[list[Document] | Any]:
    if on_error not in ("fail", "skip"):
        raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    stats = stats if stats is not None else ReadStats()
    seen: dict[str, str] = {}  # id -> where it was read
    arrow = arrow and fields.id not in _PROVENANCE and fields.text not in _PROVENANCE and _arrow_json() is not None
    for path in _expand(paths, stats):
        if _kind(path) != "jsonl":
            yield from _accepted(_records(path, fields, stats), fields, on_error, stats, seen)
            continue
        for first, chunk, parsed in _parsed_chunks(path, fields, arrow):
            table = _admitted(path, first, parsed, seen) if parsed is not None else None
            if table is None:
                yield from _accepted(_json_records(path, first, chunk, stats), fields, on_error, stats, seen)
            else:
                stats.read += table.num_rows
                yield table


def _parsed_chunks(path: Path, fields: Fields, arrow: bool) -> Iterator[tuple[int, bytes, Any]]:
    """:func:`_jsonl_chunks` of ``path``, each with :func:`_arrow_table` of it (None without
    ``arrow``), parsed on two threads a couple of chunks ahead (Arrow runs without the GIL),
    while the caller writes what came before."""
    if not arrow:
        yield from ((first, chunk, None) for first, chunk in _jsonl_chunks(path))
        return
    with ThreadPoolExecutor(2) as pool:
        ahead: deque = deque()
        try:
            for first, chunk in _jsonl_chunks(path):
                ahead.append((first, chunk, pool.submit(_arrow_table, chunk, fields)))
                if len(ahead) > 2:
                    first, chunk, parsed = ahead.popleft()
                    yield first, chunk, parsed.result()
        except InputError:  # what was read before a fault comes through first
            yield from ((first, chunk, parsed.result()) for first, chunk, parsed in ahead)
            raise
        yield from ((first, chunk, parsed.result()) for first, chunk, parsed in ahead)


def _accepted(records: Iterator[tuple[str, Any]], fields: Fields, on_error: str, stats: ReadStats,
              seen: dict[str, str]) -> Iterator[list[Document]]:
    """The good, new documents of ``records``, in lists of up to 1,000; a bad record raises
    (after the documents before it) or is counted and skipped."""
    batch: list[Document] = []
    for location, record in records:
        try:
            doc = record if isinstance(record, Document) else _document(record, fields)
            if doc.id in seen:
                raise BadRecord("duplicate id", f"{doc.id!r} was first seen at {seen[doc.id]}")
        except BadRecord as bad:
            if on_error == "skip":
                stats.skipped[bad.reason] += 1
                stats.errors.append((location, str(bad)))
                continue
            if batch:
                yield batch
            raise InputError(location, str(bad)) from None
        seen[doc.id] = location
        stats.read += 1
        batch.append(doc)
        if len(batch) == 1000:
            yield batch
            batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only once the block succeeds.

    Nothing partial is ever left under the final name: on any error or interruption the
    temporary file is removed.
    """
    path = Path(path)
    # The name is chosen before anything is created, so a stop at any point (Ctrl-C can land
    # between a file's creation and the return of the call that made it) finds it to remove.
    # It ends with the real name, so format detection by suffix still works.
    temp = path.parent / f".part-{uuid.uuid4().hex[:12]}-{path.name}"
    try:
        yield temp
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _expand(paths: str | Path | Sequence[str | Path], stats: ReadStats) -> Iterator[Path]:
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    for item in map(Path, items):
        if item.is_dir():
            for child in sorted(p for p in item.rglob("*") if p.is_file()):
                if _kind(child):
                    yield child
                else:
                    stats.ignored_files.append(str(child))
        elif item.is_file():
            if not _kind(item):
                raise InputError(str(item), "unknown file type (expected .jsonl[.gz|.zst], .csv, .parquet or .txt)")
            yield item
        else:
            raise InputError(str(item), "no such file or folder")


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    kinds = (("jsonl", JSONL_SUFFIXES), ("csv", CSV_SUFFIXES), ("parquet", PARQUET_SUFFIXES), ("txt", TEXT_SUFFIXES))
    for kind, suffixes in kinds:
        if name.endswith(suffixes):
            return kind
    return None


def _decode(data: bytes, stats: ReadStats) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        stats.invalid_utf8 += 1
        return data.decode("utf-8", errors="replace")


def require(module: str, extra: str, path: Path):
    """Import an optional dependency, or say which extra to install for ``path``."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        raise InputError(str(path), f"reading this file needs {module}: pip install 'dedup[{extra}]'") from None
    if module.partition(".")[0] == "pyarrow":
        arrow()
    return found


@lru_cache(maxsize=1)
def arrow() -> Any:
    """pyarrow, once it has looked for its optional modules (pandas, dateutil). It looks for
    them when it converts Python objects and swallows an exception raised meanwhile: a Ctrl-C
    or SIGTERM arriving then was lost and the run went on (and a missing module was looked
    for at every conversion: the extras that bring pyarrow bring python-dateutil). It looks
    here first, with both signals held back until it is done (they are delivered then)."""
    import pyarrow as pa

    mask = getattr(signal, "pthread_sigmask", None)  # POSIX only
    held = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask else None
    try:
        pa.array([])
    finally:
        if mask:
            mask(signal.SIG_SETMASK, held)
    return pa


def _open(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
    return open(path, "rb")


def _records(path: Path, fields: Fields, stats: ReadStats) -> Iterator[tuple[str, Any]]:
    """``(location, record)`` of each record of a text, Parquet or CSV file."""
    kind = _kind(path)
    if kind == "txt":
        yield str(path), Document(id=path.stem, text=_decode(path.read_bytes(), stats))
    elif kind == "parquet":
        yield from _parquet_records(path, fields)
    else:
        try:
            with _open(path) as fh:
                text = _decode(fh.read(), stats)
        except (OSError, EOFError) as err:
            raise InputError(str(path), f"cannot be read: {err}") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def _parquet_records(path: Path, fields: Fields) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet file, batch by batch; the id and text columns must exist."""
    parquet = require("pyarrow.parquet", "parquet", path)
    try:
        source = parquet.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for unreadable files
        raise InputError(str(path), f"not a readable Parquet file ({err})") from None
    missing = [f for f in (fields.id, fields.text) if f not in source.schema_arrow.names]
    if missing:
        raise InputError(str(path), f"Parquet file has no column {missing[0]!r} (columns: {source.schema_arrow.names})")
    row = 0
    for batch in source.iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            row += 1
            yield f"{path}:row {row}", record


_CHUNK_BYTES = 8 << 20  # JSONL read at a time: Arrow's reader parses a chunk on every core
_PIECE_BYTES = 1 << 20  # read from the (decompressing) file at a time


def _jsonl_chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(number of its first line, bytes)`` of the JSONL file at ``path``, in chunks of
    whole lines. A file that cannot be read to its end (truncated or corrupt compression)
    gives the whole lines before the fault, then raises naming the first line not read."""
    first, pending, size = 1, [], 0
    with _open(path) as fh:
        while True:
            try:
                piece = fh.read1(_PIECE_BYTES)  # what it decompressed before a fault comes through
            except (OSError, EOFError) as err:
                data = b"".join(pending)
                whole = data[: data.rfind(b"\n") + 1]
                if whole:
                    yield first, whole
                    first += whole.count(b"\n")
                raise InputError(f"{path}:{first}", f"cannot read past this line: {err}") from None
            pending.append(piece)
            size += len(piece)
            if size < _CHUNK_BYTES and piece:
                continue
            data = b"".join(pending)
            end = data.rfind(b"\n") + 1 if piece else len(data)
            if end:
                yield first, data[:end]
                first += data.count(b"\n", 0, end)
            if not piece:
                return
            pending, size = [data[end:]], len(data) - end


def _json_records(path: Path, first: int, chunk: bytes, stats: ReadStats) -> Iterator[tuple[str, Any]]:
    """``(file:line, parsed record or BadRecord)`` of each non-blank line of ``chunk``."""
    for number, raw in enumerate(chunk.split(b"\n"), start=first):
        if raw.strip():
            yield f"{path}:{number}", _parse_json(_decode(raw, stats))


def _arrow_json() -> Any:
    """pyarrow's JSON module, if pyarrow is installed."""
    try:
        return importlib.import_module("pyarrow.json")
    except ImportError:
        return None


def _object_lines(body: bytes) -> int:
    """The number of lines of ``body`` if every one starts with "{" and ends with "}"
    (before a "\\r"), else 0. Arrow then reads one record per line, as the line-by-line
    reader does (it would also read an object written over two lines, or two on one)."""
    text = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(text == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.append(newlines, text.size) - 1  # each line's last byte (before its newline)
    if not (starts <= ends).all() or not (text[starts] == 123).all():  # a blank line; one not starting with {
        return 0
    ends -= text[ends] == 13
    return starts.size if (starts <= ends).all() and (text[ends] == 125).all() else 0


def _arrow_table(chunk: bytes, fields: Fields) -> Any:
    """The records of ``chunk`` as a :func:`document_table`, read by Arrow, when that gives
    exactly the documents the line-by-line reader would, each good; otherwise None."""
    import pyarrow.compute as pc
    import pyarrow.json as pj

    pa = arrow()

    body = chunk[:-1] if chunk.endswith(b"\n") else chunk
    lines = _object_lines(body) if body else 0
    if not lines:
        return None
    strings = pa.schema([(name, pa.string()) for name in (fields.text, *_PROVENANCE)])
    try:
        table = pj.read_json(pa.py_buffer(chunk), read_options=pj.ReadOptions(block_size=1 << 20),
                             parse_options=pj.ParseOptions(explicit_schema=strings, unexpected_field_behavior="infer"))
        table.validate(full=True)  # UTF-8 (the parser does not check it)
    except pa.ArrowException:
        return None
    if table.num_rows != lines or set(table.column_names) - {fields.id, *strings.names}:
        return None
    ids = table[fields.id] if fields.id in table.column_names else None
    if ids is None or ids.null_count or table[fields.text].null_count:
        return None
    if pa.types.is_integer(ids.type):
        ids = ids.cast(pa.string())
    elif not pa.types.is_string(ids.type) or pc.any(pc.equal(ids, "")).as_py():
        return None
    provenance = {k: pc.if_else(pc.equal(table[k], ""), None, table[k]) for k in _PROVENANCE}
    return pa.table({"id": ids, "text": table[fields.text], **provenance,
                     "meta": pa.repeat("{}", table.num_rows)}, schema=_table_schema())


def _admitted(path: Path, first: int, table: Any, seen: dict[str, str]) -> Any:
    """``table`` (lines ``first``... of ``path``) if its ids are distinct and new (then
    recorded in ``seen``), else None."""
    names = table["id"].to_pylist()
    if len(set(names)) != len(names) or not seen.keys().isdisjoint(names):
        return None
    seen.update(zip(names, map(f"{path}:{{}}".format, range(first, first + len(names)))))
    return table


def _table_schema() -> Any:
    pa = arrow()
    return pa.schema([(name, pa.string()) for name in ("id", "text", *_PROVENANCE, "meta")])


def document_table(documents: Sequence[Document]) -> Any:
    """``documents`` as an Arrow table: id, text, source, url, date and meta (as JSON)."""
    pa = arrow()
    return pa.table({
        "id": [d.id for d in documents], "text": [d.text for d in documents],
        "source": [d.source for d in documents], "url": [d.url for d in documents],
        "date": [d.date for d in documents],
        "meta": [json.dumps(dict(d.meta), ensure_ascii=False) if d.meta else "{}" for d in documents],
    }, schema=_table_schema())


def table_documents(table: Any) -> list[Document]:
    """The documents of a :func:`document_table`."""
    t = table.to_pydict()
    return [Document(i, x, s, u, d, json.loads(m)) for i, x, s, u, d, m in
            zip(t["id"], t["text"], t["source"], t["url"], t["date"], t["meta"])]


def _parse_json(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        return BadRecord("malformed JSON", f"{err.msg} at column {err.colno}")


def _document(record: Any, fields: Fields) -> Document:
    if isinstance(record, BadRecord):
        raise record
    if not isinstance(record, Mapping):
        raise BadRecord("not an object", f"expected a JSON object, got {type(record).__name__}")
    if fields.text not in record or record[fields.text] is None:
        raise BadRecord("missing text field", repr(fields.text))
    text = record[fields.text]
    if not isinstance(text, str):
        raise BadRecord("text not a string", f"field {fields.text!r} holds {type(text).__name__}")
    if fields.id not in record or record[fields.id] in (None, ""):
        raise BadRecord("missing id field", repr(fields.id))
    provenance = {k: str(record[k]) for k in _PROVENANCE if record.get(k) not in (None, "")}
    meta = {k: v for k, v in record.items() if k not in (fields.id, fields.text, *_PROVENANCE)}
    return Document(id=str(record[fields.id]), text=text, meta=meta, **provenance)
