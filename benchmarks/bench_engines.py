"""The staged flow on each engine: per-stage wall time, and the same rows from every engine.

Generates the dump of ``bench_scale.py`` (SaudiNewsNet replicated with edits), runs
``dedup run`` once per ``ENGINE:WORKERS`` (``local:2``, ``ray:1``, ``ray:2``...; Ray starts a
local instance with that many CPUs), prints a table of seconds per stage, wall time,
docs/s and peak memory of the process tree (RSS and PSS, in all and per stage), the sizes of the stage folders, and checks
that every run's rows equal the first run's.

    python benchmarks/bench_engines.py [--docs 1000000] [--runs local:2,ray:1,ray:2] [--dump FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyarrow.parquet as pq  # noqa: E402
from bench_scale import have_data, run_measured, stage_peaks, write_dump  # noqa: E402

STAGES = ["read", "templates", "sign", "df", "bands", "verify", "cluster"]


def folder_sizes(folder: Path) -> dict[str, float]:
    """GiB on disk per stage folder."""
    return {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**30
            for p in sorted(folder.iterdir()) if p.is_dir()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--runs", default="local:2,ray:1,ray:2")
    parser.add_argument("--dump", type=Path, help="an existing dump to use (default: generate one)")
    parser.add_argument("--keep", type=Path, help="a folder to keep each run's rows and timings in")
    args = parser.parse_args()
    if not have_data():
        return 0
    results, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        dump = args.dump or Path(tmp) / "dump.jsonl"
        if not args.dump:
            write_dump(dump, args.docs)
        print(f"| engine | workers | {' | '.join(STAGES)} | wall s | docs/s | peak RSS MiB | peak PSS MiB |")
        print("|---|---|" + "---|" * (len(STAGES) + 4))
        for run in args.runs.split(","):
            engine, workers = run.split(":")
            folder = Path(tmp) / f"{engine}-{workers}"
            cmd = [sys.executable, "-m", "dedup.cli", "run", str(dump), "--folder", str(folder), "-q",
                   "--engine", engine, "--workers", workers]
            samples: list[tuple[float, int, int]] = []
            wall, peak, code, _, err = run_measured(cmd, every=0.5, samples=samples)
            if code:
                print(f"{run} failed: {err[-2000:]}")
                return 1
            seconds = json.loads((folder / "timings.json").read_text())
            cells = " | ".join(f"{seconds.get(s, 0):.0f}" for s in STAGES)
            print(f"| {engine} | {workers} | {cells} | {wall:.0f} | {args.docs / wall:,.0f} | {peak / 1024:,.0f} | "
                  f"{max((p for _, _, p in samples), default=0) / 1024:,.0f} |",
                  flush=True)
            peaks.append((run, stage_peaks(samples, wall, seconds)))
            rows = (args.keep or Path(tmp)) / f"rows-{engine}-{workers}.parquet"
            rows.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(folder / "clusters.parquet", rows)
            shutil.copy(folder / "timings.json", rows.with_suffix(".timings.json"))
            results.append((run, rows, folder_sizes(folder)))
            shutil.rmtree(folder)  # a 1M run's stage files take ~19 GiB
        first_run, first_rows, sizes = results[0]
        reference = pq.read_table(first_rows)
        for run, rows, _ in results[1:]:
            print(f"{run}: rows equal to {first_run}'s: {pq.read_table(rows).equals(reference)} "
                  f"({reference.num_rows:,} rows)")
        print("GiB per stage folder: " + ", ".join(f"{k} {v:.2f}" for k, v in sizes.items()))
        for run, per_stage in peaks:
            print(f"{run}: peak RSS / PSS MiB per stage: " + ", ".join(f"{k} {v}" for k, v in per_stage.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
