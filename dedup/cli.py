"""The ``dedup`` command."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import itertools
import json
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sized, TextIO, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .index import Index, IndexSettingsError
from .engines import ENGINES, executor_for
from .io import Fields, InputError, ReadStats, atomic_path, read_batches, read_documents
from .model import Document, Match
from .pipeline import Deduplicator, DuplicateIdError, Result, Settings, find_clusters, passthrough
from .report import explain as explain_document
from .stages import Plan, read_rows, run_stages
from .report import (Overview, record, render_html, render_text, rows, write_csv, write_documents, write_jsonl,
                     write_parquet)

T = TypeVar("T")

_EMBEDDED = click.Choice(["split", "drop", "keep"])


@click.group()
@click.version_option(package_name="dedup")
def main() -> None:
    """Find copies of the same news story in scraped dumps."""


def _input_options(command: Callable) -> Callable:
    """PATHS, the record field names and --skip-bad, shared by every command that reads documents."""
    for option in reversed([
        click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--id-field", default="id", show_default=True, help="Record field holding the document id."),
        click.option("--text-field", default="text", show_default=True, help="Record field holding the text."),
        click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
                     help="Stop at the first bad record, or skip and count bad records."),
        click.option("--skip-bad", is_flag=True, help="The same as --on-error skip."),
        click.option("--errors", "errors_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write every skipped record's location and problem here (JSONL)."),
        click.option("--embedded", type=_EMBEDDED, default="split", show_default=True,
                     help="Articles glued on after a read-also marker: split out, drop, or keep in the body."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write here instead of stdout."),
        click.option("--workers", type=click.IntRange(1), default=None,
                     help="Processes for the per-document stages [default: all cores]."),
        click.option("-q", "--quiet", is_flag=True, help="No progress display."),
    ]):
        command = option(command)
    return command


class _Rate(ProgressColumn):
    """Items done (of the total, once known) and items per second of a task."""

    def render(self, task: Task) -> Text:
        done = f"{int(task.completed):,}" + (f"/{int(task.total):,}" if task.total is not None else "")
        return Text(f"{done}  {task.speed or 0:,.0f}/s", style="progress.data.speed")


class _StageProgress:
    """A rich progress display on standard error, one bar per stage of the flow."""

    def __init__(self, quiet: bool) -> None:
        self.display = Progress(
            TextColumn("{task.description:<8}"), BarColumn(), _Rate(), TimeRemainingColumn(), console=Console(stderr=True), disable=quiet, transient=False,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "_StageProgress":
        self.display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.display.add_task(stage, total=total)
        self.display.update(self.tasks[stage], completed=done, total=total)

    def counted(self, items: Iterable[T], stage: str = "read", size: Callable[[T], int] = lambda item: 1) -> Iterator[T]:
        """Pass ``items`` through, counting them (``size`` documents each) as ``stage``."""
        task = self.display.add_task(stage, total=None)
        n = shown = 0
        for item in items:
            n += size(item)
            if n - shown >= 500:
                self.display.update(task, completed=n)
                shown = n
            yield item
        self.display.update(task, completed=n, total=n)


def _reader(paths: tuple[Path, ...], id_field: str, text_field: str, on_error: str, skip_bad: bool, stats: ReadStats,
            read: Callable[..., Iterator] = read_documents) -> Iterator:
    return read(paths, fields=Fields(id_field, text_field), on_error="skip" if skip_bad else on_error, stats=stats)


def _write_errors(stats: ReadStats, path: Path | None) -> None:
    """The skipped records, one JSON object per line, written atomically."""
    if path is None:
        return
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as fh:
        for location, problem in stats.errors:
            fh.write(json.dumps({"location": location, "problem": problem}, ensure_ascii=False) + "\n")


@main.command()
@_input_options
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl", "csv", "parquet", "html"]), default="text",
              show_default=True,
              help="A terminal table, one row per document (jsonl, csv, parquet: needs -o), or a self-contained HTML page.")
@click.option("--dedup-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the deduplicated documents (each cluster's canonical, singletons kept) here: "
                   ".jsonl[.gz], .csv or .parquet.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=Settings.jaccard, show_default=True,
              help="Exact Jaccard a pair needs to be copies of one story.")
@click.option("--containment", type=click.FloatRange(0.0, 1.0, min_open=True), default=Settings.containment,
              show_default=True, help="Share of the shorter text found in the longer (truncated copies).")
@click.option("--ngram", type=click.IntRange(1, 8), default=Settings.ngram, show_default=True, help="Words per shingle.")
@click.option("--no-strip", is_flag=True, help="Hash whole texts, chrome included.")
@click.option("--limit", type=int, default=None, help="Show at most this many clusters in the text table.")
@click.option("--max-in-memory", type=click.IntRange(1), default=100_000, show_default=True,
              help="Cluster up to this many documents in memory; a larger input runs the staged flow of "
                   "`dedup run` in a temporary folder (under TMPDIR), in memory bounded by the signatures.")
def report(
    paths: tuple[Path, ...], fmt: str, output: Path | None, threshold: float, containment: float, ngram: int,
    id_field: str, text_field: str, on_error: str, skip_bad: bool, errors_file: Path | None, embedded: str,
    no_strip: bool, limit: int | None, workers: int | None, quiet: bool, dedup_out: Path | None,
    max_in_memory: int,
) -> None:
    """Cluster the documents under PATHS and report the clusters.

    PATHS are .jsonl, .jsonl.gz, .jsonl.zst, .csv, .parquet or .txt files, or folders of them.
    """
    if fmt == "parquet" and output is None:  # said before the run, not after it
        raise click.UsageError("--format parquet needs -o FILE")
    stats = ReadStats()
    settings = Settings(jaccard=threshold, containment=containment, ngram=ngram, embedded=embedded)
    strip = passthrough if no_strip else None
    with contextlib.ExitStack() as stack:
        try:
            with _StageProgress(quiet) as progress:
                read = functools.partial(_reader, paths, id_field, text_field, on_error, skip_bad)
                first = progress.counted(read(ReadStats(), read_batches), "count", size=len)
                if not _past_memory(first, max_in_memory):
                    made: _Made = _InMemory(find_clusters(progress.counted(read(stats)), strip=strip, workers=workers,
                                                          progress=progress, **dataclasses.asdict(settings)))
                else:
                    if fmt == "html" or dedup_out is not None:
                        raise click.UsageError(
                            f"more than {max_in_memory:,} documents: --format html and --dedup-out hold every text in "
                            "memory; raise --max-in-memory, or report as text, jsonl, csv or parquet")
                    plan = Plan(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dedup-report-"))), settings)
                    batches = progress.counted(read(stats, read_batches), size=len)  # Arrow tables, never Python objects
                    counts = run_stages(plan, batches, executor_for("local", workers, None), progress, strip, stats.summary)
                    made = _Staged(plan, counts)
        except (InputError, DuplicateIdError) as err:
            raise click.ClickException(str(err)) from None
        accounting = _accounting(stats, made.counts)
        _write_errors(stats, errors_file)
        if dedup_out is not None:
            assert isinstance(made, _InMemory)  # the staged flow refuses --dedup-out
            with atomic_path(dedup_out) as temp:
                written = write_documents(made.result, temp)
            accounting += f" / deduplicated documents written {written}"
        if fmt == "parquet":
            with atomic_path(output) as temp:
                made.write_parquet(temp)
            click.echo(accounting, err=True)
            return
        if output is None:
            _emit(made, fmt, sys.stdout, accounting, limit)
        else:
            with atomic_path(output) as temp, open(temp, "w", encoding="utf-8", newline="") as fh:
                _emit(made, fmt, fh, accounting, limit)
            click.echo(accounting, err=True)


def _past_memory(batches: Iterable[Sized], limit: int) -> bool:
    """Whether ``batches`` hold more than ``limit`` documents (counted until they do) and the
    staged flow, which keeps its files as Parquet, can take them; says so when pyarrow is missing."""
    count = 0
    for batch in batches:
        count += len(batch)
        if count > limit:
            break
    if importlib.util.find_spec("pyarrow") is None:
        if count > limit:
            click.echo(f"note: more than {limit:,} documents, clustered in memory: the bounded-memory staged flow "
                       "needs pyarrow (pip install 'dedup[parquet]')", err=True)
        return False
    import pyarrow

    pyarrow.default_memory_pool().release_unused()  # what the count read into goes back before workers fork
    return count > limit


class _InMemory:
    """What ``report`` made in memory: the :class:`Result`."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.counts = {**result.stats, "clustered": sum(c.size for c in result.clusters)}

    def overview(self) -> Overview:
        return Overview.of(self.result)

    def rows(self) -> Iterator[dict]:
        return rows(self.result)

    def write_parquet(self, path: Path) -> None:
        write_parquet(self.result, path)


