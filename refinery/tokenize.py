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
