"""The LLM backend every SFT/preference asset calls. Embedded offline model by default; switching to
Anthropic is one setting (REFINERY_LLM=anthropic, key from the ANTHROPIC_API_KEY EnvVar). The key is
never logged: Dagster masks EnvVar values and the backends keep it out of errors and reprs."""
from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.llm.pricing import Pricing
from refinery.storage import Layout

DEFAULT_MODELS = {"embedded": "smollm2-135m-instruct", "anthropic": "claude-haiku-4-5"}


class LLMResource(dg.ConfigurableResource):
    backend: Literal["embedded", "anthropic", "openai", "sagemaker"] = "embedded"
    model: str | None = None  # default model of the methods and judges; per-method overrides in the YAML
    api_key: str | None = None  # Anthropic / OpenAI-compatible servers
    base_url: str | None = None  # Anthropic-compatible proxy or fake, or the OpenAI-compatible server
    endpoint_name: str | None = None  # SageMaker
    region_name: str | None = None
    aws_endpoint_url: str | None = None  # SageMaker runtime endpoint override (VPC endpoint, moto)
    max_concurrency: int = Field(8, ge=1)  # requests in flight per asset; the `llm` pool bounds assets
    # processes generating with the embedded model at once (None: one per usable CPU, at most 4)
    embedded_workers: int | None = Field(None, ge=1)
    max_retries: int = Field(4, ge=0)
    timeout: float = 60.0
    use_batches: bool = False  # Anthropic Message Batches: half price, answers within 24 h
    batch_poll_seconds: float = 30.0
    retry_failed: bool = False  # re-send requests that failed for good in an earlier run
    budget_usd: float | None = Field(None, ge=0)  # --budget: caps each flow's fresh calls, over `llm.budget_usd`
    external: bool | None = None  # does text leave the organisation? None: Anthropic and OpenAI yes

    def default_model(self) -> str:
        model = self.model or DEFAULT_MODELS.get(self.backend) or self.endpoint_name
        if not model:
            raise ValueError(f"llm.model is required for the {self.backend} backend")
        return model

    def is_external(self) -> bool:
        return self.external if self.external is not None else self.backend in ("anthropic", "openai")

    def client(self, layout: Layout, pricing: Pricing | None = None, **overrides: str | None) -> LLMClient:
        """`overrides` (backend, base_url, endpoint_name) point one client elsewhere with this resource's keys,
        region and limits: the preference loop's policy endpoint and reference models."""
        cache = ResponseCache(layout.at(layout.llm_cache()))
        settings = {k: v for k, v in overrides.items() if v is not None}
        return LLMClient(self._backend(**settings), cache, pricing, retry_failed=self.retry_failed)

    def model_for(self, backend: str | None = None, model: str | None = None,
                  endpoint_name: str | None = None) -> str:
        """The model name a source's requests carry (and its cache keys): explicit, else the backend's."""
        if backend in (None, self.backend) and not endpoint_name:
            return model or self.default_model()
        found = model or DEFAULT_MODELS.get(backend or self.backend) or endpoint_name
        if not found:
            raise ValueError(f"a model is required for the {backend} source")
        return found

    def _backend(self, backend: str | None = None, base_url: str | None = None, endpoint_name: str | None = None):
        # imported here: each SDK (and torch, for the embedded model) loads only when its backend is used
        backend = backend or self.backend
        base_url = base_url or (self.base_url if backend == self.backend else None)
        endpoint_name = endpoint_name or self.endpoint_name
        if backend == "embedded":
            from refinery.llm.embedded_backend import EmbeddedBackend
            return EmbeddedBackend(workers=self.embedded_workers)
        if backend == "anthropic":
            from refinery.llm.anthropic_backend import AnthropicBackend
            if not self.api_key:
                raise ValueError("the anthropic backend needs an API key: set ANTHROPIC_API_KEY")
            return AnthropicBackend(api_key=self.api_key, base_url=base_url, max_concurrency=self.max_concurrency,
                                    max_retries=self.max_retries, timeout=self.timeout, use_batches=self.use_batches,
                                    batch_poll_seconds=self.batch_poll_seconds)
        if backend == "openai":
            from refinery.llm.openai_backend import OpenAICompatibleBackend
            if not base_url:
                raise ValueError("the openai backend needs base_url (the vLLM/TGI/llama.cpp server)")
            return OpenAICompatibleBackend(base_url=base_url, api_key=self.api_key or "EMPTY",
                                           max_concurrency=self.max_concurrency, max_retries=self.max_retries,
                                           timeout=self.timeout)
        from refinery.llm.sagemaker_backend import SageMakerBackend
        if not endpoint_name:
            raise ValueError("the sagemaker backend needs endpoint_name")
        return SageMakerBackend(endpoint_name=endpoint_name, region_name=self.region_name,
                                endpoint_url=self.aws_endpoint_url, max_concurrency=self.max_concurrency,
                                max_retries=self.max_retries, timeout=self.timeout)
