"""Reports of a run: machine rows (JSONL/CSV), the terminal summary, and stripping explained."""

from .records import COLUMNS, rows, write_csv, write_jsonl
from .stripping import explain, record
from .text import render_text

__all__ = ["COLUMNS", "explain", "record", "render_text", "rows", "write_csv", "write_jsonl"]
