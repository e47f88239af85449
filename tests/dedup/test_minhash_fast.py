"""The rensa signature path: the same words as datatrove's normalisation, deterministic signatures, near
duplicates found, and indexes of another signature scheme never mixed in."""
from pathlib import Path

import numpy as np
import pytest
from datatrove.utils.text import simplify_text

import refinery.corpus.dedup_stage as dedup_stage
import refinery.dedup.minhash_scheme as minhash_scheme
from refinery.corpus.dedup_stage import dedup, dedup_fingerprint
from refinery.dedup.minhash import WhitespaceTokenizer, minhash_config, minhash_steps
from refinery.dedup.minhash_fast import (LEGACY_SCHEME, SCHEME, shingle_hashes, signatures, simplify_text_fast,
                                         simplify_words)
from refinery.dedup.minhash_scheme import MinhashSchemeMismatch, scheme_file
from tests.dedup.test_dedup_stage import _corpus, _filtered, _kept, _prose

REALDOCS = Path(__file__).resolve().parents[1] / "data" / "realdocs" / "raw"


def _reference(text: str) -> list[str]:
    return WhitespaceTokenizer().word_tokenize(simplify_text(text))


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
])
def test_words_equal_datatrove_normalisation_on_edge_cases(text):
    assert simplify_words(text) == _reference(text)
    assert simplify_text_fast(text) == simplify_text(text)


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


PINNED_SHINGLES = [9819591096880949642, 9176704162802840090]
PINNED_SIGNATURE = [3274059326, 3331440901, 3298753090, 3250458599]


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