class _Staged:
    """What ``report`` made with the staged flow: its plan (``clusters.parquet``) and counts."""

    def __init__(self, plan: Plan, counts: dict) -> None:
        self.plan = plan
        self.counts = {**counts, "clustered": counts["documents"] + counts["embedded"]}

    def overview(self) -> Overview:
        c = self.counts
        return Overview(c["clustered"], c["embedded"], c["clusters"], c["duplicates"], c["chrome_removed"],
                        c["largest"], c["too_short"])

    def rows(self) -> Iterator[dict]:
        return read_rows(self.plan)

    def write_parquet(self, path: Path) -> None:
        shutil.copyfile(self.plan.path("clusters.parquet"), path)


_Made = _InMemory | _Staged


def _accounting(stats: ReadStats, counts: dict) -> str:
    return (
        f"accounting: {stats.summary()} / embedded articles split out {counts['embedded']} / "
        f"clustered {counts['clustered']} (too short to compare: {counts.get('too_short', 0)}; "
        f"hashed on their first {Settings.max_chars:,} characters only: {counts.get('capped', 0)})"
    )


def _console(out: TextIO) -> Console:
    """A rich console on ``out``: colours and the terminal's width on a TTY, plain and wide elsewhere."""
    tty = out.isatty()
    return Console(file=out, width=None if tty else 160, no_color=not tty, highlight=tty)


