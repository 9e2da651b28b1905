"""What stripping did to a document: a line-by-line explanation and a JSON record."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..model import Cut, Document, Stripped


def record(document: Document, stripped: Stripped) -> dict[str, Any]:
    """A JSON-ready record of ``stripped``: body, title, cuts, children and meta."""
    return {
        "id": document.id,
        "body": stripped.body,
        "title": stripped.title,
        "cuts": [asdict(c) for c in stripped.cuts],
        "children": [{"id": c.id, "text": c.text, "meta": dict(c.meta)} for c in stripped.children],
        "meta": dict(stripped.meta),
    }


def _label(cuts: tuple[Cut, ...], start: int, end: int, visible: int) -> tuple[str, Cut | None]:
    """``("keep"|"trim"|"cut", main cut)`` for the line at ``[start, end)``."""
    best, best_len, covered = None, 0, 0
    for c in cuts:
        overlap = min(end, c.end) - max(start, c.start)
        if overlap > 0:
            covered += overlap
            if overlap > best_len:
                best, best_len = c, overlap
    if best is None:
        return "keep", None
    return ("cut" if covered >= visible else "trim"), best


def explain(document: Document, stripped: Stripped, console: Console) -> None:
    """Print every line of ``document`` with its label: kept, or the cut's kind and reason."""
    removed = len(document.text) - len(stripped.body)
    console.print(f"[bold]== {escape(document.id)}[/bold]  {len(stripped.cuts)} cuts, {removed} characters removed")
    pos = 0
    for line in document.text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        shown = line.rstrip("\r\n")
        if not shown.strip():
            continue
        label, cut = _label(stripped.cuts, start, end, len(shown))
        if cut is None:
            console.print(f"[green]keep[/green]                  {escape(shown)}")
        else:
            colour = "red" if label == "cut" else "yellow"
            tag = f"{label} {cut.kind}"
            console.print(f"[{colour}]{tag:<21}[/{colour}] {escape(shown)}  [dim]({escape(cut.reason)})[/dim]")
    if stripped.meta:
        console.print(f"[dim]meta: {escape(str(dict(stripped.meta)))}[/dim]")
