import numpy as np
from datatrove.data import Document
from datatrove.io import get_datafolder
from datatrove.pipeline.writers import JsonlWriter

from refinery.corpus.report import iter_jsonl
from refinery.dedup.ccnet import ExactParagraphDedup, paragraph_key, sha1_64
from refinery.dedup.hash_index import load_hashes, sorted_unique

BOILER = "This paragraph is repeated in many documents of the corpus verbatim."


def _docs(*texts, prefix="d"):
    return [Document(text=t, id=f"{prefix}{i}", metadata={"source": f"{prefix}{i}.txt"}) for i, t in enumerate(texts)]


def _run(tmp_path, drop, earlier, docs, **kw):
    step = ExactParagraphDedup(str(tmp_path / "index"), drop, earlier,
                               exclusion_writer=JsonlWriter(str(tmp_path / f"dropped-{drop}")), **kw)
    return list(step.run(iter(docs))), step


def test_sha1_64_is_first_8_bytes_of_sha1():
    import hashlib
    import struct

    assert sha1_64("abc") == struct.unpack("<Q", hashlib.sha1(b"abc").digest()[:8])[0]


def test_paragraph_normalisation_ignores_case_digits_punctuation():
    assert paragraph_key("Invoice 2024, Paid!") == paragraph_key("invoice 1999 paid")
    assert paragraph_key("Invoice paid") != paragraph_key("Invoice unpaid")


def test_exact_and_paragraph_dedup_within_a_drop(tmp_path):
    a = f"Alpha introduction about pumps and valves.\n{BOILER}\nAlpha closing words are unique here."
    b = f"Beta starts with something different entirely.\n{BOILER}\nBeta ends with its own sentence too."
    kept, step = _run(tmp_path, "d1", [], _docs(a, a, b, BOILER))
    assert [d.id for d in kept] == ["d0", "d2"]  # d1 exact copy, d3 only a repeated paragraph
    assert BOILER in kept[0].text and BOILER not in kept[1].text
    assert kept[1].metadata["duplicate_paragraphs_removed"] == 1
    dropped = {d["id"]: d["metadata"]["filter_reason"] for d in iter_jsonl(get_datafolder(str(tmp_path / "dropped-d1")))}
    assert dropped == {"d1": "exact_duplicate", "d3": "all_paragraphs_duplicate"}


def test_short_lines_are_never_removed(tmp_path):
    a = "Summary\nFirst document body sentence that is long enough."
    b = "Summary\nSecond document body sentence that is long enough."
    kept, _ = _run(tmp_path, "d1", [], _docs(a, b), min_paragraph_chars=20)
    assert all(d.text.startswith("Summary\n") for d in kept)


def test_incremental_earlier_drop_wins_and_later_drops_are_invisible(tmp_path):
    shared = f"A document that arrives in both drops with identical text.\n{BOILER}"
    _run(tmp_path, "2026-01", [], _docs(shared, prefix="a"))
    assert load_hashes(get_datafolder(str(tmp_path / "index")), ["exact/2026-01"]).size == 1
    kept, _ = _run(tmp_path, "2026-02", ["2026-01"], _docs(shared, f"New text in the second drop only.\n{BOILER}", prefix="b"))
    assert [d.id for d in kept] == ["b1"] and BOILER not in kept[0].text
    # re-running the earlier drop ignores the later drop's index: the earlier copy stays
    kept, _ = _run(tmp_path, "2026-01", [], _docs(shared, prefix="a"))
    assert [d.id for d in kept] == ["a0"]


