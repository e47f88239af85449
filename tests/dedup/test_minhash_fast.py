"""The rensa signature path: the same words as datatrove's normalisation, deterministic signatures, near
duplicates found, and indexes of another signature scheme never mixed in."""
from pathlib import Path

import numpy as np
import pytest
import rensa
from datatrove.data import Document
from datatrove.utils.text import simplify_text

import refinery.corpus.dedup_stage as dedup_stage
import refinery.dedup.minhash_scheme as minhash_scheme
from refinery.corpus.dedup_stage import dedup, dedup_fingerprint
from refinery.dedup.minhash import WhitespaceTokenizer, minhash_config, minhash_steps
from refinery.dedup.minhash_fast import (_RUNS, LEGACY_SCHEME, SCHEME, shingle_hashes, signatures,
                                         simplify_text_fast, simplify_words)
from refinery.dedup.minhash_scheme import MinhashSchemeMismatch, scheme_file
from tests.dedup.test_dedup_stage import _corpus, _filtered, _kept, _prose

REALDOCS = Path(__file__).resolve().parents[1] / "data" / "realdocs" / "raw"


def _reference(text: str) -> list[bytes]:
    return [w.encode("utf-8", "surrogatepass") for w in WhitespaceTokenizer().word_tokenize(simplify_text(text))]


def test_words_equal_datatrove_normalisation_on_real_pages():
    # HTML, Markdown and text pages of the committed benchmark slice, Japanese, French, German, Spanish and
    # Italian among them; the markup is text here too, which only adds punctuation to the test
    files = sorted(p for p in REALDOCS.rglob("*") if p.is_file() and p.suffix in (".html", ".md", ".txt"))
    assert len(files) > 30
    non_ascii = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        non_ascii += not text.isascii()
        assert simplify_words(text) == _reference(text), path.name
        assert simplify_text_fast(text) == simplify_text(text), path.name
        for paragraph in text.split("\n\n"):  # CCNet's keys are paragraphs
            assert simplify_text_fast(paragraph) == simplify_text(paragraph), path.name
    assert non_ascii > 10


@pytest.mark.parametrize("text", [
    "pack(o1) ≠ pack(o2), then",  # NFD makes ≠ an "=" + a combining mark: "=" has no letter
    "Cafe\u0301 naïve ÉCOLE façade",  # marks dropped, combined or not
    "1\u03012 and ½ or x² · • → ¶ ‘quoted’ “more” — dash",  # numbers split by a mark, numerals, symbols
    "tab\tnew\nline\u00a0nbsp\u2003em\u3000ideographic; full，width！ 東京タワー 1,5 ٣٫٥ km",
    "Greek question mark\u037e then; lone \ud800 surrogate",
    "",
    "0 1 2 3.5",
    "  leading and trailing\u0301 ",
    "a \u0301 b \u0301",  # a lone mark between spaces: datatrove keeps the two spaces it leaves
    "x1.2.3y a1,5b 1.2.3.4 ab1.23.4cd 0.0.0 00 a00b a0.0b 1.b 7,",  # numbers' parts pair up left to right
    "1\u0301.2 a1\u0301.2b 3\u0301 \u00b2 x\u00b2",  # marks between digits: "00", "0", letterless words
    "ΑΣ b ΣΑΣ. όΣ x",  # capital sigma's lower case depends on the letters around it
    "١٢٣ ab١.٢cd x١،٢y ٣ ، ٥ MIXED１２３abc ２.５x ⎖ 1⎖2",  # other scripts' digits and decimal separators
    "Kelvin \u212a İstanbul ǅ",  # lower case to ASCII, to a letter and a mark, title case
    "x\x1cy\x85z\u2028w\u00a0≤\u00a0v a\u00a0≤ ≤\u00a0b ≤≤ •x •\u00a0• ¶",  # symbols in runs with spaces
    "0",
    "\u0301",
])
def test_words_equal_datatrove_normalisation_on_edge_cases(text):
    assert simplify_words(text) == _reference(text)
    assert simplify_text_fast(text) == simplify_text(text)


def test_words_equal_datatrove_normalisation_on_every_non_ascii_character():
    # each character alone and between spaces, letters, digits and itself: what a run maps to, one text per
    # character so that one needing the whole-text path does not hide the others (the BMP but most CJK
    # ideographs and the surrogates; mathematical letters and digits; digits newer than unicodedata's Unicode
    # that NUMBERS_PATTERN's regex knows)
    codes = [*range(0x80, 0x3400), *range(0xa000, 0xd800), *range(0xe000, 0x10000), *range(0x1d400, 0x1d800),
             *range(0x10d30, 0x10d50)]
    for c in map(chr, codes):
        text = f"{c} a{c}a 1{c}1 x{c}1 1{c}x {c}{c} 1.{c}2 a1{c}2b {c}"
        assert simplify_words(text) == _reference(text), f"U+{ord(c):04X}"


def test_run_cache_cleared_between_documents(monkeypatch):
    monkeypatch.setattr(_RUNS, "limit", 2)
    for text in ("é • ½ x", "• ó ü 1\u03012 ٣", "naïve → ≠ ΑΣ"):
        assert simplify_words(text) == _reference(text)
    assert len(_RUNS) <= 6


