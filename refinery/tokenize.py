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
# benchmark's three drops). A worker's copy is its own after the fork (refinery/tokenize_step.py).
PRELOADED: dict[str, object] = {}


def preload_tokenizer(name_or_path: str = "default") -> None:
    from datatrove.utils.tokenization import load_tokenizer

    path = resolve_tokenizer(name_or_path)
    PRELOADED[path] = load_tokenizer(path)
