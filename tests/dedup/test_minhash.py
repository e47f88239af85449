import gzip
import random
from pathlib import Path

import numpy as np
from datatrove.data import Document
from datatrove.io import get_datafolder
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.corpus.report import iter_jsonl
from refinery.dedup.minhash import EarlierDropsIndex, WhitespaceTokenizer, minhash_config, minhash_steps
from refinery.runners import local_runner

WORDS = ("pump valve sensor alarm shift report engineer incident ticket policy retention backup network "
         "latency storage budget quarter review customer contract invoice audit deploy release").split()


def _text(seed: int, n: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(n))


def _near(text: str, edits: int, seed: int) -> str:
    words, rng = text.split(), random.Random(seed)
    for _ in range(edits):
        words[rng.randrange(len(words))] = "edited"
    return " ".join(words)


def _write(folder, docs):
    w = JsonlWriter(str(folder), output_filename="${rank}.jsonl.gz")
    with w:
        for d in docs:
            w.write(d, 0)


def _dedup(tmp_path, drop, earlier, docs, threshold=0.7, seed=1):
    src, out = tmp_path / drop / "in", tmp_path / drop / "out"
    _write(src, docs)
    cfg = minhash_config(5, 20, 8, seed)
    index = EarlierDropsIndex(str(tmp_path / "index"), earlier, drop)
    steps = minhash_steps(cfg, lambda n: get_datafolder(str(tmp_path / drop / "work" / n)), index, drop,
                          exclusion_writer=JsonlWriter(str(tmp_path / drop / "removed")), threshold=threshold)
    run = local_runner(workers=1)
    logs = lambda s: get_datafolder(str(tmp_path / drop / "logs" / s))  # noqa: E731
    run([JsonlReader(str(src)), steps["signatures"]], 1, logs("sig"))
    run([steps["buckets"]], 20, logs("buckets"))
    run([steps["cluster"]], 1, logs("cluster"))
    run([JsonlReader(str(src)), steps["filter"], JsonlWriter(str(out))], 1, logs("filter"))
    return [d["id"] for d in iter_jsonl(get_datafolder(str(out)))], list(iter_jsonl(get_datafolder(str(tmp_path / drop / "removed"))))


def test_near_duplicates_clustered_within_and_across_drops(tmp_path):
    base = _text(1)
    first = [Document(text=base, id="a0", metadata={}), Document(text=_near(base, 5, 2), id="a1", metadata={}),
             Document(text=_text(3), id="a2", metadata={})]
    kept, removed = _dedup(tmp_path, "d1", [], first)
    assert kept == ["a0", "a2"]
    assert [r["id"] for r in removed] == ["a1"] and removed[0]["metadata"]["minhash_cluster_id"] >= 0

    second = [Document(text=_near(base, 4, 9), id="b0", metadata={}), Document(text=_text(4), id="b1", metadata={})]
    kept, removed = _dedup(tmp_path, "d2", ["d1"], second)
    assert kept == ["b1"] and [r["id"] for r in removed] == ["b0"]


def test_index_view_hides_drops_that_are_not_earlier(tmp_path):
    root = tmp_path / "index" / "bucket_000"
    root.mkdir(parents=True)
    for name in ("d1_00", "d2_00", "d3_00", "d_x_00"):
        (root / f"{name}.minhash.index").write_bytes(b"")
    view = EarlierDropsIndex(str(tmp_path / "index"), ["d1", "d_x"], "d2")
    assert view.list_files("bucket_000") == ["bucket_000/d1_00.minhash.index", "bucket_000/d2_00.minhash.index",
                                             "bucket_000/d_x_00.minhash.index"]


SNIPPETS = Path(__file__).resolve().parents[1] / "data" / "snippets"  # git-man 2.39 pages rendered by man(1)


def _man(name: str) -> str:
    return gzip.decompress((SNIPPETS / f"{name}.txt.gz").read_bytes()).decode()


# with this seed the signatures of gitrevisions and git-rev-parse (Jaccard 0.50) share one of the 20 bands, so
# LSH alone makes them a candidate pair (it happens for 62 of the first 1000 seeds; seed 46 is the first)
CANDIDATE_SEED = 46


def _shingles_and_bands(texts, seed=CANDIDATE_SEED):
    sig = minhash_steps(minhash_config(5, 20, 8, seed), get_datafolder, None, "x")["signatures"]
    sh = [sig.get_shingles(t) for t in texts]
    return [set(s.ravel().tolist()) for s in sh], [np.array(sig.get_signature(s)) for s in sh]


def test_candidate_pair_below_threshold_is_not_clustered(tmp_path):
    # the benchmark's one real false positive: gitrevisions is 96 % contained in git-rev-parse, Jaccard 0.50,
    # and with CANDIDATE_SEED one of the 20 bands is equal, so LSH alone makes them a candidate pair
    rev_parse, revisions = _man("git-rev-parse.1"), _man("gitrevisions.7")
    edited = _near(rev_parse, 25, 7)
    (a, b, c), (sa, sb, _) = _shingles_and_bands([rev_parse, revisions, edited])
    assert 0.45 < len(a & b) / len(a | b) < 0.55 and (sa == sb).all(1).sum() >= 1
    assert len(a & c) / len(a | c) >= 0.85
    docs = [Document(text=rev_parse, id="rev-parse", metadata={}), Document(text=revisions, id="revisions", metadata={}),
            Document(text=edited, id="edited", metadata={})]
    kept, removed = _dedup(tmp_path / "unverified", "d1", [], docs, threshold=0, seed=CANDIDATE_SEED)
    assert len(kept) == 1  # datatrove's clustering of every candidate: one cluster of the three
    kept, removed = _dedup(tmp_path / "verified", "d1", [], docs, seed=CANDIDATE_SEED)
    assert kept == ["rev-parse", "revisions"] and [r["id"] for r in removed] == ["edited"]


