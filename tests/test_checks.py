"""The invariants behind the asset checks fail when they should."""
import numpy as np
from datatrove.data import Document
from datatrove.io import get_datafolder
from datatrove.pipeline.writers import JsonlWriter

from refinery.corpus import checks


def _write(path, docs):
    with JsonlWriter(str(path), output_filename="${rank}.jsonl.gz") as w:
        for i, (doc_id, text) in enumerate(docs):
            w.write(Document(text=text, id=doc_id, metadata={}), i % 2)  # two files: checks span files
    return get_datafolder(str(path))


def test_document_checks(tmp_path):
    good = _write(tmp_path / "good", [("a", "first text"), ("b", "second text"), ("c", "third text")])
    bad = _write(tmp_path / "bad", [("a", "same text"), ("a", "same text"), ("c", "  "),
                                    ("d", "mail jane.doe@acme-corp.com now")])
    for check in (checks.ids_unique, checks.no_exact_duplicates, checks.no_empty_text, checks.no_pii_left):
        assert check(good).passed and check(good).checked == 3
        assert not check(bad).passed, check.__name__
    assert checks.ids_unique(bad).failures == ["a"]
    assert checks.no_pii_left(bad).failures == ["d"]
    assert checks.no_pii_left(bad, kinds=[]).passed  # redaction switched off: nothing to check


def test_token_shards_consistent(tmp_path):
    folder = tmp_path / "tok"
    folder.mkdir()
    np.arange(10, dtype=np.uint16).tofile(folder / "a.ds")
    np.array([4, 10], dtype=np.uint64).tofile(folder / "a.ds.index")
    assert checks.token_shards_consistent(get_datafolder(str(folder))).passed
    np.array([4, 9], dtype=np.uint64).tofile(folder / "a.ds.index")
    outcome = checks.token_shards_consistent(get_datafolder(str(folder)))
    assert not outcome.passed and "index ends at 9" in outcome.failures[0]
