"""One row per document: its cluster, its canonical and the evidence; and the deduplicated documents.

The schema is documented in ``docs/output.md``; JSONL, CSV and Parquet carry the same
columns (CSV joins the ``differs`` list with spaces).
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ..io import require
from ..pipeline import Result

COLUMNS = (
    "doc_id",
    "cluster_id",
    "is_canonical",
    "canonical_id",
    "similarity",
    "jaccard",
    "containment",
    "specific",
    "cluster_size",
    "source",
    "stripped_chars",
    "parent_id",
    "reason",
    "differs",
)


def rows(result: Result) -> Iterator[dict[str, Any]]:
    """Every document of ``result`` once, cluster by cluster, largest first."""
    for c in result.clusters:
        for m in c.members:
            ev = m.evidence
            doc = result.documents[m.doc_id]
            yield {
                "doc_id": m.doc_id,
                "cluster_id": c.id,
                "is_canonical": m.is_canonical,
                "canonical_id": c.canonical.id,
                "similarity": m.similarity,
                "jaccard": ev.jaccard if ev else None,
                "containment": ev.containment if ev else None,
                "specific": ev.specific if ev else None,
                "cluster_size": c.size,
                "source": doc.source,
                "stripped_chars": result.stripped_chars(m.doc_id),
                "parent_id": m.parent_id,
                "reason": c.reason,
                "differs": list(ev.differs) if ev else [],
            }


def write_jsonl(table: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write the rows ``table`` (:func:`rows`, or a staged run's) as JSON lines; returns the number written."""
    n = 0
    for row in table:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(table: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write the rows ``table`` as CSV with a header; returns the number written."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    n = 0
    for row in table:
        writer.writerow({**row, "differs": " ".join(row["differs"])})
        n += 1
    return n


def parquet_schema(pa: Any) -> Any:
    """The Arrow schema of the rows (``pa``: the pyarrow module)."""
    return pa.schema([
        ("doc_id", pa.string()), ("cluster_id", pa.int64()), ("is_canonical", pa.bool_()),
        ("canonical_id", pa.string()), ("similarity", pa.float64()), ("jaccard", pa.float64()),
        ("containment", pa.float64()), ("specific", pa.float64()), ("cluster_size", pa.int64()),
        ("source", pa.string()), ("stripped_chars", pa.int64()), ("parent_id", pa.string()),
        ("reason", pa.string()), ("differs", pa.list_(pa.string())),
    ])


def write_parquet(result: Result, path: str | Path) -> int:
    """Write the rows to a Parquet file with the documented schema; returns the number written."""
    pa = require("pyarrow", "parquet", Path(path))
    pq = require("pyarrow.parquet", "parquet", Path(path))
    table = pa.Table.from_pylist(list(rows(result)), schema=parquet_schema(pa))
    pq.write_table(table, path)
    return table.num_rows


def deduplicated(result: Result) -> Iterator[dict[str, Any]]:
    """The canonical document of every cluster (singletons included), as input records."""
    for c in result.clusters:
        doc = c.canonical
        record = {"id": doc.id, "text": doc.text, "source": doc.source, "url": doc.url, "date": doc.date}
        yield {**{k: v for k, v in record.items() if v is not None}, **dict(doc.meta)}


def write_documents(result: Result, path: str | Path) -> int:
    """Write the deduplicated documents to ``path`` (.jsonl[.gz], .csv or .parquet); returns the count."""
    path = Path(path)
    records = list(deduplicated(result))
    name = path.name.lower()
    if name.endswith(".parquet"):
        pa = require("pyarrow", "parquet", path)
        require("pyarrow.parquet", "parquet", path).write_table(pa.Table.from_pylist(records), path)
    elif name.endswith(".csv"):
        columns = list(dict.fromkeys(k for r in records for k in r))
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                              for k, v in r.items()} for r in records)
    else:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)
