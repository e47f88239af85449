"""One configuration object for the corpus flow, loadable from YAML; each section hashes into the
fingerprint of the stages it affects, so changing a filter re-runs filtering and what follows."""
from __future__ import annotations

import hashlib
import json

from pydantic import Field

from refinery.dedup.options import DedupOptions
from refinery.extract.options import ExtractOptions
from refinery.filters.options import FilterOptions
from refinery.options import StrictOptions


class TokenizeOptions(StrictOptions):
    enabled: bool = True
    tokenizer: str = "default"  # a tokenizer.json path/URI, or "default" for the bundled SmolLM2 tokenizer
    eos_token: str | None = "<|endoftext|>"  # appended after each document
    max_tokens_per_file: int | None = Field(None, gt=0)  # split shards for more shuffling granularity
    shuffle: bool = True
    seed: int = 0


class ExecutionOptions(StrictOptions):
    tasks: int = Field(2, ge=1)  # datatrove tasks (= output shards) per stage and drop; how many run at once is the
    # compute resource's business, not the data's
    # single-task passes (exact and paragraph dedup, which must see a drop in order) cut their output into
    # about `tasks` files of at most this size, so the stages after them still split a drop `tasks` ways
    split_output_bytes: int = Field(128 * 1024 * 1024, gt=0)


class CorpusConfig(StrictOptions):
    extract: ExtractOptions = Field(default_factory=ExtractOptions)
    filters: FilterOptions = Field(default_factory=FilterOptions)
    dedup: DedupOptions = Field(default_factory=DedupOptions)
    tokenize: TokenizeOptions = Field(default_factory=TokenizeOptions)
    execution: ExecutionOptions = Field(default_factory=ExecutionOptions)
    sample_documents: int = Field(3, ge=0)  # documents shown in each materialisation's metadata

    def section_hash(self, *sections: str) -> str:
        """Hash of the named sections; `tasks` counts because it decides shard boundaries."""
        payload = {s: _dump(getattr(self, s)) for s in sections}
        payload["tasks"] = self.execution.tasks
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _dump(section: StrictOptions) -> dict:
    """A section as its fingerprint sees it (a section may leave out what cannot change its output)."""
    return section.fingerprint_dump() if hasattr(section, "fingerprint_dump") else section.model_dump(mode="json")
