"""Reports of a run: machine rows (JSONL/CSV), the terminal summary, the HTML page, and stripping explained."""

from .html import render_html
from .records import COLUMNS, deduplicated, rows, write_csv, write_documents, write_jsonl, write_parquet
from .stripping import explain, record
from .text import Overview, render_text

__all__ = [
    "COLUMNS", "Overview", "deduplicated", "explain", "record", "render_html", "render_text", "rows",
    "write_csv", "write_documents", "write_jsonl", "write_parquet",
]
