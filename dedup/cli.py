"""The ``dedup`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console

from .io import Fields, InputError, ReadStats, read_documents
from .pipeline import DuplicateIdError, Result, Settings, find_clusters
from .report import render_text, write_csv, write_jsonl


@click.group()
@click.version_option(package_name="dedup")
def main() -> None:
    """Find copies of the same news story in scraped dumps."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl", "csv"]), default="text", show_default=True,
              help="Output format: a terminal table, or one row per document.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=Settings.jaccard, show_default=True,
              help="Exact Jaccard a pair needs to be copies of one story.")
@click.option("--containment", type=click.FloatRange(0.0, 1.0, min_open=True), default=Settings.containment,
              show_default=True, help="Share of the shorter text found in the longer (truncated copies).")
@click.option("--ngram", type=click.IntRange(1, 8), default=Settings.ngram, show_default=True, help="Words per shingle.")
@click.option("--id-field", default="id", show_default=True, help="Record field holding the document id (JSONL/CSV).")
@click.option("--text-field", default="text", show_default=True, help="Record field holding the text (JSONL/CSV).")
@click.option("--skip-bad", is_flag=True, help="Skip and count bad records instead of stopping at the first.")
@click.option("--limit", type=int, default=None, help="Show at most this many clusters in the text table.")
def report(
    paths: tuple[Path, ...], fmt: str, output: Path | None, threshold: float, containment: float, ngram: int,
    id_field: str, text_field: str, skip_bad: bool, limit: int | None,
) -> None:
    """Cluster the documents under PATHS and report the clusters.

    PATHS are .jsonl, .jsonl.gz, .csv or .txt files, or folders of them.
    """
    stats = ReadStats()
    docs = read_documents(paths, fields=Fields(id_field, text_field), on_error="skip" if skip_bad else "fail", stats=stats)
    try:
        result = find_clusters(docs, jaccard=threshold, containment=containment, ngram=ngram)
    except (InputError, DuplicateIdError) as err:
        raise click.ClickException(str(err)) from None
    accounting = _accounting(result, stats)
    if output is None:
        _emit(result, fmt, sys.stdout, accounting, limit)
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            _emit(result, fmt, fh, accounting, limit)
        click.echo(accounting, err=True)


def _accounting(result: Result, stats: ReadStats) -> str:
    clustered = sum(c.size for c in result.clusters)
    return (
        f"accounting: {stats.summary()} / embedded articles split out {result.stats.get('embedded', 0)} / "
        f"clustered {clustered} (too short to compare: {result.stats.get('too_short', 0)})"
    )


def _emit(result: Result, fmt: str, out: TextIO, accounting: str, limit: int | None) -> None:
    if fmt == "text":
        render_text(result, Console(file=out, width=None if out.isatty() else 160), accounting, limit)
        return
    (write_jsonl if fmt == "jsonl" else write_csv)(result, out)
    if out is sys.stdout:
        click.echo(accounting, err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
