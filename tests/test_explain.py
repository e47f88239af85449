"""`refinery explain`'s near-duplicate detail: the Jaccard MinHash works on, beside the raw-word one."""
from refinery.corpus.explain import format_explanation, jaccard
from tests.dedup.test_minhash import SQLITE_DOCX, SQLITE_HTML


def test_near_duplicate_reports_the_normalised_jaccard():
    # SQLite 3.6.4's notes as the HTML pass and as pandoc's DOCX give them (public domain): raw words differ by
    # Markdown escapes and the <ol>'s item numbers, the words MinHash shingles do not
    assert jaccard(SQLITE_HTML, SQLITE_DOCX) < 0.5
    assert jaccard(SQLITE_HTML, SQLITE_DOCX, normalised=True) == 1.0
    dup = {"id": "a.html", "drop": "d1", "jaccard_5gram": 0.4707, "jaccard_5gram_normalised": 0.8133}
    result = {"key": "b.pptx", "quarantine": [], "documents": [
        {"id": "b.pptx", "drop": "d1", "extracted": {"format": "pptx", "chars": 10}, "filters": [],
         "outcome": {"stage": "dedup", "pass": "minhash", "reason": "minhash", "duplicate_of": dup}}]}
    assert "5-gram Jaccard 0.4707, 0.8133 on the normalised words MinHash compares" in format_explanation(result)
