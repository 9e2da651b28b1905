"""Cluster accuracy on real Arabic wire reprints (SaudiNewsNet, hand-labelled pairs).

Runs ``dedup.find_clusters`` with default options over the whole corpus, predicts DUP
for a labelled pair when both ids land in one cluster, and prints precision, recall
and F1 (PARTIAL pairs are not scored), the cluster-size distribution and the ten
largest clusters. ``--errors`` lists every wrong pair with its exact scores; ``--set
KEY=VALUE`` (repeatable) overrides one :class:`dedup.Settings` field.

    python benchmarks/quality_arabic.py [--data DIR] [--errors] [--set common_df=20]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

import dedup
from dedup.minhash import MinHasher
from dedup.shingle import shingle
from dedup.verify import accepts, common_mask, score_pairs

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "saudinewsnet"


def load(data: Path) -> list[dedup.Document]:
    docs = []
    with gzip.open(data / "saudinewsnet.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            docs.append(
                dedup.Document(
                    id=r["id"], text=r["text"], source=r.get("source"), url=r.get("url"),
                    date=r.get("date_extracted"), meta={"title": r.get("title") or ""},
                )
            )
    return docs


def overrides(assignments: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` strings as :class:`dedup.Settings` options, each value of its field's type."""
    defaults = dedup.Settings()
    fields = {f.name for f in dataclasses.fields(defaults)}
    options: dict[str, object] = {}
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        if key not in fields:
            raise SystemExit(f"--set: unknown setting {key!r}")
        kind = type(getattr(defaults, key))
        options[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return options


def result_sets(result: dedup.Result, settings: dedup.Settings):
    """Shingle sets of every stripped body of ``result`` (for corpus frequencies)."""
    return shingle([s.body for s in result.stripped.values()], settings.ngram)


def diagnose(result: dedup.Result, wrong: list[dict], settings: dedup.Settings):
    """For each wrong pair: where the flow decided it (LSH, verification, chain guard)."""
    texts = [result.stripped[p[k]].body for p in wrong for k in ("a", "b")]
    sets = shingle(texts, settings.ngram)
    sigs = MinHasher(settings.num_perm, settings.seed).signatures(sets)
    keys = settings.bands.keys(sigs)
    pairs = np.arange(len(texts)).reshape(-1, 2)
    corpus = result_sets(result, settings)
    common = np.isin(sets.values, corpus.values[common_mask(corpus, settings.common_df)])
    sc = score_pairs(sets, pairs, common, settings.min_specific)
    edge = accepts(settings.thresholds, sets.sizes[pairs[:, 0]], sets.sizes[pairs[:, 1]], sc)
    for k, p in enumerate(wrong):
        if p["label"] == "NOT":
            stage = "merged: direct edge" if edge[k] else "merged: through the cluster"
        elif not (keys[2 * k] == keys[2 * k + 1]).any():
            stage = "missed: no LSH candidate"
        elif not edge[k]:
            stage = "missed: below thresholds"
        else:
            stage = "missed: split by chain guard"
        scores = f"J={sc.jaccard[k]:.2f} C={sc.containment[k]:.2f} S={sc.specific[k]:.2f} sizes={sets.sizes[2 * k]}/{sets.sizes[2 * k + 1]}"
        yield p, stage, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pairs", default="pairs-dev.jsonl")
    parser.add_argument("--errors", action="store_true", help="list every wrong pair")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one Settings field (repeatable)")
    args = parser.parse_args()
    options = overrides(args.set)
    if not (args.data / "saudinewsnet.jsonl.gz").exists():
        print(f"SaudiNewsNet not found under {args.data}: nothing to measure")
        return 0
    docs = load(args.data)
    by_id = {d.id: d for d in docs}
    pairs = [json.loads(line) for line in open(args.data / args.pairs, encoding="utf-8")]

    start = time.perf_counter()
    result = dedup.find_clusters(docs, **options)
    elapsed = time.perf_counter() - start
    cluster_of = {m.doc_id: c.id for c in result.clusters for m in c.members}
    assert len(cluster_of) == len(result.documents), "a document is missing from the clusters"

    tp = fp = fn = tn = 0
    wrong = []
    for p in pairs:
        if p["label"] == "PARTIAL":
            continue
        same = cluster_of[p["a"]] == cluster_of[p["b"]]
        gold = p["label"] == "DUP"
        tp += same and gold
        fp += same and not gold
        fn += gold and not same
        tn += not gold and not same
        if same != gold:
            wrong.append(p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    if options:
        print(f"settings overridden: {options}")
    print(f"documents {len(result.documents)}  clusters {len(result.clusters)}  "
          f"in duplicate clusters {result.duplicates}  time {elapsed:.1f}s ({len(docs) / elapsed:.0f} docs/s)")
    print(f"stats {dict(result.stats)}")
    print()
    print("| pairs | TP | FP | FN | TN | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {tp + fp + fn + tn} | {tp} | {fp} | {fn} | {tn} | {precision:.3f} | {recall:.3f} | {f1:.3f} |")
    print()
    sizes = Counter(c.size for c in result.clusters)
    buckets = [(1, 1), (2, 2), (3, 5), (6, 10), (11, 40), (41, 10**9)]
    print("| cluster size | clusters |")
    print("|---|---|")
    for lo, hi in buckets:
        label = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi < 10**9 else f">{lo - 1}")
        print(f"| {label} | {sum(n for s, n in sizes.items() if lo <= s <= hi)} |")
    print()
    print("ten largest clusters:")
    for c in result.clusters[:10]:
        worst = min(m.similarity for m in c.members)
        titles = Counter(by_id[m.doc_id].meta.get("title", "")[:60] for m in c.members).most_common(2)
        print(f"  #{c.id} size {c.size} min-sim {worst:.2f} canonical {c.canonical.id}: {titles}")
    if args.errors and wrong:
        print()
        print("wrong pairs: label, stage, exact scores on the stripped bodies, annotator's reason")
        for p, stage, scores in diagnose(result, wrong, dedup.Settings(**options)):
            print(f"  {p['label']} {p['a']} {p['b']} [{stage}] {scores}  {p['reason'][:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
