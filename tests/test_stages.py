"""The staged flow: the same result as the in-memory run, on any executor, and resumable."""

from __future__ import annotations

import json
import os
import random
import signal
from itertools import pairwise
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dedup
from dedup import Document, Settings
from dedup.engines import local_executor, staged_clusters
from dedup.stages import Plan, read_rows, run_stages

from test_variants import seeds_and_variants, with_provenance

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus(seed_docs) -> list[Document]:
    docs = seeds_and_variants(seed_docs)
    # A story, its lead (a quarter), and a text gluing that lead to half as much other text:
    # the lead is more like the glued text than like the story, which does not verify
    # against the glued text, so the chain guard leaves the story alone in a cluster of its
    # own, cut out of a larger component. (Words in reverse order: text no seed shares.)
    story = " ".join(dedup.strip(seed_docs[2].text).body.split()[::-1])
    other = " ".join(dedup.strip(seed_docs[3].text).body.split()[::-1])
    words = story.split(" ")
    lead = " ".join(words[: len(words) // 4])
    glued = lead + " " + " ".join(other.split(" ")[: len(words) // 2])
    docs += [Document("story", story), Document("lead", lead), Document("glued", glued)]
    random.Random(5).shuffle(docs)
    return with_provenance(docs, month=3)


@pytest.fixture(scope="module")
def expected(corpus) -> dedup.Result:
    return dedup.find_clusters(corpus, workers=1)


def _small_plan(folder: Path) -> Plan:
    """Many small tasks: several shards, partitions and pair chunks."""
    return Plan(folder, Settings(), shard_docs=6, partitions=3)


def test_the_corpus_has_a_component_cut_by_the_chain_guard(expected) -> None:
    cut = [c for c in expected.clusters if c.size == 1 and c.reason.startswith("most complete copy")]
    assert cut, "no single-member cluster cut out of a larger component"


def test_staged_run_equals_the_in_memory_run(corpus, expected) -> None:
    result = staged_clusters(corpus, Settings(), local_executor(2))
    assert result.clusters == expected.clusters
    assert dict(result.stripped) == dict(expected.stripped)
    assert result.stats == expected.stats


def test_rows_equal_the_report_rows(corpus, expected, tmp_path) -> None:
    from dedup.report.records import rows

    plan = _small_plan(tmp_path / "run")
    run_stages(plan, corpus, local_executor(1))
    assert list(read_rows(plan)) == list(rows(expected))


class _Crash(RuntimeError):
    pass


def _failing_after(limit: int):
    """An executor that runs ``limit`` tasks and then fails, like a killed run."""
    budget = {"left": limit}

    def run(function, arguments):
        results = []
        for a in arguments:
            if budget["left"] == 0:
                raise _Crash
            budget["left"] -= 1
            results.append(function(*a))
        return results

    return run


def _counting(calls: list):
    def run(function, arguments):
        calls.extend(function.__name__ for _ in arguments)
        return [function(*a) for a in arguments]

    return run


def test_an_interrupted_run_resumes_without_redoing_finished_tasks(corpus, expected, tmp_path) -> None:
    from dedup.report.records import rows

    folder = tmp_path / "run"
    whole: list[str] = []
    run_stages(_small_plan(tmp_path / "whole"), corpus, _counting(whole))
    with pytest.raises(_Crash):
        run_stages(_small_plan(folder), corpus, _failing_after(len(whole) // 2))
    resumed: list[str] = []
    run_stages(_small_plan(folder), corpus, _counting(resumed))
    assert list(read_rows(_small_plan(folder))) == list(rows(expected))
    assert len(whole) // 2 <= len(whole) - sum(1 for _ in resumed) + 1  # finished tasks were skipped
    # the same result again, with nothing left to run
    again: list[str] = []
    run_stages(_small_plan(folder), iter(()), _counting(again))
    assert list(read_rows(_small_plan(folder))) == list(rows(expected))


def test_a_folder_of_another_run_is_refused(corpus, tmp_path) -> None:
    run_stages(_small_plan(tmp_path / "run"), corpus[:5], local_executor(1))
    other = Plan(tmp_path / "run", Settings(ngram=4), shard_docs=6, partitions=3)
    with pytest.raises(ValueError, match="other settings"):
        run_stages(other, corpus[:5], local_executor(1))


def _write_jsonl(path: Path, docs: list[Document]) -> None:
    rows = [{"id": d.id, "text": d.text, "source": d.source, "date": d.date} for d in docs]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_killed_cli_runs_resume_to_the_uninterrupted_result(corpus, tmp_path) -> None:
    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, corpus)
    command = [sys.executable, "-m", "dedup.cli", "run", str(source), "-q", "--shard-docs", "3", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command + ["--folder", str(tmp_path / "whole")], check=True, env=env, capture_output=True)
    rng = random.Random(3)
    folder = tmp_path / "killed"
    for _ in range(3):
        child = subprocess.Popen(command + ["--folder", str(folder)], env=env, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 2.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
    subprocess.run(command + ["--folder", str(folder)], check=True, env=env, capture_output=True)
    whole = list(read_rows(Plan(tmp_path / "whole", Settings())))
    assert list(read_rows(Plan(folder, Settings()))) == whole
    assert len(whole) == len(corpus) + sum(1 for r in whole if r["parent_id"])


def test_cli_run_writes_rows_and_accounts_for_every_document(tmp_path) -> None:
    from click.testing import CliRunner

    from dedup.cli import main

    result = CliRunner().invoke(main, ["run", str(ROOT / "seeds"), "--folder", str(tmp_path / "run"), "-q",
                                       "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "documents 5 / embedded articles split out 3 / clustered 8 in 8 clusters" in result.output
    rows = [json.loads(line) for line in (tmp_path / "run" / "clusters.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and len({r["doc_id"] for r in rows}) == 8


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_report_leaves_nothing_partial(corpus, tmp_path, stop) -> None:
    source = tmp_path / "docs.jsonl"
    copies = [Document(f"{d.id}/{k}", d.text) for k in range(320) for d in corpus]  # a run of several times the 2 s wait
    _write_jsonl(source, copies)
    rows = tmp_path / "rows.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "dedup.cli", "report", str(source), "-q", "--format", "jsonl",
                              "-o", str(rows), "--workers", "1"], env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    child.send_signal(stop)
    _, err = child.communicate(timeout=60)
    assert child.returncode != 0, "the run finished before it was stopped"
    assert "Traceback" not in err
    assert not rows.exists() and not list(tmp_path.glob(".part-*"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_staged_run_cleans_up_and_resumes(corpus, tmp_path, stop) -> None:
    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, [Document(f"{d.id}/{k}", d.text) for k in range(60) for d in corpus])  # still signing when found
    command = [sys.executable, "-m", "dedup.cli", "run", str(source), "-q", "--shard-docs", "20", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    folder = tmp_path / "run"
    child = subprocess.Popen(command + ["--folder", str(folder)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(folder.glob("sign/docs-*")) and time.monotonic() < deadline:  # stop it while it signs
        time.sleep(0.05)
    child.send_signal(stop)
    _, err = child.communicate(timeout=120)
    assert child.returncode in (1, 128 + signal.SIGTERM), (child.returncode, err[-2000:])  # SIGINT: "Aborted!"
    assert "Traceback" not in err
    assert not list(folder.rglob(".part-*")) and not (folder / "clusters.parquet").exists()
    subprocess.run(command + ["--folder", str(folder)], env=env, check=True, capture_output=True)
    subprocess.run(command + ["--folder", str(tmp_path / "whole")], env=env, check=True, capture_output=True)
    assert list(read_rows(Plan(folder, Settings()))) == list(read_rows(Plan(tmp_path / "whole", Settings())))


def test_band_entries_are_grouped_by_band_and_key_in_row_order() -> None:
    import numpy as np

    from dedup.stages import _bucket_order

    rng = np.random.default_rng(5)
    n = 5000
    band = rng.integers(0, 6, n).astype(np.int8)
    key = rng.integers(0, 40, n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # many shared keys
    mix = np.uint64(0x9E3779B97F4A7C15)
    for collide in (False, True):
        if collide:  # two bands whose keys mix to one value: the order must still keep them apart
            band[:2] = (1, 2)
            mixed = np.array([1, 2], dtype=np.uint64) * mix  # what each band mixes into its keys
            key[1] = key[0] ^ mixed[0] ^ mixed[1]
        order, starts = _bucket_order(band, key)
        assert np.array_equal(np.sort(order), np.arange(n))
        bounds = np.append(np.flatnonzero(starts), n)
        groups = [order[lo:hi] for lo, hi in pairwise(bounds)]
        for g in groups:  # one (band, key) per group, its entries in row order
            assert (band[g] == band[g[0]]).all() and (key[g] == key[g[0]]).all() and (np.diff(g) > 0).all()
        assert len(groups) == len(set(zip(band.tolist(), key.tolist())))


def test_a_run_read_through_arrow_equals_the_in_memory_run(corpus, expected, tmp_path) -> None:
    pytest.importorskip("pyarrow")
    from dedup.io import read_batches
    from dedup.report.records import rows

    source = tmp_path / "in.jsonl"
    _write_jsonl(source, corpus)
    batches = list(read_batches(source))
    assert any(not isinstance(b, list) for b in batches)  # the Arrow path was taken
    plan = _small_plan(tmp_path / "run")
    run_stages(plan, batches, local_executor(1))
    assert list(read_rows(plan)) == list(rows(expected))


def _report(source: Path, *options: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from dedup.cli import main

    result = CliRunner().invoke(main, ["report", str(source), "-q", "--workers", "1", *options])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "parquet"])
def test_a_report_past_max_in_memory_runs_staged_with_the_same_output(corpus, tmp_path, fmt, monkeypatch) -> None:
    import dedup.cli

    pq = pytest.importorskip("pyarrow.parquet")
    staged: list[Plan] = []
    monkeypatch.setattr(dedup.cli, "run_stages", lambda plan, *a, **k: staged.append(plan) or run_stages(plan, *a, **k))
    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, corpus)
    outputs = []
    for limit in ("100000", str(len(corpus) // 2)):  # in memory, then staged
        out = tmp_path / f"report-{limit}.{fmt}"
        code, _, stderr = _report(source, "--format", fmt, "-o", str(out), "--max-in-memory", limit)
        assert code == 0, stderr
        assert len(staged) == (limit != "100000")
        outputs.append((pq.read_table(out).to_pylist() if fmt == "parquet" else out.read_text(encoding="utf-8"), stderr))
    assert len(staged) == 1 and not staged[0].folder.exists()  # its temporary folder is gone
    (memory, memory_err), (staged, staged_err) = outputs
    assert staged == memory
    assert staged_err == memory_err and f"accounting: read {len(corpus)} / skipped 0" in staged_err  # the same accounting


def test_a_report_past_max_in_memory_refuses_what_needs_every_text(corpus, tmp_path) -> None:
    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, corpus[:6])
    for options in (["--format", "html", "-o", str(tmp_path / "r.html")], ["--dedup-out", str(tmp_path / "d.jsonl")]):
        code, _, stderr = _report(source, "--max-in-memory", "5", *options)
        assert code == 2 and "more than 5 documents" in stderr and "--max-in-memory" in stderr
        assert not list(tmp_path.glob("r.html")) and not list(tmp_path.glob("d.jsonl"))


def test_without_pyarrow_a_large_report_stays_in_memory_and_says_so(corpus, tmp_path, monkeypatch) -> None:
    import importlib.util

    source = tmp_path / "docs.jsonl"
    _write_jsonl(source, corpus[:6])
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else find_spec(name, *a))
    code, stdout, stderr = _report(source, "--max-in-memory", "5", "--format", "jsonl")
    assert code == 0 and "the bounded-memory staged flow needs pyarrow" in stderr
    assert len([line for line in stdout.splitlines() if line.startswith("{")]) >= 6


def test_partitioned_entries_are_grouped_by_partition_in_their_order() -> None:
    from dedup.kernels import grouped_order

    rng = np.random.default_rng(5)
    for n, groups in ((0, 4), (1, 1), (50, 64), (20_000, 3), (20_000, 200)):  # some partitions empty
        part = rng.integers(0, groups, n)
        order, bounds = grouped_order(part, groups)
        assert np.array_equal(order, np.argsort(part, kind="stable"))
        assert np.array_equal(bounds, np.searchsorted(part[order], np.arange(groups + 1)))
