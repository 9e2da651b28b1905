"""Reports of a run: machine rows (JSONL/CSV), the terminal summary, the HTML page, and stripping explained."""

from .html import render_html
from .records import COLUMNS, rows, write_csv, write_jsonl
from .stripping import explain, record
from .text import render_text

__all__ = ["COLUMNS", "explain", "record", "render_html", "render_text", "rows", "write_csv", "write_jsonl"]
