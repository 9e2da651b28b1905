"""Reading documents from JSONL (plain, gzip or zstd), CSV, Parquet, ``.txt`` files and folders.

Files are streamed: JSONL line by line, Parquet batch by batch, so memory does not
grow with the size of a file.

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
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

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
    if on_error not in ("fail", "skip"):
        raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
    stats = stats if stats is not None else ReadStats()
    seen: dict[str, str] = {}
    for path in _expand(paths, stats):
        for location, record in _records(path, fields, stats):
            try:
                doc = record if isinstance(record, Document) else _document(record, fields)
                if doc.id in seen:
                    raise BadRecord("duplicate id", f"{doc.id!r} was first seen at {seen[doc.id]}")
            except BadRecord as bad:
                if on_error == "fail":
                    raise InputError(location, str(bad)) from None
                stats.skipped[bad.reason] += 1
                stats.errors.append((location, str(bad)))
                continue
            seen[doc.id] = location
            stats.read += 1
            yield doc


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
        return importlib.import_module(module)
    except ImportError:
        raise InputError(str(path), f"reading this file needs {module}: pip install 'dedup[{extra}]'") from None


def _open(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        zstandard = require("zstandard", "zstd", path)
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
    return open(path, "rb")


def _records(path: Path, fields: Fields, stats: ReadStats) -> Iterator[tuple[str, Any]]:
    kind = _kind(path)
    if kind == "txt":
        yield str(path), Document(id=path.stem, text=_decode(path.read_bytes(), stats))
    elif kind == "jsonl":
        number = 0
        try:
            with _open(path) as fh:
                for number, raw in enumerate(fh, start=1):
                    if raw.strip():
                        yield f"{path}:{number}", _parse_json(_decode(raw, stats))
        except (OSError, EOFError) as err:  # truncated or corrupt compression
            raise InputError(f"{path}:{number + 1}", f"cannot read past this line: {err}") from None
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