def test_signatures_are_deterministic():
    # pinned values: a rensa release that hashed differently would change every signature, so the scheme
    # (which names rensa's version) and these values must change together
    words = [simplify_words("The quick brown fox jumps over the lazy dog again and again."), ["too", "short"]]
    flat, offsets = shingle_hashes(words, 5)
    assert offsets.tolist() == [0, 8, 8]  # 12 words
    sigs, has = signatures(words, 5, 160, 1)
    assert has.tolist() == [True, False] and sigs.dtype == np.uint32 and sigs.shape == (2, 160)
    again, _ = signatures([list(w) for w in words], 5, 160, 1)
    assert (sigs == again).all()
    assert flat[:2].tolist() == PINNED_SHINGLES and sigs[0, :4].tolist() == PINNED_SIGNATURE


def test_shingles_of_a_batch_are_each_documents_own():
    # documents shorter than n (empty too) between longer ones, at both ends: no n-gram crosses documents
    rng = np.random.default_rng(0)
    docs = [[f"w{x}".encode() for x in rng.integers(0, 50, size)] for size in (0, 3, 5, 9, 0, 4, 6, 1, 17, 2)]
    flat, offsets = shingle_hashes(docs, 5)
    assert np.diff(offsets.astype(np.int64)).tolist() == [max(len(d) - 4, 0) for d in docs]
    for i, doc in enumerate(docs):
        assert flat[offsets[i]:offsets[i + 1]].tolist() == shingle_hashes([doc], 5)[0].tolist()
        assert shingle_hashes([doc], 5)[0].tolist() == _polynomial_shingles(doc, 5)


def _polynomial_shingles(words: list[bytes], n: int) -> list[int]:
    """The scheme's n-gram hash, one at a time in Python integers."""
    mask, (word_hashes,) = (1 << 64) - 1, rensa.RMinHash.hash_token_sets([words])
    out = []
    for i in range(len(words) - n + 1):
        h = 0
        for w in word_hashes[i:i + n]:
            h = (h * 0x9E3779B97F4A7C15 + w) & mask
        h ^= h >> 30
        h = h * 0xBF58476D1CE4E5B9 & mask
        h ^= h >> 27
        h = h * 0x94D049BB133111EB & mask
        out.append(h ^ h >> 31)
    return out


PINNED_SHINGLES = [9819591096880949642, 9176704162802840090]
PINNED_SIGNATURE = [3274059326, 3331440901, 3298753090, 3250458599]


def test_signature_files_do_not_depend_on_the_batches(tmp_path):
    # document indices continue across batches; a text without 5 words gets no record in any batch
    texts = [_prose(topic, 3) for topic in ("billing", "security", "payroll", "ledger")] * 3 + ["too short", ""]
    texts.insert(5, "four words only here")
    files = {}
    for batch_words in (10**9, 7, 60):
        step = minhash_steps(minhash_config(5, 20, 8, 1), lambda n: str(tmp_path / str(batch_words) / n), None,
                             "x")["signatures"]
        step.batch_words = batch_words
        step.run(Document(text=t, id=str(i)) for i, t in enumerate(texts))
        root = tmp_path / str(batch_words) / "signatures"
        files[batch_words] = {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*.sig"))}
    assert len(files[10**9]) == 20 and all(len(b) == 36 * 12 for b in files[10**9].values())
    assert files[7] == files[10**9] == files[60]


def test_near_duplicate_estimate_follows_jaccard():
    base = _prose("ledger", 40).split()
    near = list(base)
    for i in range(0, len(near), 40):  # one word in 40 changed: word 5-gram Jaccard ~0.78-0.9
        near[i] = "changed"
    step = minhash_steps(minhash_config(5, 20, 8, 1), lambda n: "/tmp/unused", None, "x")["signatures"]
    a, b = (set(step.get_shingles(" ".join(w)).ravel().tolist()) for w in (base, near))
    sa, sb = (np.array(step.get_signature(step.get_shingles(" ".join(w)))) for w in (base, near))
    jaccard = len(a & b) / len(a | b)
    assert abs((sa == sb).mean() - jaccard) < 0.1 and (sa == sb).all(1).any()


def test_scheme_is_part_of_the_dedup_fingerprint(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    _filtered(corpus, "d1", [_prose("billing", 12)])
    before = dedup_fingerprint(corpus, "d1", [])
    monkeypatch.setattr(dedup_stage, "SCHEME", "another-scheme")
    assert dedup_fingerprint(corpus, "d1", []) != before


def test_index_of_an_old_scheme_is_refused_then_rebuilt(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    base = _prose("billing", 12)
    _filtered(corpus, "d1", [base, _prose("security", 12)])
    dedup(corpus, "d1", [])
    index = tmp_path / "out" / "corpus" / "_index" / "minhash"
    assert (index / scheme_file("d1")).read_text().strip() == SCHEME
    (index / scheme_file("d1")).unlink()  # as an index written before schemes were recorded
    _filtered(corpus, "d2", [base.replace(" today.", " today!", 2), _prose("payroll", 12)])
    with pytest.raises(MinhashSchemeMismatch, match=f"drops \\['d1'\\] with signature scheme\\(s\\) \\['{LEGACY_SCHEME}'\\]"):
        dedup(corpus, "d2", ["d1"])
    markers = tmp_path / "out" / "corpus" / "d2" / "_state" / "markers"
    assert not (markers / "dedup.started.json").exists()  # refused before any pass started
    # the fix the message names: re-run d1's dedup (stale under a new scheme) before d2's
    for module in (dedup_stage, minhash_scheme):
        monkeypatch.setattr(module, "SCHEME", "new-scheme")
    dedup(corpus, "d1", [])
    assert (index / scheme_file("d1")).read_text().strip() == "new-scheme"
    dedup(corpus, "d2", ["d1"])
    assert set(_kept(corpus, "d2")) == {"d2/doc1"}  # the near copy matched d1's rebuilt index
