"""Which tokenizer the token shards use. The default ships in this package (SmolLM2's byte-level BPE,
see data/tokenizers/smollm2-135m/NOTICE.md) so tokenization works offline."""
from __future__ import annotations

from pathlib import Path

DEFAULT_TOKENIZER = Path(__file__).parent / "data" / "tokenizers" / "smollm2-135m" / "tokenizer.json"


def resolve_tokenizer(name_or_path: str) -> str:
    """'default' -> the bundled tokenizer.json; a local file stays a path; anything else is a hub name that
    datatrove resolves from the local Hugging Face cache (with HF_HUB_OFFLINE=1 it fails fast if absent)."""
    if name_or_path == "default":
        return str(DEFAULT_TOKENIZER)
    path = Path(name_or_path).expanduser()
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return str(path / "tokenizer.json")
    return str(path) if path.is_file() else name_or_path


# Tokenizers loaded before the workers fork (the local runner's forkserver loads the bundled one): each worker
# of the tokenize stage otherwise parses the 3.5 MB tokenizer.json again (~0.12 CPU-s, 6 times on the realdocs
# benchmark's three drops) and builds and checks its tiktoken encoder (~0.3 CPU-s). A worker's copy is its own
# after the fork (refinery/tokenize_step.py).
PRELOADED: dict[str, object] = {}
FAST: dict[str, tuple[object, str | None]] = {}  # path -> refinery.tokenize_fast.fast_bpe's (encoder, reason)


def preload_tokenizer(name_or_path: str = "default") -> None:
    from datatrove.utils.tokenization import load_tokenizer

    path = resolve_tokenizer(name_or_path)
    PRELOADED[path] = load_tokenizer(path)
    fast_encoder(path, PRELOADED[path])


def fast_encoder(path: str, hf_tokenizer):
    """The tiktoken encoder for the tokenizer.json at `path` (None: HF encodes; FAST[path][1] says why), built
    once per process; a hub name (no local file) keeps HF."""
    from refinery.tokenize_fast import fast_bpe

    if path not in FAST:
        FAST[path] = fast_bpe(path, hf_tokenizer) if Path(path).is_file() else (None, "not a local tokenizer.json")
    return FAST[path][0]