def _emit(made: _Made, fmt: str, out: TextIO, accounting: str, limit: int | None) -> None:
    if fmt == "text":
        render_text(made.overview(), made.rows(), _console(out), accounting, limit)
        return
    if fmt == "html":
        assert isinstance(made, _InMemory)  # the staged flow refuses html
        out.write(render_html(made.result, accounting))
    else:
        (write_jsonl if fmt == "jsonl" else write_csv)(made.rows(), out)
    if out is sys.stdout:
        click.echo(accounting, err=True)


@main.command()
@_input_options
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="text: the bodies (or, with --explain, every line labelled); jsonl: body, title, cuts, children, meta.")
@click.option("--explain", is_flag=True, help="Print every line with its label and the reason for each cut.")
def strip(
    paths: tuple[Path, ...], fmt: str, output: Path | None, id_field: str, text_field: str, on_error: str,
    skip_bad: bool, errors_file: Path | None, embedded: str, explain: bool, workers: int | None, quiet: bool,
) -> None:
    """Strip portal chrome from the documents under PATHS and show what was cut."""
    stats = ReadStats()
    try:
        docs = list(_reader(paths, id_field, text_field, on_error, skip_bad, stats))
    except InputError as err:
        raise click.ClickException(str(err)) from None
    stripper = Deduplicator(Settings(embedded=embedded)).stripper_for(docs)
    with contextlib.ExitStack() as stack:
        out = sys.stdout
        if output:
            out = stack.enter_context(open(stack.enter_context(atomic_path(output)), "w", encoding="utf-8"))
        console = _console(out)
        for doc in docs:
            result = stripper(doc)
            if fmt == "jsonl":
                out.write(json.dumps(record(doc, result), ensure_ascii=False) + "\n")
            elif explain:
                explain_document(doc, result, console)
            else:
                console.print(f"== {doc.id}", markup=False)
                console.print(result.body, markup=False)
    _write_errors(stats, errors_file)
    click.echo(f"accounting: {stats.summary()}", err=True)


@main.command()
@_input_options
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the stages keep their files; a folder holding an interrupted run is resumed.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Run the stages on local processes or on Ray.")
@click.option("--ray-address", default=None, help="The Ray cluster to use (default: a local Ray instance).")
@click.option("--shard-docs", type=click.IntRange(1), default=10_000, show_default=True,
              help="Documents per input shard (the unit of work and of resuming).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl"]), default="parquet", show_default=True,
              help="The report rows: FOLDER/clusters.parquet, also FOLDER/clusters.jsonl with jsonl.")
