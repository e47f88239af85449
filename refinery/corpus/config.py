"""One configuration object for the corpus flow, loadable from YAML; each section hashes into the
fingerprint of the stages it affects, so changing a filter re-runs filtering and what follows."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
import yaml
from pydantic import BaseModel, ConfigDict, Field

from refinery.extract.options import ExtractOptions
from refinery.filters.options import FilterOptions


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MinhashOptions(_Strict):
    enabled: bool = True
    n_grams: int = 5  # word 5-gram shingles after datatrove's text normalisation
    # 20 bands x 8 rows: P(candidate) >= 0.97 at Jaccard 0.8, ~0 below 0.4 (bench/near_dup.py measures it)
    num_buckets: int = 20
    hashes_per_bucket: int = 8
    seed: int = 1


class SentenceDedupOptions(_Strict):
    enabled: bool = False  # finer than documents but can leave incoherent paragraphs (Llama 3 does it)
    n_sentences: int = 3  # spans of this many sentences are hashed and removed when repeated
    min_doc_words: int = 50  # documents left shorter than this are dropped


class DedupOptions(_Strict):
    exact: bool = True  # whole-document hash (whitespace-trimmed text)
    paragraphs: bool = True  # CCNet: first 64 bits of SHA-1 of each normalised paragraph (line)
    min_paragraph_chars: int = 20  # shorter lines (headings, table rules) are never removed
    minhash: MinhashOptions = Field(default_factory=MinhashOptions)
    sentences: SentenceDedupOptions = Field(default_factory=SentenceDedupOptions)


class TokenizeOptions(_Strict):
    enabled: bool = True
    tokenizer: str = "default"  # a tokenizer.json path/URI, or "default" for the bundled SmolLM2 tokenizer
    eos_token: str | None = "<|endoftext|>"  # appended after each document
    max_tokens_per_file: int | None = None  # split shards for more shuffling granularity
    shuffle: bool = True
    seed: int = 0


class ExecutionOptions(_Strict):
    tasks: int = 2  # datatrove tasks (= output shards) per stage and drop; how many run at once is the
    # compute resource's business, not the data's


class CorpusConfig(_Strict):
    extract: ExtractOptions = Field(default_factory=ExtractOptions)
    filters: FilterOptions = Field(default_factory=FilterOptions)
    dedup: DedupOptions = Field(default_factory=DedupOptions)
    tokenize: TokenizeOptions = Field(default_factory=TokenizeOptions)
    execution: ExecutionOptions = Field(default_factory=ExecutionOptions)
    sample_documents: int = 3  # documents shown in each materialisation's metadata

    @classmethod
    def load(cls, path: str | Path | None) -> "CorpusConfig":
        if not path:
            return cls()
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.model_validate(data)

    def section_hash(self, *sections: str) -> str:
        """Hash of the named sections; `tasks` counts because it decides shard boundaries."""
        payload = {s: getattr(self, s).model_dump(mode="json") for s in sections}
        payload["tasks"] = self.execution.tasks
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
