"""Byte-level BPE tokenizers (the bundled SmolLM2 one, GPT-2's, Llama 3's shape) encoded by tiktoken's Rust BPE
with the ids Hugging Face tokenizers gives: the tokenize stage's encoding at ~1/5 of the CPU (the realdocs
benchmark's deduplicated text, 5.8 M characters: 0.41-0.60 vs 2.7-3.3 CPU-s, every id the same).

tiktoken merges the adjacent pair whose concatenation has the lowest id; HF merges the pair listed first in
`merges`. The two agree when merges are listed in the order of the ids they make and no token is reached
by a split its merge does not name. `fast_bpe` builds an encoder only for a tokenizer.json of a shape both
compute alike (`unsupported` says why not) and checks every vocabulary token through both BPEs when built
(~0.25 CPU-s, once in the forkserver for the bundled tokenizer). Texts that could still differ go to HF:
a character with a byte the vocabulary lacks (HF silently drops such a byte, tiktoken has no rank for it), a
lone surrogate, and characters unassigned in this Python's Unicode tables, where HF's digit splitting
(Rust's `char::is_numeric`) and tiktoken's regex tables may be of different Unicode versions (U+11DE0..9 and
U+16FF4..6, numbers new in recent Unicode versions, were the only disagreements over all code points; every
assigned one is compared in tests/test_tokenize_fast.py).
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

# GPT-2's pre-tokenizer regex (HF ByteLevel's use_regex)
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# Digits(individual_digits) then ByteLevel's regex, as one regex: every digit is a piece of its own, and a
# whitespace run before a digit ends at the digit as a whole (HF splits the digit off first, so the run is
# at the end of its piece, where `\s+(?!\S)` takes all of it).
DIGITS_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?=\p{N})|\s+(?!\S)|\s+"""
_ADDED_TOKEN_FLAGS = ("single_word", "lstrip", "rstrip")


