"""The SFT flow's configuration: the `sft:` section of the same YAML file as the corpus flow's."""
from __future__ import annotations

import hashlib

from pydantic import Field, create_model

from refinery.llm.failures import LLMStageOptions
from refinery.llm.pricing import Pricing
from refinery.llmdata.judge import JudgeOptions
from refinery.llmdata.prompts import PROMPTS_DIR
from refinery.options import StrictOptions
from refinery.sft.chunking import ChunkOptions
from refinery.sft.export import ExportOptions
from refinery.sft.filter_options import SemanticDedupOptions, SFTFilterOptions
from refinery.sft.methods import METHODS

# one field per registered method, each with its own options class and defaults
_MethodOptions = create_model(
    "MethodOptions", __base__=StrictOptions,
    **{name: (options, Field(default_factory=options)) for name, (options, _) in METHODS.items()},
)


class GenerationOptions(_MethodOptions):
    def for_method(self, method: str) -> StrictOptions:
        if method not in METHODS:
            raise ValueError(f"unknown generation method {method!r}; known: {', '.join(METHODS)}")
        return getattr(self, method)


class SFTConfig(StrictOptions):
    methods: list[str] = Field(default_factory=lambda: list(METHODS))  # which methods the dataset includes
    seed: int = 0  # sampling seeds derive from it: same seed, same requests, cache hits
    chunking: ChunkOptions = Field(default_factory=ChunkOptions)
    generation: GenerationOptions = Field(default_factory=GenerationOptions)
    filters: SFTFilterOptions = Field(default_factory=SFTFilterOptions)
    judge: JudgeOptions = Field(default_factory=JudgeOptions)
    # after judging, across methods: rewordings of one question, the best judged kept (refinery/sft/semantic_dedup.py)
    semantic_dedup: SemanticDedupOptions = Field(default_factory=SemanticDedupOptions)
    export: ExportOptions = Field(default_factory=ExportOptions)
    pricing: Pricing = Field(default_factory=Pricing)
    llm: LLMStageOptions = Field(default_factory=LLMStageOptions)  # e.g. {max_failure_share: 0.1}



def templates_fingerprint() -> str:
    """Hash of every bundled prompt template: editing one re-runs the LLM stages (the cache then only
    pays for requests whose text actually changed)."""
    digest = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.glob("*.yaml")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()