def test_index_match_below_threshold_is_not_clustered(tmp_path):
    # a later drop's match with an earlier drop's index is checked against that drop's stored signatures
    rev_parse, revisions = _man("git-rev-parse.1"), _man("gitrevisions.7")
    later = [Document(text=revisions, id="revisions", metadata={}),
             Document(text=_near(rev_parse, 25, 7), id="edited", metadata={})]
    for root, threshold, expect_kept in ((tmp_path / "unverified", 0, []), (tmp_path / "verified", 0.7, ["revisions"])):
        first = _dedup(root, "d1", [], [Document(text=rev_parse, id="rev-parse", metadata={})], threshold,
                       seed=CANDIDATE_SEED)
        assert first[0] == ["rev-parse"]
        kept, removed = _dedup(root, "d2", ["d1"], later, threshold, seed=CANDIDATE_SEED)
        assert kept == expect_kept and "edited" in [r["id"] for r in removed]


# Octave's Group-Database-Functions page (GNU Octave 7.3 manual, GPL-3+), as the HTML pass extracts it and as
# extracted from pandoc's DOCX of the same page, which keeps Texinfo's permalink pilcrows
OCTAVE_HTML = ("`grp_struct` =**getgrent** *()*\n\nReturn an entry from the group database, opening it if "
               "necessary.\n\n"
               "Once the end of data has been reached, `getgrent` returns 0.\n\n**See also:** setgrent, endgrent.\n\n"
               ": `grp_struct` =**getgrgid** *(`gid`).*\n\nReturn the first entry from the group database with the "
               "group ID\n`gid`.\n\nIf the group ID does not exist in the database, `getgrgid` returns 0.\n\n"
               "**See also:** getgrnam.\n\n:  **setgrent** *()*\n\nReturn the internal pointer to the beginning of "
               "the group database.\n\n**See also:** getgrent, endgrent.")
OCTAVE_DOCX = (": grp_struct = getgrent () ¶\n\nReturn an entry from the group database, opening it if necessary.\n\n"
               "Once the end of data has been reached, getgrent returns 0.\n\nSee also: setgrent, endgrent.\n\n"
               ": grp_struct = getgrgid (gid). ¶\n\nReturn the first entry from the group database with the group ID "
               "gid.\n\nIf the group ID does not exist in the database, getgrgid returns 0.\n\nSee also: getgrnam.\n\n"
               ":  setgrent () ¶\n\nReturn the internal pointer to the beginning of the group database.\n\n"
               "See also: getgrent, endgrent.")

# SQLite's release notes for 3.6.4 (public domain): the HTML pass writes the <ol>'s item numbers, the DOCX
# pandoc made of the page keeps them in Word's numbering definitions, outside the text
SQLITE_HTML = ("## SQLite Release 3.6.4 On 2008-10-15\n\n1. Add option support for LIMIT and ORDER BY clauses on "
               "DELETE and\n    UPDATE statements.  Only works if SQLite is compiled with\n    "
               "SQLITE\\_ENABLE\\_UPDATE\\_DELETE\\_LIMIT.\n2. Added the sqlite3\\_stmt\\_status() interface for "
               "performance monitoring.\n3. Add the INDEXED BY clause.\n4. The LOCKING\\_STYLE extension is now "
               "enabled by default on Mac OS X\n5. Added the TRUNCATE option to PRAGMA journal\\_mode")
SQLITE_DOCX = ("## SQLite Release 3.6.4 On 2008-10-15\n\nAdd option support for LIMIT and ORDER BY clauses on DELETE "
               "and UPDATE statements. Only works if SQLite is compiled with SQLITE_ENABLE_UPDATE_DELETE_LIMIT.\n\n"
               "Added the sqlite3_stmt_status() interface for performance monitoring.\n\nAdd the INDEXED BY clause."
               "\n\nThe LOCKING_STYLE extension is now enabled by default on Mac OS X\n\nAdded the TRUNCATE option "
               "to PRAGMA journal_mode")


def test_glyphs_and_list_numbers_do_not_break_shingles(tmp_path):
    sig = MinhashDedupSignature(output_folder=str(tmp_path), config=minhash_config(5, 20, 8, 1),
                                language=WhitespaceTokenizer())
    for html, docx in ((OCTAVE_HTML, OCTAVE_DOCX), (SQLITE_HTML, SQLITE_DOCX)):
        # the pilcrows, and the item numbers, were the only difference left after datatrove's normalisation
        assert set(sig.get_shingles(html).ravel().tolist()) == set(sig.get_shingles(docx).ravel().tolist())
    # a word with a digit and a letter is still a word
    assert WhitespaceTokenizer().word_tokenize("sqlite0 0 ¶ 0 0 0 rc0 •") == ["sqlite0", "rc0"]
