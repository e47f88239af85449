"""RawFileReader over a drop mixing good and bad files: documents with stable ids and sources, and a
quarantine manifest that lists every bad file and broken record with its reason."""
import json
import pickle

import pytest
from datatrove.data import Document

from refinery.extract import ExtractOptions, RawFileReader
from tests import builders

DROP = "2026-11-01"


@pytest.fixture
def raw(tmp_path):
    """raw/2026-11-01/{good,bad}/... and a second drop that must not be read."""
    root = tmp_path / "raw"
    good, bad = root / DROP / "good", root / DROP / "bad"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    for build in builders.GOOD:
        build(good)
    for build in builders.BAD:
        build(bad)
    builders.nested_html(bad)
    (root / "2026-11-08").mkdir()
    builders.markdown(root / "2026-11-08")
    return root


@pytest.fixture
def bad_reasons(tmp_path):
    """{file name: reason} for builders.BAD."""
    d = tmp_path / "names"
    d.mkdir()
    return {build(d).name: reason for build, reason in builders.BAD.items()}


def run(reader, **kwargs):
    return list(reader.run(**kwargs))


def manifest(folder):
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.read_text().splitlines()]


def test_good_documents_and_quarantine_manifest(raw, bad_reasons, tmp_path):
    quarantine = tmp_path / "quarantine"
    reader = RawFileReader(str(raw), str(quarantine), prefix=DROP)
    docs = {d.id: d for d in run(reader)}

    g = f"{DROP}/good"
    single = ["maintenance.html", "handbook.pdf", "report.docx", "deck.pptx", "plan.xlsx", "notes.md",
              "cafe.txt", "gruesse.txt"]
    expected = {f"{g}/{n}" for n in single} | {f"{g}/articles.json#0", f"{g}/articles.json#1"} | {
        f"{g}/tickets.jsonl#{line}" for line in (1, 2, 4, 5)}
    assert set(docs) == expected
    for doc_id, doc in docs.items():
        assert doc.metadata["source"] == doc_id.split("#")[0] and doc.text.strip()
    assert docs[f"{g}/handbook.pdf"].metadata["pages"] == 3 and docs[f"{g}/deck.pptx"].metadata["format"] == "pptx"
    assert docs[f"{g}/tickets.jsonl#5"].text == "Support ticket number 4 was resolved."
    assert "café de José" in docs[f"{g}/cafe.txt"].text

    rows = manifest(quarantine)
    assert [p.name for p in quarantine.iterdir()] == ["00000.jsonl"]
    files = {r["source"]: r["reason"] for r in rows if "line" not in r and "index" not in r}
    assert files.pop(f"{DROP}/bad/nested.html") == "too_deeply_nested"
    assert files == {f"{DROP}/bad/{name}": reason for name, reason in bad_reasons.items()}
    records = [(r["source"], r["reason"], r.get("line"), r.get("index")) for r in rows if "line" in r or "index" in r]
    assert sorted(records, key=str) == sorted([(f"{g}/tickets.jsonl", "invalid_json_line", 3, None),
                                               (f"{g}/articles.json", "missing_text_field", None, 2)], key=str)
    assert all(set(r) >= {"source", "reason", "error", "bytes"} for r in rows if "line" not in r and "index" not in r)

    stats = reader.stats.stats
    assert stats["files"].total == len(builders.GOOD) + len(builders.BAD) + 1
    assert stats["documents"].total == len(expected)
    assert stats["quarantined"].total == len(builders.BAD) + 1
    assert stats["quarantined_corrupt_pdf"].total == 2
    assert stats["skipped_invalid_json_line"].total == 1
    assert stats["bytes_in"].total == sum(p.stat().st_size for p in (raw / DROP).rglob("*") if p.is_file())


def test_tasks_split_files_and_write_one_manifest_each(raw, tmp_path):
    single = {d.id for d in run(RawFileReader(str(raw), str(tmp_path / "q1"), prefix=DROP))}
    split = [{d.id for d in run(RawFileReader(str(raw), str(tmp_path / "q2"), prefix=DROP), rank=r, world_size=3)}
             for r in range(3)]
    assert set().union(*split) == single and sum(map(len, split)) == len(single)
    assert sorted(manifest(tmp_path / "q2"), key=str) == sorted(manifest(tmp_path / "q1"), key=str)
    assert len(list((tmp_path / "q2").glob("*.jsonl"))) >= 2


