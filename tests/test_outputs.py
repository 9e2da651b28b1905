"""Machine outputs round-trip through json, csv and pyarrow with the documented schema."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main
from dedup.report import COLUMNS

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seed_docs) -> Path:
    from test_variants import variants

    path = tmp_path_factory.mktemp("in") / "dump.jsonl"
    docs = list(seed_docs) + [v for s in seed_docs[3:] for v in variants(s)]
    path.write_text("\n".join(json.dumps({"id": d.id, "text": d.text, "source": "portal.example"}, ensure_ascii=False)
                              for d in docs), encoding="utf-8")
    return path


def _report(corpus: Path, *args: str):
    result = CliRunner().invoke(main, ["report", str(corpus), "-q", "--workers", "1", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_jsonl_schema(corpus, tmp_path) -> None:
    _report(corpus, "--format", "jsonl", "-o", str(tmp_path / "r.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(tuple(r) == COLUMNS for r in rows)
    assert len({r["doc_id"] for r in rows}) == len(rows)
    assert {r["source"] for r in rows} == {"portal.example"}
    assert all(r["stripped_chars"] >= 0 for r in rows)


def test_csv_schema(corpus, tmp_path) -> None:
    _report(corpus, "--format", "csv", "-o", str(tmp_path / "r.csv"))
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    jsonl = _report(corpus, "--format", "jsonl").stdout.splitlines()
    assert [r["doc_id"] for r in rows] == [json.loads(line)["doc_id"] for line in jsonl if line.startswith("{")]


def test_parquet_schema(corpus, tmp_path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    _report(corpus, "--format", "parquet", "-o", str(tmp_path / "r.parquet"))
    table = pq.read_table(tmp_path / "r.parquet")
    assert tuple(table.column_names) == COLUMNS
    assert str(table.schema.field("cluster_id").type) == "int64"
    assert str(table.schema.field("differs").type.value_type) == "string"
    rows = table.to_pylist()
    assert sum(r["is_canonical"] for r in rows) == len({r["cluster_id"] for r in rows})


def test_parquet_needs_an_output_file(corpus) -> None:
    result = CliRunner().invoke(main, ["report", str(corpus), "-q", "--format", "parquet"])
    assert result.exit_code != 0 and "needs -o" in result.output


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".csv", ".parquet"])
def test_dedup_out_keeps_one_document_per_cluster(corpus, tmp_path, suffix) -> None:
    from dedup import read_documents

    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"dedup{suffix}"
    rows = [json.loads(line) for line in _report(corpus, "--format", "jsonl", "--dedup-out", str(out)).stdout.splitlines()
            if line.startswith("{")]
    kept = list(read_documents(out))
    canonicals = [r["doc_id"] for r in rows if r["is_canonical"]]
    assert [d.id for d in kept] == canonicals
    assert len(kept) < len(rows)  # the variants collapsed
    assert all(d.source == "portal.example" for d in kept)
