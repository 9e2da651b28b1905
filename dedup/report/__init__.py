"""Reports of a run: machine rows (JSONL/CSV) and the terminal summary."""

from .records import COLUMNS, rows, write_csv, write_jsonl
from .text import render_text

__all__ = ["COLUMNS", "rows", "write_csv", "write_jsonl", "render_text"]
