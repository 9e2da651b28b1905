"""The terminal report: a summary panel and a table of clusters, largest first.

It reads the report rows (:func:`dedup.report.records.rows`, or a staged run's
``clusters.parquet``) one cluster at a time, so it needs no more memory than the
clusters it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby, islice
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..pipeline import Result


@dataclass(frozen=True)
class Overview:
    """The counts the summary panel gives: documents (embedded articles included), those
    split out of another, clusters, documents in clusters of two or more, characters of
    chrome cut, the largest cluster's size, and documents too short to compare."""

    documents: int
    embedded: int
    clusters: int
    duplicates: int
    chrome_removed: int
    largest: int
    too_short: int

    @classmethod
    def of(cls, result: Result) -> Overview:
        """The overview of an in-memory run."""
        return cls(len(result.documents), result.stats.get("embedded", 0), len(result.clusters), result.duplicates,
                   result.chrome_removed, result.clusters[0].size if result.clusters else 0,
                   result.stats.get("too_short", 0))


def render_text(overview: Overview, rows: Iterable[dict[str, Any]], console: Console, accounting: str,
                limit: int | None = None) -> None:
    """Print the summary, the table of the clusters of ``rows`` (``limit`` at most; rows come
    cluster by cluster) and the accounting line."""
    summary = (
        f"{overview.documents} documents ({overview.embedded} embedded), "
        f"{overview.clusters} clusters, {overview.duplicates} documents in duplicate clusters"
    )
    console.print(Panel(f"[bold]{summary}[/bold]\nchrome removed: {overview.chrome_removed:,} characters · "
                        f"largest cluster: {overview.largest} · too short to compare: {overview.too_short}",
                        title="dedup report", expand=False))
    table = Table(show_lines=False)
    for name, justify in (("cluster", "right"), ("size", "right"), ("canonical", "left"),
                          ("members (similarity)", "left"), ("why", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for cluster_id, group in islice(groupby(rows, key=lambda row: row["cluster_id"]), limit):
        members = list(group)
        canonical = next(m for m in members if m["is_canonical"])
        others = [m for m in members if m is not canonical]
        name = canonical["doc_id"]
        if canonical["parent_id"]:
            name += f" [embedded in {canonical['parent_id']}]"
        listed = ", ".join(f"{m['doc_id']} ({m['similarity']:.2f})" for m in others) or "-"
        table.add_row(str(cluster_id), str(canonical["cluster_size"]), escape(name), escape(listed),
                      escape(canonical["reason"]))
    console.print(table)
    if limit is not None and overview.clusters > limit:
        console.print(f"... {overview.clusters - limit} more clusters")
    console.print(escape(accounting))
