"""Interrupted runs: kill `dedup run` at random points, resume, and compare with an
uninterrupted run.

The dump is SaudiNewsNet replicated with edits (``bench_scale.write_dump``). One run goes
through uninterrupted; another is killed with SIGKILL (or stopped with SIGTERM / SIGINT)
``--kills`` times at random points spread over the uninterrupted run's duration (each resumed
run is stopped after the gap to the next point) and started again each time with the same
command. The final rows must equal the uninterrupted run's, every
input document must appear exactly once, no file may be left half-written under a
final name (every output is written to a temporary name and renamed), and no process of a
stopped run may outlive it (its workers die with it).

    python benchmarks/faults.py [--docs 1000000] [--kills 3] [--workers 2] [--seed 0] [--dump FILE] [--reference ROWS]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyarrow.parquet as pq  # noqa: E402
from bench_scale import have_data, run_measured, write_dump  # noqa: E402

from dedup import Settings  # noqa: E402
from dedup.stages import Plan, read_rows  # noqa: E402

SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]


def command(dump: Path, folder: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "dedup.cli", "run", str(dump), "--folder", str(folder), "-q",
            "--workers", str(workers)]


def done_stages(folder: Path) -> str:
    """Which stage outputs exist (where the kill landed)."""
    marks = [("raw/_shards.json", "read"), ("templates.pkl", "templates"), ("df", "sign"), ("bands", "df"),
             ("pairs", "bands"), ("edges", "verify"), ("clusters/labels.npy", "components"),
             ("clusters.parquet", "cluster")]
    reached = [name for path, name in marks if (folder / path).exists()]
    return reached[-1] if reached else "none"


def processes_of(folder: Path) -> list[int]:
    """Live processes of runs on ``folder`` (forked workers share the driver's command line)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(folder).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:  # the process ended while we looked
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", type=Path, help="an existing dump of --docs documents (default: generate one)")
    parser.add_argument("--reference", type=Path,
                        help="rows of an uninterrupted run of the same dump (bench_engines.py --keep), with its "
                             "timings beside them: then no uninterrupted run is made here")
    args = parser.parse_args()
    if not have_data():
        return 0
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        dump = args.dump or Path(tmp) / "dump.jsonl"
        if not args.dump:
            write_dump(dump, args.docs)
        if args.reference:
            stages = json.loads(args.reference.with_suffix(".timings.json").read_text())
            whole_s = sum(stages.values())
            whole = pq.read_table(args.reference).to_pylist()
            print(f"uninterrupted (from {args.reference.name}): {args.docs:,} documents in {whole_s:.0f} s")
        else:
            whole_s, peak, code, _, err = run_measured(command(dump, Path(tmp) / "whole", args.workers), every=0.5)
            if code:
                raise RuntimeError(f"the uninterrupted run failed: {err[-2000:]}")
            stages = json.loads((Path(tmp) / "whole" / "timings.json").read_text())
            whole = list(read_rows(Plan(Path(tmp) / "whole", Settings())))
            print(f"uninterrupted: {args.docs:,} documents in {whole_s:.0f} s, peak RSS {peak / 1024:,.0f} MiB; "
                  "seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()), flush=True)
        print("| kill | signal | after s | stage reached | exit | processes left |")
        print("|---|---|---|---|---|---|")
        folder = Path(tmp) / "killed"
        # kill points spread over the work: each resumed run is stopped after the gap to the next point
        points = sorted(rng.uniform(0.05, 0.9) * whole_s for _ in range(args.kills))
        for k, (before, point) in enumerate(zip([0.0] + points, points)):
            # a shell that starts this script in the background ignores SIGINT, and children
            # inherit that: give the run Ctrl-C's default behaviour back
            child = subprocess.Popen(command(dump, folder, args.workers), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            after = point - before + (3.0 if k else 0.0)  # a resumed run starts up first
            time.sleep(after)
            sig = SIGNALS[k % len(SIGNALS)]
            child.send_signal(sig)
            code = child.wait()
            time.sleep(1.0)  # a worker killed with its parent needs a moment to go
            print(f"| {k + 1} | {sig.name} | {after:.0f} | {done_stages(folder)} | {code} | "
                  f"{len(processes_of(folder))} |", flush=True)
        start = time.perf_counter()
        subprocess.run(command(dump, folder, args.workers), check=True, capture_output=True)
        resume_s = time.perf_counter() - start
        resumed = list(read_rows(Plan(folder, Settings())))
        ids = [r["doc_id"] for r in resumed]
        top = sum(1 for r in resumed if r["parent_id"] is None)
        partial = [p.name for p in folder.rglob(".part-*")]
        print(f"last resume: {resume_s:.0f} s; rows equal to the uninterrupted run: {resumed == whole}; "
              f"rows {len(resumed):,}, distinct ids {len(set(ids)):,}, input documents {top:,} of {args.docs:,}; "
              f"temporary files left: {len(partial)}")
        print(json.dumps({"equal": resumed == whole, "documents": top, "rows": len(resumed)}))
        return 0 if resumed == whole and top == args.docs and len(set(ids)) == len(ids) else 1


if __name__ == "__main__":
    raise SystemExit(main())
