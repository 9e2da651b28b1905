from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

SEEDS = str(Path(__file__).resolve().parent.parent / "seeds")


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_text_report_of_the_seeds() -> None:
    result = _run("report", SEEDS)
    assert result.exit_code == 0
    # five articles plus the three embedded articles of 000, 001 and 002, all singletons
    assert "8 documents (3 embedded), 8 clusters, 0 documents in duplicate clusters" in result.output
    for parent in ("000_e8569455e6ecdef4", "001_d5e7333eea537f51", "002_61762e02e1598835"):
        assert f"{parent}#embedded-1 [embedded in {parent}]" in result.output
    assert "accounting: read 5 / skipped 0 / embedded articles split out 3 / clustered 8" in result.output


def test_jsonl_lists_each_seed_once() -> None:
    result = _run("report", SEEDS, "--format", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    seeds = sorted(p.stem for p in Path(SEEDS).glob("*.txt"))
    assert sorted(r["doc_id"] for r in rows if r["parent_id"] is None) == seeds
    assert len({r["doc_id"] for r in rows}) == len(rows)
    assert {r["cluster_size"] for r in rows} == {1}
    children = {r["doc_id"]: r["parent_id"] for r in rows if r["parent_id"]}
    assert children == {f"{p}#embedded-1": p for p in seeds[:3]}


def test_csv_output_to_file(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = _run("report", SEEDS, "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) >= 5 and set(rows[0]) >= {"doc_id", "cluster_id", "is_canonical", "similarity", "cluster_size"}


def test_duplicates_are_reported(tmp_path: Path) -> None:
    text = (Path(SEEDS) / "003_df182bad050e92d5.txt").read_text(encoding="utf-8")
    lines = [json.dumps({"id": "a", "text": text}), json.dumps({"id": "b", "text": text[: len(text) * 2 // 3]})]
    (tmp_path / "x.jsonl").write_text("\n".join(lines), encoding="utf-8")
    result = _run("report", str(tmp_path / "x.jsonl"), "--format", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {r["cluster_size"] for r in rows} == {2}
    assert [r["doc_id"] for r in rows if r["is_canonical"]] == ["a"]


def test_bad_line_fails_clearly_or_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"id": "a", "text": "x"}\nnot json\n', encoding="utf-8")
    failed = CliRunner().invoke(main, ["report", str(tmp_path / "x.jsonl")])
    assert failed.exit_code != 0
    assert "x.jsonl:2: malformed JSON" in failed.output
    skipped = _run("report", str(tmp_path / "x.jsonl"), "--skip-bad")
    assert skipped.exit_code == 0
    assert "skipped 1 (malformed JSON: 1)" in skipped.output


@pytest.mark.parametrize(("stop", "code"), [(SystemExit(143), 143), (KeyboardInterrupt(), 1)])
def test_a_stop_wrapped_by_compiled_code_exits_cleanly(monkeypatch, capsys, stop, code) -> None:
    # a signal that lands while numba runs arrives wrapped in a SystemError
    import dedup.cli

    def wrapped() -> None:
        try:
            raise stop
        except BaseException as err:
            raise SystemError("returned a result with an exception set") from err

    monkeypatch.setattr(dedup.cli, "main", wrapped)
    monkeypatch.setattr(dedup.cli.signal, "signal", lambda *args: None)
    with pytest.raises(SystemExit) as exited:
        dedup.cli.entry()
    assert exited.value.code == code
    assert "Traceback" not in capsys.readouterr().err