def test_incoming_documents_pass_through_first(raw, tmp_path):
    upstream = [Document(text="from before", id="x")]
    out = run(RawFileReader(str(raw), str(tmp_path / "q"), prefix="2026-11-08"), data=upstream)
    assert [d.id for d in out] == ["x", "2026-11-08/notes.md"]


def test_file_above_max_bytes_is_quarantined_unread(raw, tmp_path, monkeypatch):
    reader = RawFileReader(str(raw), str(tmp_path / "q"), ExtractOptions(max_file_bytes=1_000_000), prefix=DROP)
    opened = []
    original = reader.raw_folder.open
    monkeypatch.setattr(reader.raw_folder, "open", lambda path, *a, **k: opened.append(path) or original(path, *a, **k))
    run(reader)
    (row,) = [r for r in manifest(tmp_path / "q") if r["source"].endswith("huge.txt")]
    assert row["reason"] == "file_too_large" and row["bytes"] > 1_000_000
    assert f"{DROP}/bad/huge.txt" not in opened


def test_clean_rerun_removes_stale_manifest(raw, tmp_path):
    quarantine = tmp_path / "q"
    run(RawFileReader(str(raw), str(quarantine), prefix=DROP))
    assert (quarantine / "00000.jsonl").exists()
    run(RawFileReader(str(raw), str(quarantine), prefix="2026-11-08"))
    assert not (quarantine / "00000.jsonl").exists()


def test_json_id_field_and_source_root_prefix(tmp_path):
    (tmp_path / "raw" / "d").mkdir(parents=True)
    (tmp_path / "raw" / "d" / "a.jsonl").write_text('{"text": "one", "id": "doc-1"}\n{"text": "two"}\n')
    reader = RawFileReader(str(tmp_path / "raw"), str(tmp_path / "q"), ExtractOptions(json_id_field="id"),
                           prefix="d", source_root_prefix="hr/")
    assert [(d.id, d.metadata["source"]) for d in run(reader)] == [
        ("doc-1", "hr/d/a.jsonl"), ("hr/d/a.jsonl#2", "hr/d/a.jsonl")]


def test_jsonl_without_any_good_line_is_quarantined(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "bad.jsonl").write_text("{oops\n[1, 2\n")
    assert run(RawFileReader(str(tmp_path / "raw"), str(tmp_path / "q"))) == []
    reasons = [(r["reason"], r.get("line")) for r in manifest(tmp_path / "q")]
    assert reasons == [("invalid_json_line", 1), ("invalid_json_line", 2), ("empty", None)]


def test_reader_pickles_for_datatrove_workers(raw, tmp_path):
    reader = pickle.loads(pickle.dumps(RawFileReader(str(raw), str(tmp_path / "q"), prefix="2026-11-08")))
    assert [d.id for d in run(reader)] == ["2026-11-08/notes.md"]
    assert reader.type == "📖 - READER"


def test_reads_from_s3(moto_s3, tmp_path):
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="raw")
    s3.put_object(Bucket="raw", Key="root/2026-11-01/a/notes.md", Body=b"# Notes\n\nHello from S3.\n")
    s3.put_object(Bucket="raw", Key="root/2026-11-01/empty.txt", Body=b"")
    s3.put_object(Bucket="raw", Key="root/2026-11-08/other.md", Body=b"other drop")
    folder = ("s3://raw/root", {"client_kwargs": {"endpoint_url": moto_s3}})
    docs = run(RawFileReader(folder, str(tmp_path / "q"), prefix=DROP))
    assert [(d.id, d.text) for d in docs] == [(f"{DROP}/a/notes.md", "# Notes\n\nHello from S3.")]
    assert [(r["source"], r["reason"]) for r in manifest(tmp_path / "q")] == [(f"{DROP}/empty.txt", "empty")]
