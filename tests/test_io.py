"""Every bad-input case: a clear error naming file:line, or a counted skip."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from dedup import Fields, InputError, ReadStats, read_documents


def _jsonl(path: Path, lines: list[str | bytes]) -> Path:
    with open(path, "wb") as fh:
        for line in lines:
            fh.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


def _good(i: int) -> str:
    return json.dumps({"id": f"d{i}", "text": f"نص رقم {i}"}, ensure_ascii=False)


def test_reads_jsonl_gz_csv_txt_and_folders(tmp_path: Path) -> None:
    _jsonl(tmp_path / "a.jsonl", [_good(1), "", _good(2)])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(_good(3) + "\n")
    (tmp_path / "c.csv").write_text('id,text\nd4,"سطر\nثان"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d5.txt").write_text("نص", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a dump")
    stats = ReadStats()
    docs = list(read_documents(tmp_path, stats=stats))
    assert [d.id for d in docs] == ["d1", "d2", "d3", "d4", "d5"]
    assert docs[3].text == "سطر\nثان"
    assert stats.read == 5 and stats.ignored_files == [str(tmp_path / "notes.md")]


def test_field_names_are_configurable(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [json.dumps({"key": 7, "body": "b", "source": "spa", "title": "t"})])
    (doc,) = read_documents(path, fields=Fields(id="key", text="body"))
    assert (doc.id, doc.text, doc.source, doc.meta) == ("7", "b", "spa", {"title": "t"})


def test_malformed_line_stops_with_file_and_line(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [_good(1), '{"id": "d2", "text": ', _good(3)])
    with pytest.raises(InputError, match=r"x\.jsonl:2: malformed JSON"):
        list(read_documents(path))


def test_malformed_line_is_skipped_and_counted(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [_good(1), "{oops", "[1, 2]", _good(3)])
    stats = ReadStats()
    docs = list(read_documents(path, on_error="skip", stats=stats))
    assert [d.id for d in docs] == ["d1", "d3"]
    assert stats.skipped == {"malformed JSON": 1, "not an object": 1}
    assert "skipped 2 (malformed JSON: 1, not an object: 1)" in stats.summary()


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    bad = b'{"id": "d1", "text": "caf\xe9 \xff"}'
    path = _jsonl(tmp_path / "x.jsonl", [bad, _good(2)])
    stats = ReadStats()
    docs = list(read_documents(path, stats=stats))
    assert docs[0].text == "caf\ufffd \ufffd"
    assert stats.invalid_utf8 == 1
    assert "invalid UTF-8 repaired in 1" in stats.summary()


def test_invalid_utf8_in_txt_is_counted(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"ok \xff")
    stats = ReadStats()
    (doc,) = read_documents(tmp_path / "a.txt", stats=stats)
    assert doc.text == "ok \ufffd" and stats.invalid_utf8 == 1


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [_good(1), _good(1)])
    with pytest.raises(InputError, match=r"x\.jsonl:2: duplicate id: 'd1' was first seen at .*x\.jsonl:1"):
        list(read_documents(path))


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    a = _jsonl(tmp_path / "a.jsonl", [_good(1)])
    b = _jsonl(tmp_path / "b.jsonl", [_good(1)])
    stats = ReadStats()
    assert len(list(read_documents([a, b], on_error="skip", stats=stats))) == 1
    assert stats.skipped == {"duplicate id": 1}


def test_missing_text_field_names_the_field(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [json.dumps({"id": "d1", "body": "x"})])
    with pytest.raises(InputError, match=r"x\.jsonl:1: missing text field: 'text'"):
        list(read_documents(path))


def test_non_string_text_and_missing_id(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", [json.dumps({"id": "d1", "text": 5}), json.dumps({"text": "x"})])
    with pytest.raises(InputError, match="text not a string"):
        list(read_documents(path))
    stats = ReadStats()
    assert list(read_documents(path, on_error="skip", stats=stats)) == []
    assert stats.skipped == {"text not a string": 1, "missing id field": 1}


def test_missing_path_and_unknown_file_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(read_documents(tmp_path / "nope.jsonl"))
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="unknown file type"):
        list(read_documents(tmp_path / "a.pdf"))


def test_on_error_must_be_known() -> None:
    with pytest.raises(ValueError):
        list(read_documents("seeds", on_error="ignore"))


def test_jsonl_zst_is_streamed(tmp_path: Path) -> None:
    data = ("\n".join(_good(i) for i in range(3)) + "\n").encode()
    (tmp_path / "x.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    assert [d.id for d in read_documents(tmp_path / "x.jsonl.zst")] == ["d0", "d1", "d2"]


def test_parquet_rows_are_documents(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": ["a", "b"], "text": ["نص أول", "نص ثان"], "source": ["spa", None]})
    pq.write_table(table, tmp_path / "x.parquet")
    docs = list(read_documents(tmp_path / "x.parquet"))
    assert [(d.id, d.text, d.source) for d in docs] == [("a", "نص أول", "spa"), ("b", "نص ثان", None)]


def test_parquet_with_the_wrong_schema_names_the_column(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "x.parquet")
    with pytest.raises(InputError, match=r"x\.parquet: Parquet file has no column 'text'"):
        list(read_documents(tmp_path / "x.parquet"))
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(read_documents(tmp_path / "broken.parquet"))


def test_every_format_gives_the_same_clusters(tmp_path: Path, seed_docs) -> None:
    from dedup import find_clusters

    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [{"id": d.id, "text": d.text} for d in seed_docs]
    _jsonl(tmp_path / "a.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    import csv

    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text"])
        writer.writeheader()
        writer.writerows(rows)
    results = []
    for name in ("a.jsonl", "a.parquet", "a.csv"):
        result = find_clusters(read_documents(tmp_path / name), workers=1)
        results.append([(c.canonical.id, tuple(m.doc_id for m in c.members)) for c in result.clusters])
    in_memory = find_clusters(seed_docs, workers=1)
    assert results[0] == results[1] == results[2] == [
        (c.canonical.id, tuple(m.doc_id for m in c.members)) for c in in_memory.clusters
    ]


def test_truncated_gzip_names_the_file_and_line(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(_good(i) for i in range(2000)) + "\n").encode())
    (tmp_path / "x.jsonl.gz").write_bytes(data[: len(data) // 2])
    stats = ReadStats()
    with pytest.raises(InputError, match=r"x\.jsonl\.gz:\d+: cannot read past this line"):
        for _ in read_documents(tmp_path / "x.jsonl.gz", stats=stats):
            pass
    assert stats.read > 0  # what was readable came through first


def test_empty_file_gives_no_documents(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_bytes(b"")
    stats = ReadStats()
    assert list(read_documents(tmp_path / "x.jsonl", stats=stats)) == [] and stats.read == 0


def test_atomic_path_leaves_nothing_partial(tmp_path: Path) -> None:
    from dedup.io import atomic_path

    target = tmp_path / "report.jsonl"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temp:
            temp.write_text("half a report")
            raise KeyboardInterrupt
    assert not target.exists() and list(tmp_path.iterdir()) == []
    target.write_text("old")
    with atomic_path(target) as temp:
        assert temp.name.endswith("report.jsonl")  # format detection by suffix still works
        temp.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_on_error_skip_writes_every_skipped_record(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import main

    path = _jsonl(tmp_path / "x.jsonl", [_good(1), "{oops", json.dumps({"id": "d2"}), _good(1), _good(3)])
    errors = tmp_path / "errors.jsonl"
    result = CliRunner().invoke(main, ["report", str(path), "-q", "--on-error", "skip", "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    assert "skipped 3 (duplicate id: 1, malformed JSON: 1, missing text field: 1)" in result.output
    rows = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [r["location"].rsplit(":", 1)[1] for r in rows] == ["2", "3", "4"]
    assert rows[0]["problem"].startswith("malformed JSON")
    failed = CliRunner().invoke(main, ["report", str(path), "-q"])
    assert failed.exit_code != 0 and "x.jsonl:2: malformed JSON" in failed.output


# -- Arrow's JSON reader (read_batches) gives what the line-by-line reader gives --------

_LINES = [  # each a case where Arrow's reader and json.loads line by line could part ways
    '{"id": "a1", "text": "نص عربي", "source": "spa", "date": "2015-01-02 10:00:00"}',  # a date Arrow would type
    '{"id": 12, "text": "int id"}',
    '{"id": "b1", "text": "x", "source": ""}',  # empty provenance is no provenance
    '{"id": "c1", "text": "x", "title": "extra field: meta"}',
    '{"id": "c2", "text": "x\\ud800y"}',  # a lone surrogate
    '{"id": "c3", "text": "esc \\/ \\" \\\\ \\t \\u00e9 \\ud83d\\ude00"}',
    '{"id": "c4", "text": "one"}{"id": "c5", "text": "two on a line"}',
    '{"id": "c6",',  # an object over two lines
    '"text": "rest"}',
    '{"id": "c7", "text": "and"}{"id": "c8", "text": "together"}\n{"id": "c9",\n"text": "as many rows as lines"}',
    "",
    "   ",
    '{"id": "", "text": "empty id"}',
    '{"id": "e1"}',
    '{"id": "e2", "text": 5}',
    '{"id": "a1", "text": "duplicate id"}',
    '{"id": "e3", "text": "nan", "source": NaN}',
    "[1, 2]",
    '{"id": "d1", "text": "crlf line"}\r',
    '{"id": "d2", "text": "dup key", "text": "second"}',
]


def _clean(i: int) -> str:
    return json.dumps({"id": f"k{i}", "text": f"نص رقم {i} " * 20, "source": "site"}, ensure_ascii=False)


def _read_both(path: Path, **options) -> tuple[list, ReadStats, list, ReadStats, int]:
    """Documents and stats from read_documents and from read_batches (flattened), and how
    many of read_batches' batches were Arrow tables."""
    from dedup.io import read_batches, table_documents

    slow, fast = ReadStats(), ReadStats()
    docs = list(read_documents(path, stats=slow, **options))
    batches = list(read_batches(path, stats=fast, **options))
    flat = [d for b in batches for d in (b if isinstance(b, list) else table_documents(b))]
    return docs, slow, flat, fast, sum(not isinstance(b, list) for b in batches)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_arrow_batches_equal_line_by_line_reading(tmp_path: Path, monkeypatch, suffix: str) -> None:
    pytest.importorskip("pyarrow")
    import dedup.io

    monkeypatch.setattr(dedup.io, "_CHUNK_BYTES", 4096)  # many chunks: clean ones, and ones with each odd line
    monkeypatch.setattr(dedup.io, "_PIECE_BYTES", 1024)
    lines = []
    for k, odd in enumerate([*_LINES, b'{"id": "u1", "text": "bad \xff utf-8"}']):
        lines += [_clean(30 * k + j) for j in range(30)] + [odd]  # chunks of ~10 lines: one odd at most
    lines += [_clean(1000 + j) for j in range(30)]
    path = tmp_path / f"x{suffix}"
    data = b"".join((x.encode() if isinstance(x, str) else x) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    docs, slow, flat, fast, tables = _read_both(path, on_error="skip")
    assert flat == docs and len(docs) > 600
    assert (fast.read, fast.skipped, fast.errors, fast.invalid_utf8) == (slow.read, slow.skipped, slow.errors, slow.invalid_utf8)
    assert slow.invalid_utf8 == 1 and sum(slow.skipped.values()) >= 8
    assert tables > 30  # clean chunks did go through Arrow


def test_arrow_batches_stop_where_line_by_line_reading_stops(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from dedup.io import read_batches

    path = _jsonl(tmp_path / "x.jsonl", [_clean(1), _clean(2), _clean(1)])
    with pytest.raises(InputError) as slow:
        list(read_documents(path))
    with pytest.raises(InputError) as fast:
        list(read_batches(path))
    assert str(fast.value) == str(slow.value) == f"{path}:3: duplicate id: 'k1' was first seen at {path}:1"


def test_staged_shards_from_arrow_batches_equal_those_from_documents(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from dedup import Settings
    from dedup.io import read_batches
    from dedup.stages import Plan, _raw_documents, write_shards

    path = _jsonl(tmp_path / "x.jsonl", [_clean(i) for i in range(25)] + [_LINES[3]] + [_clean(i) for i in range(25, 50)])
    shards = []
    for name, documents in (("docs", read_documents(path)), ("batches", read_batches(path))):
        plan = Plan(tmp_path / name, Settings(), shard_docs=7)
        count, _ = write_shards(plan, documents)
        shards.append([d for k in range(count) for d in _raw_documents(plan, k)])
        assert count == 8
    assert shards[0] == shards[1] == list(read_documents(path))


_LOOKUPS_WHILE_CONVERTING = """
import sys
import dedup.io
pa = dedup.io.arrow()
found = []
class Log:  # records every module lookup
    def find_spec(self, name, path=None, target=None):
        found.append(name)
sys.meta_path.insert(0, Log())
pa.table({"a": [1], "b": ["x"]})
pa.array([1.5])
print(found)
"""


def test_pyarrow_converts_without_looking_for_modules() -> None:
    """pyarrow swallows an exception raised while it looks for an optional module (pandas,
    dateutil), so a Ctrl-C or SIGTERM landing then was lost; it tried again at every
    conversion when the module was missing. After ``io.arrow()`` it looks for none."""
    pytest.importorskip("pyarrow")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", _LOOKUPS_WHILE_CONVERTING], capture_output=True, text=True, env=env, check=False,
                          timeout=120)
    assert done.stdout.strip() == "[]", (done.stdout, done.stderr[-2000:])
