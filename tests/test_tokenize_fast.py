"""tiktoken (refinery.tokenize_fast) gives the ids HF tokenizers gives: the bundled tokenizer and the other
byte-level shapes, on real text (the realdocs slice's pages in five languages, installed packages' READMEs)
and on every assigned code point in the contexts where pre-tokenizers split."""
from __future__ import annotations

import copy
import importlib.metadata
import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from refinery.tokenize import DEFAULT_TOKENIZER
from refinery.tokenize_fast import FastBPE, fast_bpe, pattern_of, unsupported

REALDOCS = Path(__file__).parent / "data" / "realdocs" / "raw"
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


@cache
def spec() -> dict:
    return json.loads(DEFAULT_TOKENIZER.read_text(encoding="utf-8"))


@cache
def realdoc_pages() -> tuple[str, ...]:
    """The realdocs slice's pages as shipped (HTML, Markdown, text, JSONL dumps), in English, Spanish, French,
    Italian and Japanese."""
    return tuple(p.read_text(encoding="utf-8", errors="replace") for p in sorted(REALDOCS.rglob("*"))
                 if p.is_file() and p.suffix in (".html", ".md", ".txt", ".jsonl"))


@cache
def real_texts() -> tuple[str, ...]:
    """The realdocs pages and ~1 MB of the installed distributions' METADATA (READMEs with code, tables and
    non-ASCII names)."""
    texts, size = list(realdoc_pages()), 0
    for dist in sorted(importlib.metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        text = dist.read_text("METADATA") or ""
        texts.append(text)
        size += len(text)
        if size > 1_000_000:
            break
    return tuple(texts)


def code_point_texts() -> list[str]:
    """Every code point assigned in this Python's Unicode tables (private use sampled), between letters,
    digits, spaces, apostrophes and itself: where ByteLevel's regex and Digits split differently."""
    points = [c for c in range(0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co")]
    points += list(range(0xE000, 0xF900, 97)) + list(range(0xF0000, 0x110000, 997))
    texts, step = [], 2000
    for i in range(0, len(points), step):
        texts.append(" ".join(f"a{c}a x  {c}1{c}{c}'s 1{c}2 \n{c}" for c in map(chr, points[i:i + step])))
    return texts


def hf_ids(tokenizer: Tokenizer, texts) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]


@pytest.fixture(scope="module")
def bundled() -> tuple[Tokenizer, FastBPE]:
    hf = Tokenizer.from_file(str(DEFAULT_TOKENIZER))
    fast, reason = fast_bpe(DEFAULT_TOKENIZER, hf)
    assert reason is None and fast is not None
    return hf, fast


def test_bundled_tokenizer_real_text_same_ids(bundled):
    hf, fast = bundled
    texts = real_texts()
    assert sum(map(len, texts)) > 2_000_000
    assert [fast.encode(t) for t in texts] == hf_ids(hf, texts)
    assert not any(fast.to_hf(t) for t in realdoc_pages())  # the committed pages all went through tiktoken


def test_bundled_tokenizer_every_code_point_same_ids(bundled):
    hf, fast = bundled
    texts = code_point_texts()
    assert [fast.encode(t) for t in texts] == hf_ids(hf, texts)


@pytest.mark.parametrize("text", [
    "ctrl\x04char between words",  # a byte the vocabulary lacks: HF drops it
    "x  \U00011de0 digits of Unicode 17: HF's Digits splits them off, older regex tables do not",
    "Tolong Siki \U00011de1\U00011de2",
])
def test_text_hf_might_read_otherwise_goes_to_hf(bundled, text):
    hf, fast = bundled
    assert fast.to_hf(text)
    assert fast.encode(text) == hf.encode(text, add_special_tokens=False).ids


def test_lone_surrogate_goes_to_hf(bundled):
    assert bundled[1].to_hf("half a pair \ud800 here")


def test_special_tokens_in_text_are_matched_like_hf(bundled):
    hf, fast = bundled
    text = "a<|endoftext|>b <|im_start|>user\n12345  6 <|im_end|>\n<|im_start|"
    assert fast.encode(text) == hf.encode(text, add_special_tokens=False).ids
    assert hf.token_to_id("<|endoftext|>") in fast.encode(text)


@pytest.mark.parametrize("shape", ["gpt2", "llama3"])
def test_other_byte_level_shapes_same_ids(tmp_path, shape):
    """GPT-2's ByteLevel-only pre-tokenizer and Llama 3's Split regex + bytes-only ByteLevel, on the bundled
    vocabulary, against HF loading the same file."""
    changed = copy.deepcopy(spec())
    if shape == "gpt2":
        changed["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                                    "use_regex": True}
    else:
        changed["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    hf = Tokenizer.from_file(str(path))
    fast, reason = fast_bpe(path, hf)
    assert reason is None
    texts = real_texts()[:60] + tuple(code_point_texts()[::7])
    assert [fast.encode(t) for t in texts] == hf_ids(hf, texts)


def test_shapes_tiktoken_cannot_match_are_declined():
    assert pattern_of({"type": "Metaspace"}) is None  # sentencepiece-style
    assert unsupported(spec()) is None
    with_normalizer = {**spec(), "normalizer": {"type": "NFC"}}
    assert "normalizer" in unsupported(with_normalizer)
    merges = list(spec()["model"]["merges"])
    merges[10], merges[11] = merges[11], merges[10]
    assert "order" in unsupported({**spec(), "model": {**spec()["model"], "merges": merges}})
    prefixed = {**spec(), "added_tokens": [*spec()["added_tokens"], {**spec()["added_tokens"][0],
                                                                     "content": "<|endoftext|>x", "id": 49999}]}
    assert "prefix" in unsupported(prefixed)


def test_a_token_its_merges_cannot_make_fails_the_check(tmp_path):
    """Without the merge that makes " the", HF's BPE splits " the" where tiktoken looks the token up whole."""
    changed = copy.deepcopy(spec())
    merges = changed["model"]["merges"]
    target = next(m for m in merges if "".join(m.split(" ") if isinstance(m, str) else m) == "Ġthe")
    merges.remove(target)
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    fast, reason = fast_bpe(path, Tokenizer.from_file(str(path)))
    assert fast is None and "split differently" in reason
