"""One row per document: its cluster, its canonical and the evidence.

The schema is documented in ``docs/usage.md``; JSONL and CSV carry the same columns
(CSV joins the ``differs`` list with spaces).
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterator, TextIO

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
    "parent_id",
    "reason",
    "differs",
)


def rows(result: Result) -> Iterator[dict[str, Any]]:
    """Every document of ``result`` once, cluster by cluster, largest first."""
    for c in result.clusters:
        for m in c.members:
            ev = m.evidence
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
                "parent_id": m.parent_id,
                "reason": c.reason,
                "differs": list(ev.differs) if ev else [],
            }


def write_jsonl(result: Result, out: TextIO) -> int:
    """Write the rows as JSON lines; returns the number written."""
    n = 0
    for row in rows(result):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(result: Result, out: TextIO) -> int:
    """Write the rows as CSV with a header; returns the number written."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    n = 0
    for row in rows(result):
        writer.writerow({**row, "differs": " ".join(row["differs"])})
        n += 1
    return n
