"""End-to-end scale: `dedup report` and the staged `dedup run` on SaudiNewsNet and on a
generated dump of near-copies.

The generated dump replicates SaudiNewsNet with edits (truncations, word swaps, re-spellings)
so that it holds real clusters. For each size and command it runs the CLI in a child process
and prints wall time, documents/s, peak RSS (the child and all its worker processes together,
sampled every 0.2 s) and the cluster summary.

    python benchmarks/bench_scale.py [--sizes 31030,1000000] [--commands report,run] [--workers N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "saudinewsnet" / "saudinewsnet.jsonl.gz"
RESPELL = str.maketrans({"أ": "ا", "إ": "ا", "ة": "ه", "ى": "ي"})


def edited(text: str, rng: random.Random) -> str:
    """A near-copy: truncated, a few words swapped, or re-spelled."""
    words = text.split(" ")
    kind = rng.random()
    if kind < 0.3 and len(words) > 40:
        words = words[: rng.randint(len(words) // 2, len(words))]
    elif kind < 0.6:
        for _ in range(max(1, len(words) // 40)):
            words[rng.randrange(len(words))] = rng.choice(["وأضاف", "كذلك", "أيضا", "حاليا"])
    else:
        return text.translate(RESPELL)
    return " ".join(words)


def write_dump(path: Path, size: int, seed: int = 0) -> int:
    """Write ``size`` documents: SaudiNewsNet once, then edited replicas; returns the count."""
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        base = [json.loads(line) for line in fh]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for n in range(size):
            record = base[n % len(base)]
            replica = n // len(base)
            text = record["text"] if replica == 0 else edited(record["text"], rng)
            row = {"id": f"{record['id']}~{replica}", "text": text, "source": record.get("source")}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return size


def _tree(root: int) -> list[int]:
    """Process ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def _memory(pids: list[int], source: str, field: str) -> int:
    """The sum (KiB) of ``field`` in ``/proc/PID/source`` over ``pids``: ``status``/``VmRSS``
    (pages shared between processes, as after a fork, count in each) or
    ``smaps_rollup``/``Pss`` (a shared page counts once, split between its sharers)."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/{source}").read_text().splitlines()
        except OSError:  # the process ended while we looked
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith(f"{field}:")), 0)
    return total


def run_measured(cmd: list[str], every: float = 0.2,
                 samples: list[tuple[float, int, int]] | None = None) -> tuple[float, int, int, str, str]:
    """Run ``cmd``; wall seconds, peak RSS (KiB) of its process tree sampled every ``every``
    seconds, exit code, standard output and standard error. With ``samples``, each sample
    is appended to it: seconds since the start, RSS and PSS (KiB)."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while child.poll() is None:
        pids = _tree(child.pid)
        rss = _memory(pids, "status", "VmRSS")
        peak = max(peak, rss)
        if samples is not None:
            samples.append((time.perf_counter() - start, rss, _memory(pids, "smaps_rollup", "Pss")))
        time.sleep(every)
    out, err = child.communicate()
    return time.perf_counter() - start, peak, child.returncode, out, err


def stage_peaks(samples: list[tuple[float, int, int]], wall: float, seconds: dict[str, float]) -> dict[str, str]:
    """Peak RSS / PSS (MiB) of each stage of a ``dedup run``: the stages (``seconds``, in
    run order) are laid back to back so that the last ends when the run did (start-up
    comes before the first)."""
    peaks, end = {}, wall
    for stage, length in reversed(list(seconds.items())):
        inside = [(rss, pss) for at, rss, pss in samples if end - length <= at <= end] or [(0, 0)]
        peaks[stage] = f"{max(r for r, _ in inside) / 1024:,.0f} / {max(p for _, p in inside) / 1024:,.0f}"
        end -= length
    return dict(reversed(list(peaks.items())))


def have_data() -> bool:
    """Whether SaudiNewsNet is there; says so when it is not."""
    if not DATA.exists():
        print(f"{DATA} not found: nothing to measure")
    return DATA.exists()


def run(path: Path, workers: int | None, command: str, folder: Path) -> tuple[float, int, str]:
    """Run `dedup report` or `dedup run` on ``path``; wall seconds, peak RSS (KiB) of the
    process tree, and the summary line."""
    cmd = [sys.executable, "-m", "dedup.cli", command, str(path), "-q"]
    cmd += ["--limit", "0"] if command == "report" else ["--folder", str(folder)]
    if workers:
        cmd += ["--workers", str(workers)]
    wall, peak, code, out, err = run_measured(cmd)
    if code:
        raise RuntimeError(f"{command} failed: {err[-2000:]}")
    lines = out.splitlines() + err.splitlines()
    summary = next((line.strip(" │") for line in lines if " documents (" in line or "clusters (" in line), "")
    if command == "run":
        stages = json.loads((folder / "timings.json").read_text())
        summary += "; seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items())
    return wall, peak, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="31030", help="comma-separated document counts")
    parser.add_argument("--commands", default="report,run", help="report (in memory) and/or run (staged)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if not have_data():
        return 0
    print("| documents | command | wall s | docs/s | peak RSS MiB | summary |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(int, args.sizes.split(",")):
            path = Path(tmp) / f"dump-{size}.jsonl"
            write_dump(path, size)
            for command in args.commands.split(","):
                wall, peak, summary = run(path, args.workers, command, Path(tmp) / f"run-{size}")
                print(f"| {size:,} | {command} | {wall:.1f} | {size / wall:,.0f} | {peak / 1024:,.0f} | {summary} |",
                      flush=True)
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