@cache
def _byte_of_char() -> dict[str, int]:
    """GPT-2's bytes_to_unicode, inverted: the printable character each byte is written as in the vocabulary."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def pattern_of(pre_tokenizer: dict | None) -> str | None:
    """The tiktoken regex doing what the pre-tokenizer does, for the shapes byte-level BPE tokenizers use."""
    if not pre_tokenizer:
        return None
    steps = pre_tokenizer["pretokenizers"] if pre_tokenizer.get("type") == "Sequence" else [pre_tokenizer]
    *first, last = steps
    if last.get("type") != "ByteLevel" or last.get("add_prefix_space"):
        return None
    if not first:  # GPT-2
        return GPT2_PATTERN if last.get("use_regex", True) else None
    if len(first) != 1:
        return None
    step = first[0]
    if step.get("type") == "Digits" and step.get("individual_digits") and last.get("use_regex", True):
        return DIGITS_PATTERN  # SmolLM2, StarCoder
    if (step.get("type") == "Split" and "Regex" in (step.get("pattern") or {}) and step.get("behavior") == "Isolated"
            and not step.get("invert") and not last.get("use_regex", True)):
        return step["pattern"]["Regex"]  # Llama 3, Qwen 2: their regex, then bytes only
    return None


def unsupported(spec: dict) -> str | None:
    """Why tiktoken cannot encode this tokenizer.json like HF does (None: it can, once `check_tokens` passes)."""
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        return f"model {model.get('type')!r} is not BPE"
    if spec.get("normalizer"):
        return "the tokenizer has a normalizer"
    if pattern_of(spec.get("pre_tokenizer")) is None:
        return "the pre-tokenizer is not byte-level BPE's (ByteLevel, Digits+ByteLevel or Split+ByteLevel)"
    for key in ("dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            return f"BPE option {key} is set"
    if model.get("byte_fallback"):
        return "BPE byte_fallback is set"
    added = spec.get("added_tokens") or []
    if any(token.get(flag) for token in added for flag in _ADDED_TOKEN_FLAGS):
        return "an added token strips spaces or matches single words"
    contents = sorted(token["content"] for token in added)
    if any(b.startswith(a) for a, b in zip(contents, contents[1:])):
        return "an added token is a prefix of another (HF matches the longest, tiktoken the first)"
    vocab, byte_of = model.get("vocab") or {}, _byte_of_char()
    if any(ch not in byte_of for token in vocab for ch in token):
        return "the vocabulary is not written in byte-level characters"
    merged = [vocab.get("".join(m.split(" ", 1) if isinstance(m, str) else m)) for m in model.get("merges") or []]
    if None in merged or any(b <= a for a, b in zip(merged, merged[1:])):
        return "merges are not listed in the order of the ids they make"
    return None


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class FastBPE:
    """`encode(text)`: the ids HF's `encode(text, add_special_tokens=False).ids` gives, by tiktoken."""

    def __init__(self, spec: dict, hf_tokenizer):
        import tiktoken

        byte_of = _byte_of_char()
        self.specials = {token["content"]: token["id"] for token in spec.get("added_tokens") or []}
        self.ranks = {bytes(byte_of[ch] for ch in token): i for token, i in spec["model"]["vocab"].items()
                      if token not in self.specials}
        missing = [b for b in range(256) if bytes([b]) not in self.ranks]
        # a missing continuation byte would send most non-ASCII text to HF: `fast_bpe` declines then
        self.continuation_missing = any(0x80 <= b <= 0xBF for b in missing)
        self._ascii_to_hf = [chr(b) for b in missing if b < 0x80]
        self._leads_to_hf = frozenset(b for b in missing if b >= 0xC2)  # C0, C1, F5..FF never occur in UTF-8
        self._verdicts: dict[str, bool] = {}
        self.hf = hf_tokenizer
        post = spec.get("post_processor")
        # what HF's encode(add_special_tokens=True) adds besides (a BOS, say); the tokenize step's EOS replaces it
        self.post_processor_adds = bool(post) and post.get("type") != "ByteLevel"
        self._encoding = tiktoken.Encoding("refinery-bpe", pat_str=pattern_of(spec["pre_tokenizer"]),
                                           mergeable_ranks=self.ranks, special_tokens=self.specials)

    def encode(self, text: str) -> list[int]:
        if self.to_hf(text):
            return self.hf.encode(text, add_special_tokens=False).ids
        return self._encoding.encode(text, allowed_special="all")

    def to_hf(self, text: str) -> bool:
        """Whether `text` holds a character only HF is sure to encode its way (see the module docstring)."""
        if any(ch in text for ch in self._ascii_to_hf):
            return True
        if text.isascii():
            return False
        verdicts = self._verdicts
        for ch in set("".join(_NON_ASCII.findall(text))):
            if (verdict := verdicts.get(ch)) is None:
                code = ord(ch)
                verdict = verdicts[ch] = (0xD800 <= code <= 0xDFFF or unicodedata.category(ch) == "Cn"
                                          or ch.encode("utf-8")[0] in self._leads_to_hf)
            if verdict:
                return True
        return False

    def check_tokens(self) -> str | None:
        """None when every vocabulary token, as a piece of its own, gets the same ids from both BPEs (the
        merge orders above agree on every token's own bytes); else the first token that does not."""
        char_of = {b: ch for ch, b in _byte_of_char().items()}
        for piece in self.ranks:
            hf_ids = [token.id for token in self.hf.model.tokenize("".join(char_of[b] for b in piece))]
            if hf_ids != self._encoding._encode_single_piece(piece):
                return f"token {piece!r} is split differently ({hf_ids})"
        return None


def fast_bpe(path: str | Path, hf_tokenizer) -> tuple[FastBPE | None, str | None]:
    """(the encoder, None), or (None, why HF keeps encoding) for the tokenizer.json at `path`."""
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, f"cannot read {path}: {e}"
    if reason := unsupported(spec):
        return None, reason
    fast = FastBPE(spec, hf_tokenizer)
    if fast.continuation_missing:
        return None, "a UTF-8 continuation byte is missing from the vocabulary"
    if reason := fast.check_tokens():
        return None, reason
    return fast, None
