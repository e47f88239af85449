"""The committed sample corpus (samples/raw) is what scripts/make_sample_corpus.py writes, and it holds
what the corpus flow is meant to exercise."""
import json
from pathlib import Path

import pytest

from refinery.extract import RawFileReader
from scripts.make_sample_corpus import DROPS, build_corpus

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "raw"


def extract(root: Path, quarantine: Path) -> tuple[dict[str, str], list[dict]]:
    docs, rows = {}, []
    for drop in DROPS:
        reader = RawFileReader(str(root), str(quarantine / drop), prefix=drop)
        docs |= {d.id: d.text for d in reader.run()}
        rows += [json.loads(line) for f in sorted((quarantine / drop).glob("*.jsonl")) for line in f.open()]
    return docs, rows


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    return extract(SAMPLES, tmp_path_factory.mktemp("q"))


def shingles(text: str, n: int = 5) -> set:
    words = text.lower().split()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def test_committed_samples_match_the_script(committed, tmp_path):
    build_corpus(tmp_path / "raw")
    assert extract(tmp_path / "raw", tmp_path / "q") == committed


def test_samples_are_small():
    assert sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file()) < 300_000


def test_bad_files_quarantined_with_their_reasons(committed):
    _, rows = committed
    assert sorted((r["source"], r["reason"]) for r in rows) == [
        ("2026-11-01/incoming/budget-2027.docx", "not_a_zip"),
        ("2026-11-01/incoming/empty-upload.txt", "empty"),
        ("2026-11-01/incoming/scan-2026-10-30.pdf", "corrupt_pdf"),
        ("2026-11-08/incoming/whiteboard.heic", "unsupported_format"),
        ("2026-11-08/support/tickets.jsonl", "invalid_json_line"),
    ]


def test_duplicates_within_and_across_drops(committed):
    docs, _ = committed
    onboarding = docs["2026-11-01/handbook/onboarding.md"]
    assert docs["2026-11-01/archive/onboarding-copy.md"] == onboarding == docs["2026-11-08/handbook/onboarding.md"]
    for a, b in [("2026-11-01/notes/release-process.txt", "2026-11-01/notes/release-process-draft.txt"),
                 ("2026-11-01/runbooks/database-failover.html", "2026-11-08/runbooks/database-failover.html")]:
        assert docs[a] != docs[b] and jaccard(docs[a], docs[b]) > 0.8


def test_every_format_prose_pii_garbage_and_german(committed):
    docs, _ = committed
    suffixes = {Path(i.split("#")[0]).name.split(".", 1)[1] for i in docs}
    assert suffixes >= {"html", "pdf", "docx", "pptx", "xlsx", "jsonl", "jsonl.gz", "md", "txt"}
    short = {i for i, t in docs.items() if len(t.split()) < 150}
    assert short == {"2026-11-01/misc/scratch.txt"}
    assert "Richtlinie zum mobilen Arbeiten" in docs["2026-11-01/intl/richtlinie-mobiles-arbeiten.md"]
    assert "José Müller" in docs["2026-11-01/notes/release-process.txt"]  # latin-1 on disk
    everything = "\n".join(docs.values())
    for pii in ("4111 1111 1111 1111", "123-45-6789", "priya.nair@acme.example", "+1 415 555 0142",
                "(415) 555-0199", "81.2.69.160"):
        assert pii in everything
