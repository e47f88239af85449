"""What a flow needs from the LLM configuration: clients (one ledger each) for the default backend or a source
that names another, and the model names their requests carry. `resources.LLMResource` is the implementation;
tests pass the same resource or any object with these methods."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from refinery.llm.client import LLMClient
    from refinery.llm.pricing import Pricing
    from refinery.storage import Layout


class LLMProvider(Protocol):
    def client(self, layout: Layout, pricing: Pricing | None = None, **overrides: str | None) -> LLMClient: ...

    def default_model(self) -> str: ...

    def model_for(self, backend: str | None = None, model: str | None = None,
                  endpoint_name: str | None = None) -> str: ...

    def is_external(self) -> bool: ...
