"""A drop built to hurt: links out of the raw root, a directory loop, a non-UTF-8 name, 2 GiB bombs (gzip,
zip, zip lying about its size), 200,000 nested tables, encrypted and cyclic PDFs, billion-laughs Office
files, next to a few normal files. The extract and filter stages run in a subprocess as the corpus flow
runs them: the run finishes, every hostile file is in the quarantine manifest with its reason, the normal
files are extracted, nothing from outside the root reaches any output, memory stays bounded, and no
output names the machine's absolute paths."""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import builders
from tests.reliability import hostile

DROP = "drop1"
SECRET = "OUTSIDE-THE-ROOT-7f3a9c"
MAX_RSS_MB = 400

RUN = """
import sys
from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.runners import local_runner
from refinery.storage import Layout

raw, out = sys.argv[1:3]
corpus = flow.Corpus(Layout(out), CorpusConfig.model_validate({"execution": {"tasks": 1}}), local_runner(1), raw)
flow.extract(corpus, "drop1")
flow.filter_documents(corpus, "drop1")
"""


def _hostile_drop(tmp: Path) -> tuple[Path, dict[str, str], set[str]]:
    """(raw root, {key: expected quarantine reason}, keys that must be extracted)."""
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET} payroll numbers\n")
    raw = tmp / "raw"
    d = raw / DROP
    (d / "sub").mkdir(parents=True)
    expected = {}

    def link(name: str, target, reason: str | None = None):
        os.symlink(target, d / name)
        if reason:
            expected[f"{DROP}/{name}"] = reason

    link("secret-link.txt", outside / "secret.txt", "symlink_outside_root")
    link("outside-dir", outside, "symlink_outside_root")
    if Path("/etc/passwd").exists():
        link("passwd-link.txt", "/etc/passwd", "symlink_outside_root")
    link("self-link.txt", "self-link.txt", "symlink_loop")
    os.symlink("..", d / "sub" / "loop")
    expected[f"{DROP}/sub/loop"] = "symlink_loop"
    fd = os.open(os.fsencode(d) + b"/caf\xe9-latin1-name.txt", os.O_CREAT | os.O_WRONLY)
    os.write(fd, b"a file whose name is not UTF-8\n")
    os.close(fd)
    expected[f"{DROP}/caf\\xe9-latin1-name.txt"] = "undecodable_file_name"

    docx, xlsx, pptx = builders.docx_report(tmp), builders.xlsx_book(tmp), builders.pptx_deck(tmp)
    for path, reason in [
        (hostile.gzip_bomb(d / "bomb.txt.gz"), "decompression_bomb"),
        (hostile.zip_bomb(d / "bomb.docx"), "decompression_bomb"),
        (hostile.lying_zip_bomb(d / "lying.docx"), "decompression_bomb"),
        # no suffix: format sniffing opens [Content_Types].xml, which lies about its size too
        (hostile.lying_zip_bomb(d / "mystery.bin", member="[Content_Types].xml"), "unsupported_format"),
        (hostile.nested_tables(d / "nested.html"), "too_deeply_nested"),
        (builders.encrypted_pdf(d), "encrypted_pdf"),
        (hostile.cyclic_pdf(d / "cyclic.pdf"), "corrupt_pdf"),
        (hostile.billion_laughs(docx, "word/document.xml", d / "laughs.docx"), "xml_entities"),
        (hostile.billion_laughs(xlsx, "xl/worksheets/sheet1.xml", d / "laughs.xlsx"), "xml_entities"),
        (hostile.billion_laughs(pptx, "ppt/slides/slide1.xml", d / "laughs.pptx"), "xml_entities"),
    ]:
        expected[f"{DROP}/{path.name}"] = reason

    normal = {builders.html_page(d).name, builders.docx_report(d).name, builders.markdown(d).name,
              builders.pdf_3_pages(d / "sub").name}
    link("notes-link.md", builders.markdown(d).name)  # stays inside the root: read like any file
    kept = {f"{DROP}/{n}" for n in normal - {"handbook.pdf"}} | {f"{DROP}/sub/handbook.pdf", f"{DROP}/notes-link.md"}
    return raw, expected, kept


# Runs the stages as its own child and reports that child's rusage. Not measured from pytest directly:
# Linux folds the RSS peak of the memory a process had before exec() into its ru_maxrss, and a child
# spawned from pytest starts from pytest's memory (hundreds of MB after the other tests); one spawned from
# this small launcher does not.
LAUNCH = """
import json, os, subprocess, sys, threading
proc = subprocess.Popen([sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
killer = threading.Timer(180, proc.kill)
killer.start()
_, status, usage = os.wait4(proc.pid, 0)
killer.cancel()
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}))
"""


def _run(raw: Path, out: Path, log: Path) -> tuple[int, float]:
    """(exit status, peak RSS in MB) of the stages run in a child process."""
    with log.open("wb") as sink:
        done = subprocess.run([sys.executable, "-c", LAUNCH, RUN, str(raw), str(out)], stdout=subprocess.PIPE,
                              stderr=sink, cwd=Path(__file__).resolve().parents[2], timeout=240)
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result["status"], result["maxrss_kib"] / 1024


def _contents(root: Path):
    """(path, text) of every file under `root`, gzip members decompressed."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        yield path, data.decode("utf-8", "replace")


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.read_text().splitlines()]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    raw, expected, kept = _hostile_drop(tmp)
    status, rss_mb = _run(raw, tmp / "out", tmp / "run.log")
    return tmp, expected, kept, status, rss_mb


def test_the_run_finishes_with_every_hostile_file_quarantined(hostile_run):
    tmp, expected, kept, status, rss_mb = hostile_run
    assert status == 0, (tmp / "run.log").read_text()[-3000:]
    drop = tmp / "out" / "corpus" / DROP
    reasons = {row["source"]: row["reason"] for row in _rows(drop / "_quarantine")}
    assert {k: reasons.get(k) for k in expected} == expected
    extracted = {json.loads(line)["metadata"]["source"]
                 for f in (drop / "extracted").glob("*.jsonl.gz") for line in gzip.open(f, "rt")}
    assert kept <= extracted and not extracted & set(expected)
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
    print(f"peak RSS of the extract+filter run: {rss_mb:.0f} MB")


def test_nothing_from_outside_the_root_reaches_any_output(hostile_run):
    tmp, *_ = hostile_run
    passwd = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").exists() else SECRET
    for path, text in _contents(tmp / "out"):
        assert SECRET not in text and passwd not in text, path


def test_no_output_names_an_absolute_path(hostile_run):
    """Documents, manifests, dropped documents and markers hold keys relative to their roots. datatrove's
    own run record (`_state/logs/**/executor.json`, object reprs of the pipeline) is left as it writes it."""
    tmp, *_ = hostile_run
    leaks = [path for path, text in _contents(tmp / "out")
             if str(tmp) in text and path.name != "executor.json"]
    assert not leaks


def test_drop_discovery_stays_inside_the_root(tmp_path, dagster_home):
    from resources.storage import StorageResource

    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "real").mkdir(parents=True)
    (raw / "real" / "a.txt").write_text("a")
    outside.mkdir()
    (outside / "b.txt").write_text("b")
    os.symlink(outside, raw / "escaped")  # a drop folder linking out of the root
    (raw / "looped").mkdir()
    os.symlink("..", raw / "looped" / "up")  # only a loop inside: no file, and no endless walk
    os.symlink("real", raw / "alias")  # inside the root: a drop like any other
    assert StorageResource(raw_root=str(raw)).list_drops() == ["alias", "real"]