def test_code_tables_and_terminal_sessions_are_never_removed(tmp_path):
    shared = ["```", "Traceback (most recent call last):", "  File \"run.py\", line 3, in <module>", "```",
              "$ sudo systemctl restart ingest.service --no-block", "| queue.max_batch | 500 | documents per batch |",
              "SELECT name FROM customer WHERE id IN (SELECT value FROM generate_series(1,20));",
              "int sqlite3_open(const char *filename, sqlite3 **ppDb);"]
    a = "First manual explains the ingest service in detail.\n" + "\n".join(shared)
    b = "Second manual covers the database failover steps.\n" + "\n".join(shared) + f"\n{BOILER}"
    c = f"Third manual about backups and restores.\n{BOILER}\n" + "\n".join(shared)
    kept, _ = _run(tmp_path, "d1", [], _docs(a, b, c))
    for doc in kept:
        assert all(line in doc.text.split("\n") for line in shared), doc.id
    assert BOILER in kept[1].text and BOILER not in kept[2].text  # prose boilerplate: first copy only
    assert kept[2].metadata["duplicate_paragraphs_removed"] == 1


def test_a_paragraph_repeated_inside_one_document_stays(tmp_path):
    field = "The length field gives the size of the payload in bytes, not counting the header."
    a = "\n".join(f"Field {i} of the message header is described below.\n{field}" for i in range(52))
    b = f"A second reference that happens to use the same wording.\n{field}"
    kept, _ = _run(tmp_path, "d1", [], _docs(a, b))
    assert kept[0].text.count(field) == 52  # its own repeats are not duplicates
    assert field not in kept[1].text  # another document had it first


def test_a_hard_wrapped_paragraph_goes_whole_or_not_at_all(tmp_path):
    # git's AsciiDoc sources wrap paragraphs at ~72 columns; one line is a fragment of a sentence
    shared = ("The form '--missing=allow-any' will allow object traversal to continue\n"
              "if a missing object is encountered.  Missing objects will silently be\n"
              "omitted from the results.")
    a = f"First page about rev-list options.\n\n{shared}\n\nIts own closing remarks here."
    b = ("Second page quoting the option differently.\n\nThe form '--missing=allow-any' will allow object "
         "traversal to continue\nonly when asked to do so by the user.\n\n" + shared)
    kept, _ = _run(tmp_path, "d1", [], _docs(a, b))
    assert kept[1].text.count("The form '--missing=allow-any' will allow object traversal to continue") == 1
    assert "omitted from the results." not in kept[1].text and "only when asked" in kept[1].text
    assert kept[1].metadata["duplicate_paragraphs_removed"] == 1


def test_asciidoc_literal_paragraphs_of_a_text_file_are_never_removed(tmp_path):
    # gitformat-commit-graph.txt and an edited copy of it: the copy's literal paragraphs (indented by two
    # spaces) are in the earlier document, but they are a format's byte layout, not prose
    layout = ("  (C + 1) * 12 bytes listing the table of contents for the chunks:\n"
              "      First 4 bytes describe the chunk id. Value 0 is a terminating label.")
    prose = "All multi-byte numbers in this commit graph file are in network byte order."
    first = Document(text=f"Commit-graph files have the following format.\n\n{layout}\n\n{prose}", id="a",
                     metadata={"format": "text"})
    copy = Document(text=f"The edited copy of that file begins here.\n\n{layout}\n\n{prose}", id="b",
                    metadata={"format": "text"})
    md = [Document(text=f"A Markdown page number {n}.\n\n{layout}", id=f"md{n}", metadata={"format": "markdown"})
          for n in (1, 2)]
    kept, _ = _run(tmp_path, "d1", [], [first, copy, *md])
    out = {d.id: d.text for d in kept}
    assert layout in out["b"] and prose not in out["b"]  # the repeated prose paragraph goes, the layout stays
    # in Markdown two spaces of indentation mean nothing: there the repeated line is prose, and goes
    assert "(C + 1) * 12 bytes" in out["md1"] and "(C + 1) * 12 bytes" not in out["md2"]


def test_sorted_unique_is_np_unique():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 2**63, 5_000, dtype=np.uint64)
    arr = np.concatenate([arr, arr[:1_000], [np.uint64(2**64 - 1)]])  # duplicates and the largest uint64
    assert np.array_equal(sorted_unique(arr), np.unique(arr))
    assert sorted_unique(np.empty(0, dtype=np.uint64)).size == 0
