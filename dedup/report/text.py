"""The terminal report: a summary line and a table of clusters, largest first."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..pipeline import Result



def render_text(result: Result, console: Console, accounting: str, limit: int | None = None) -> None:
    """Print the summary, the cluster table (``limit`` rows at most) and the accounting line."""
    n_docs = len(result.documents)
    summary = (
        f"{n_docs} documents ({result.stats.get('embedded', 0)} embedded), "
        f"{len(result.clusters)} clusters, {result.duplicates} documents in duplicate clusters"
    )
    largest = result.clusters[0].size if result.clusters else 0
    console.print(Panel(f"[bold]{summary}[/bold]\nchrome removed: {result.chrome_removed:,} characters · largest cluster: {largest} · "
                        f"too short to compare: {result.stats.get('too_short', 0)}", title="dedup report", expand=False))
    table = Table(show_lines=False)
    for name, justify in (("cluster", "right"), ("size", "right"), ("canonical", "left"),
                          ("members (similarity)", "left"), ("why", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    shown = result.clusters if limit is None else result.clusters[:limit]
    for c in shown:
        members = ", ".join(
            f"{m.doc_id} ({m.similarity:.2f})" for m in c.members if not m.is_canonical
        ) or "-"
        canonical = c.canonical.id
        parent = c.canonical.meta.get("parent_id")
        if parent:
            canonical += f" [embedded in {parent}]"
        table.add_row(str(c.id), str(c.size), escape(canonical), escape(members), escape(c.reason))
    console.print(table)
    if limit is not None and len(result.clusters) > limit:
        console.print(f"... {len(result.clusters) - limit} more clusters")
    console.print(escape(accounting))
