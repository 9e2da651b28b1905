"""End-to-end scale: `dedup report` on SaudiNewsNet and on a generated dump of near-copies.

The generated dump replicates SaudiNewsNet with edits (truncations, word swaps, re-spellings)
so that it holds real clusters. For each size it runs the CLI in a child process and prints
wall time, documents/s, peak RSS of the child, and the cluster count.

    python benchmarks/bench_scale.py [--sizes 31030,1000000] [--workers N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
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


def run(path: Path, workers: int | None) -> tuple[float, int, str]:
    """Run `dedup report` on ``path``; wall seconds, peak child RSS (KiB) and the summary line."""
    cmd = [sys.executable, "-m", "dedup.cli", "report", str(path), "-q", "--limit", "0"]
    if workers:
        cmd += ["--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = next((line.strip(" │") for line in done.stdout.splitlines() if " documents (" in line), "")
    return wall, peak, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="31030", help="comma-separated document counts")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"{DATA} not found: nothing to measure")
        return 0
    print("| documents | wall s | docs/s | peak RSS MiB | report |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(int, args.sizes.split(",")):
            path = Path(tmp) / f"dump-{size}.jsonl"
            write_dump(path, size)
            wall, peak, summary = run(path, args.workers)
            print(f"| {size:,} | {wall:.1f} | {size / wall:,.0f} | {peak / 1024:,.0f} | {summary} |", flush=True)
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