def run(paths: tuple[Path, ...], output: Path | None, id_field: str, text_field: str, on_error: str,
        skip_bad: bool, errors_file: Path | None, embedded: str, workers: int | None, quiet: bool, folder: Path,
        engine: str, ray_address: str | None, shard_docs: int, fmt: str) -> None:
    """Cluster the documents under PATHS stage by stage, with files between stages.

    For dumps larger than memory, and for Ray clusters (the folder must then be on storage
    every worker reaches). Stopped runs resume where they stopped: run the same command
    again. The rows are those of `dedup report --format parquet`.
    """
    stats = ReadStats()
    plan = Plan(folder, Settings(embedded=embedded), shard_docs=shard_docs)
    try:
        with _StageProgress(quiet) as progress:
            docs = progress.counted(_reader(paths, id_field, text_field, on_error, skip_bad, stats, read_batches), size=len)
            counts = run_stages(plan, docs, executor_for(engine, workers, ray_address), progress,
                                describe=stats.summary)
    except (InputError, DuplicateIdError, ValueError, ImportError) as err:
        raise click.ClickException(str(err)) from None
    _write_errors(stats, errors_file)
    if fmt == "jsonl":
        with atomic_path(output or folder / "clusters.jsonl") as temp, open(temp, "w", encoding="utf-8") as fh:
            write_jsonl(read_rows(plan), fh)
    click.echo(
        f"accounting: {counts['input']} / documents {counts['documents']} / embedded articles split out {counts['embedded']} / "
        f"clustered {counts['documents'] + counts['embedded']} in {counts['clusters']} clusters "
        f"({counts['duplicates']} in duplicate clusters) -> {folder / 'clusters.parquet'}", err=True)
    if not quiet:
        click.echo("seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in counts["seconds"].items()), err=True)


@main.group()
def index() -> None:
    """A persistent index across daily runs: a SQLite file (DB) or a redis:// URL."""


def _open_index(db: str, workers: int | None = 1, **options: object) -> Index:
    try:
        return Index(db, workers=workers, **options)
    except (IndexSettingsError, ImportError, OSError) as err:
        raise click.ClickException(str(err)) from None


def _indexed(db: str, paths: tuple[Path, ...], id_field: str, text_field: str, on_error: str, skip_bad: bool,
             errors_file: Path | None, workers: int | None, quiet: bool, batch: int,
             operation: Callable[[Index], Callable[[list[Document]], list[Match]]]) -> tuple[list[Match], ReadStats]:
    """Add or query (``operation`` of the index) the documents under ``paths`` in batches,
    with a progress display. An explicit ``--embedded`` must agree with the index's own setting."""
    stats = ReadStats()
    matches: list[Match] = []
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("embedded") is click.core.ParameterSource.COMMANDLINE
    target = _open_index(db, workers, **({"embedded": ctx.params["embedded"]} if explicit else {}))
    try:
        with _StageProgress(quiet) as progress:
            target.load(progress)  # the stored documents' band keys, computed from their texts
            docs = progress.counted(_reader(paths, id_field, text_field, on_error, skip_bad, stats))
            for chunk in iter(lambda: list(itertools.islice(docs, batch)), []):
                matches.extend(operation(target)(chunk))
    except (InputError, DuplicateIdError) as err:
        raise click.ClickException(str(err)) from None
    finally:
        target.close()
    _write_errors(stats, errors_file)
    return matches, stats


def _match_summary(matches: list[Match], stats: ReadStats, verb: str) -> str:
    before = sum(m.already_stored for m in matches)
    joined = sum(m.cluster_id is not None and not m.is_new_cluster and not m.already_stored for m in matches)
    new = sum(m.is_new_cluster for m in matches)
    embedded = sum(m.parent_id is not None and not m.already_stored for m in matches)
    return (f"accounting: {stats.summary()} / embedded articles split out {embedded} / {verb} {len(matches)}: "
            f"already stored {before}, copies of a stored story {joined}, new stories {new}")


_BATCH = click.option("--batch", type=click.IntRange(1), default=1000, show_default=True,
                      help="Documents per index transaction.")
_DB = click.argument("db")
_QUICK = click.option("--quick", is_flag=True,
                      help="Place documents against the stored clusters as they are, without re-clustering around "
                           "them (exact=False; see docs/index.md): fast whatever the size of the clusters they land in.")


@index.command("add")
@_DB
@_input_options
@_BATCH
@_QUICK
def index_add(db: str, paths: tuple[Path, ...], output: Path | None, id_field: str, text_field: str, on_error: str,
              skip_bad: bool, errors_file: Path | None, embedded: str, workers: int | None, quiet: bool,
              batch: int, quick: bool) -> None:
    """Add the documents under PATHS to the index DB; documents already stored are skipped.

    Re-running after an interruption continues where the index stopped: every batch is
    stored whole or not at all.
    """
    matches, stats = _indexed(db, paths, id_field, text_field, on_error, skip_bad, errors_file, workers, quiet,
                              batch, lambda target: functools.partial(target.add, exact=not quick))
    _write_matches(matches, output, "jsonl" if output else None)
    click.echo(_match_summary(matches, stats, "stored or found"), err=True)


@index.command("query")
@_DB
@_input_options
@_BATCH
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text", show_default=True)
@_QUICK
def index_query(db: str, paths: tuple[Path, ...], output: Path | None, id_field: str, text_field: str, on_error: str,
                skip_bad: bool, errors_file: Path | None, embedded: str, workers: int | None, quiet: bool,
                batch: int, fmt: str, quick: bool) -> None:
    """Say, for each document under PATHS, which stored story it copies (nothing is stored)."""
    matches, stats = _indexed(db, paths, id_field, text_field, on_error, skip_bad, errors_file, workers, quiet,
                              batch, lambda target: functools.partial(target.query, exact=not quick))
    _write_matches(matches, output, fmt)
    click.echo(_match_summary(matches, stats, "queried"), err=True)


def _write_matches(matches: list[Match], output: Path | None, fmt: str | None) -> None:
    """Matches as JSON lines or a table, to ``output`` (atomically) or stdout; nothing when ``fmt`` is None."""
    if fmt is None:
        return
    with contextlib.ExitStack() as stack:
        out = sys.stdout
        if output:
            out = stack.enter_context(open(stack.enter_context(atomic_path(output)), "w", encoding="utf-8"))
        if fmt == "jsonl":
            for m in matches:
                out.write(json.dumps(dataclasses.asdict(m), ensure_ascii=False) + "\n")
            return
        table = Table("document", "cluster", "canonical", "similarity", box=None)
        for m in matches:
            cluster = "new" if m.cluster_id is None else f"{m.cluster_id}" + (" (new)" if m.is_new_cluster else "")
            table.add_row(m.doc_id, cluster, m.canonical_id, f"{m.similarity:.2f}")
        _console(out).print(table)


@index.command("stats")
@_DB
def index_stats(db: str) -> None:
    """Documents, clusters, size on disk and settings of the index DB (JSON)."""
    target = _open_index(db)
    try:
        click.echo(json.dumps(target.stats(), ensure_ascii=False, indent=2))
    finally:
        target.close()


@index.command("export")
@_DB
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The JSONL file to write, one cluster per line.")
def index_export(db: str, output: Path) -> None:
    """Write every cluster of the index DB: id, canonical id, size, members and similarities."""
    target = _open_index(db)
    count = 0
    try:
        with atomic_path(output) as temp, open(temp, "w", encoding="utf-8") as fh:
            for count, cluster in enumerate(target.clusters(), start=1):
                fh.write(json.dumps(cluster, ensure_ascii=False) + "\n")
    finally:
        target.close()
    click.echo(f"exported {count} clusters to {output}", err=True)


def entry() -> None:
    """The ``dedup`` program: SIGTERM stops it like Ctrl-C does, through every cleanup
    (temporary outputs are removed; nothing partial is left under a final name)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    except (SystemExit, click.exceptions.Exit):
        raise
    except BaseException as err:  # a stop that arrived inside compiled code comes wrapped
        stop = _stop_in(err)
        if stop is None:
            raise
        click.echo("Aborted!" if isinstance(stop, KeyboardInterrupt) else "Stopped.", err=True)
        raise SystemExit(1 if isinstance(stop, KeyboardInterrupt) else stop.code) from None


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop_in(err: BaseException) -> BaseException | None:
    """The SIGTERM exit or Ctrl-C among the causes of ``err``, if any."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, (KeyboardInterrupt, SystemExit)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


if __name__ == "__main__":  # pragma: no cover
    entry()
