"""Every kind of bad input in one drop: the run finishes, each bad file is quarantined with its reason,
the good documents (including the good lines of a partly broken JSONL) go all the way to token shards."""
import json
import resource

from datatrove.io import get_datafolder

from orchestration.cli import main
from refinery.corpus.report import iter_jsonl
from tests import builders

BAD = {  # builder -> reason the quarantine manifest must give
    builders.truncated_pdf: "corrupt_pdf",
    builders.random_pdf: "corrupt_pdf",
    builders.scanned_pdf: builders.SCANNED_REASON,  # OCR reads nothing in it
    builders.docx_not_a_zip: "not_a_zip",
    builders.zip_bomb: "decompression_bomb",
    builders.empty_file: "empty",
    builders.binary_txt: "binary_file",
    builders.invalid_json: "invalid_json",
    builders.huge_txt: "text_too_long",
}


def test_bad_inputs_are_quarantined_and_the_run_finishes(tmp_path, dagster_home):
    drop = tmp_path / "raw" / "2026-12-01"
    drop.mkdir(parents=True)
    bad = {builder(drop).name: reason for builder, reason in BAD.items()}
    nested = builders.nested_html(drop).name  # past libxml2's depth limit: quarantined, not cut short
    good = [builders.html_page(drop).name, builders.docx_report(drop).name, builders.markdown(drop).name,
            builders.jsonl_with_broken_line(drop).name]

    summary = tmp_path / "summary.json"
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rc = main(["corpus", "--raw", str(tmp_path / "raw"), "--root", str(tmp_path / "out"), "--json", str(summary)])
    report = json.loads(summary.read_text())["drops"]["2026-12-01"]
    assert rc == 0 and report["success"], report

    rows = list(iter_jsonl(get_datafolder(str(tmp_path / "out" / "corpus" / "2026-12-01" / "_quarantine"))))
    by_file = {}
    for row in rows:
        by_file.setdefault(row["source"].rsplit("/", 1)[-1], []).append(row["reason"])
    for name, reason in bad.items():
        assert reason in by_file.get(name, []), (name, by_file.get(name))
    assert by_file.get(good[-1]) == ["invalid_json_line"]  # listed, but the file itself was not dropped

    extracted = list(iter_jsonl(get_datafolder(str(tmp_path / "out" / "corpus" / "2026-12-01" / "extracted"))))
    sources = {d["metadata"]["source"].rsplit("/", 1)[-1] for d in extracted}
    assert set(good) <= sources
    assert not set(bad) & sources
    assert sum(1 for d in extracted if d["metadata"]["source"].endswith(good[-1])) >= 2  # good JSONL lines kept
    assert by_file.get(nested) == ["too_deeply_nested"] and nested not in sources
    # files are streamed one by one: the 15 MB line and the 300 MB bomb never blow up this process. ru_maxrss is
    # the session's high-water mark (earlier tests load models), so the run may raise it by under 1 GiB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 1024 * 1024  # KiB
