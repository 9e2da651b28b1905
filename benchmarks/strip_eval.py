"""Evaluate the boilerplate stripper.

    python benchmarks/strip_eval.py [--sets seeds,scrapinghub,...] [--limit N] [--snn-sample N]
                                    [--no-templates] [--data DIR]

Score: per-document token 4-gram shingle precision / recall / F1 between the stripped body and
the gold main text, averaged over documents. Tokens are Unicode word runs (``\\w+``, lower-cased);
each Han / kana character is a token of its own. Both shingle sets empty -> 1.0; one empty -> 0.0;
a text of fewer than 4 tokens uses its token set instead of 4-grams.

Sets
* ``seeds``: the five seed dumps (``seeds/`` of the repository, else ``../shared/seeds``); gold =
  hand labels in ``tests/fixtures/strip/NNN.body.txt``; ``emb-leak`` = share of seeds whose body
  still contains a 4-gram of the embedded article that the gold body does not contain.
* each ``<data>/boilerplate/*.jsonl.gz`` (``source=site``, ``lang=lang``); templates are learned
  per set over documents grouped by ``site`` (``--no-templates`` to disable).
* ``saudinewsnet``: clean articles; reports the share of characters removed and the number of
  documents losing more than 10 %, with the ids of the first ten (whole corpus unless
  ``--snn-sample N``, a fixed seeded sample).
``raw-F1`` is the score of the unstripped text. ``docs/s`` is strip() throughput on one core.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import regex as re

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dedup.boilerplate import learn_templates, strip  # noqa: E402
from dedup.model import Document  # noqa: E402

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOK = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
BOILER_SETS = ["scrapinghub", "dragnet", "cleaneval-dev", "readability", "daniel-greek", "daniel-russian"]
LANGS = {"greek": "el", "russian": "ru", "arabic": "ar", "english": "en"}


def tokens(s: str) -> list[str]:
    return [t.lower() for t in _TOK.findall(s)]


def shingles(s: str, n: int = 4) -> set:
    t = tokens(s)
    if len(t) < n:
        return {(x,) for x in t}
    return {tuple(t[i:i + n]) for i in range(len(t) - n + 1)}


def prf(pred: str, gold: str) -> tuple[float, float, float]:
    a, b = shingles(pred), shingles(gold)
    if not a and not b:
        return 1.0, 1.0, 1.0
    if not a or not b:
        return 0.0, 0.0, 0.0
    inter = len(a & b)
    p, r = inter / len(a), inter / len(b)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def load_jsonl_gz(path: Path, limit: int | None) -> list[dict]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def run_boiler(name: str, rows: list[dict], use_templates: bool) -> dict:
    docs = [Document(id=str(r["id"]), text=r["text"], source=r.get("site")) for r in rows]
    tpl = learn_templates(docs) if use_templates else None
    res = []
    t0 = time.perf_counter()
    for r in rows:
        lang = r.get("lang")
        lang = LANGS.get(str(lang).lower(), lang)
        res.append(strip(r["text"], source=r.get("site"), lang=lang, templates=tpl, doc_id=str(r["id"])))
    dt = time.perf_counter() - t0
    scores = [prf(s.body, r["gold"]) for s, r in zip(res, rows)]
    raw = [prf(r["text"], r["gold"])[2] for r in rows]
    n = len(rows)
    return {"set": name, "n": n, "P": sum(x[0] for x in scores) / n, "R": sum(x[1] for x in scores) / n,
            "F1": sum(x[2] for x in scores) / n, "raw": sum(raw) / n, "leak": None, "dps": n / dt if dt else 0}


def seed_dir() -> Path | None:
    for d in (ROOT / "seeds", ROOT.parent / "shared" / "seeds"):
        if d.is_dir() and list(d.glob("*.txt")):
            return d
    return None


def run_seeds() -> dict | None:
    d = seed_dir()
    fx = ROOT / "tests" / "fixtures" / "strip"
    if d is None:
        print("seeds: no seed files found", file=sys.stderr)
        return None
    scores, raw, leaks, n_emb, dt = [], [], 0, 0, 0.0
    for f in sorted(d.glob("*.txt")):
        sid = f.name[:3]
        gold_p = fx / f"{sid}.body.txt"
        if not gold_p.exists():
            continue
        text = f.read_text(encoding="utf-8")
        gold = gold_p.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        s = strip(text, doc_id=sid)
        dt += time.perf_counter() - t0
        scores.append(prf(s.body, gold))
        raw.append(prf(text, gold)[2])
        emb_p = fx / f"{sid}.embedded.txt"
        if emb_p.exists():
            n_emb += 1
            own = shingles(emb_p.read_text(encoding="utf-8")) - shingles(gold)
            if shingles(s.body) & own:
                leaks += 1
    n = len(scores)
    return {"set": "seeds", "n": n, "P": sum(x[0] for x in scores) / n, "R": sum(x[1] for x in scores) / n,
            "F1": sum(x[2] for x in scores) / n, "raw": sum(raw) / n, "leak": leaks / max(1, n),
            "dps": n / dt if dt else 0}


def run_snn(path: Path, sample: int | None, limit: int | None) -> dict:
    rows = load_jsonl_gz(path, None)
    label = "all"
    if sample and sample < len(rows):
        rows = random.Random(13).sample(rows, sample)
        label = f"sample {sample}"
    if limit:
        rows = rows[:limit]
        label = f"first {limit}"
    total = removed = 0
    over: list[str] = []
    t0 = time.perf_counter()
    for r in rows:
        text = r["text"]
        s = strip(text, doc_id=str(r["id"]))
        rem = len(text) - len(s.body)
        total += len(text)
        removed += rem
        if text and rem > 0.10 * len(text):
            over.append(str(r["id"]))
    dt = time.perf_counter() - t0
    return {"set": f"saudinewsnet ({label})", "n": len(rows), "removed": removed / max(1, total),
            "over10": over, "dps": len(rows) / dt if dt else 0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="seeds," + ",".join(BOILER_SETS) + ",saudinewsnet")
    ap.add_argument("--limit", type=int, default=None, help="at most N documents per set")
    ap.add_argument("--snn-sample", type=int, default=None, help="fixed random sample of SaudiNewsNet")
    ap.add_argument("--no-templates", action="store_true")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    a = ap.parse_args(argv)
    sets = [s.strip() for s in a.sets.split(",") if s.strip()]
    data = Path(a.data)
    if not data.is_dir():
        print(f"data directory {data} is absent: running the seeds only")
        sets = [s for s in sets if s == "seeds"]
    print(f"{'set':<26}{'n':>6}{'raw-F1':>8}{'P':>7}{'R':>7}{'F1':>7}{'emb-leak':>9}{'docs/s':>9}")
    for name in sets:
        if name == "seeds":
            r = run_seeds()
        elif name == "saudinewsnet":
            p = data / "saudinewsnet" / "saudinewsnet.jsonl.gz"
            if not p.exists():
                print(f"{name}: {p} absent")
                continue
            r = run_snn(p, a.snn_sample, a.limit)
            print(f"{r['set']:<26}{r['n']:>6}  removed {100 * r['removed']:.3f}% of chars, "
                  f"{len(r['over10'])} docs lose >10%{r['dps']:>9.0f}")
            if r["over10"]:
                print(f"  losing >10%: {', '.join(r['over10'][:10])}")
            continue
        else:
            p = data / "boilerplate" / f"{name}.jsonl.gz"
            if not p.exists():
                print(f"{name}: {p} absent")
                continue
            r = run_boiler(name, load_jsonl_gz(p, a.limit), not a.no_templates)
        if r is None:
            continue
        leak = "-" if r["leak"] is None else f"{r['leak']:.2f}"
        print(f"{r['set']:<26}{r['n']:>6}{r['raw']:>8.3f}{r['P']:>7.3f}{r['R']:>7.3f}{r['F1']:>7.3f}"
              f"{leak:>9}{r['dps']:>9.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
