"""USD per million tokens, per model; what a run cost goes into each asset's metadata.

Prices change: they are configuration (`llm.pricing` in the YAML), these defaults are the public list
prices when this was written. Unknown models (local ones) cost 0.
"""
from __future__ import annotations

from refinery.llm.types import Usage
from refinery.options import StrictOptions


class ModelPrice(StrictOptions):
    input: float = 0.0
    output: float = 0.0
    cache_write: float | None = None  # default 1.25 x input (5-minute ephemeral cache)
    cache_read: float | None = None  # default 0.1 x input


DEFAULT_PRICES = {
    "claude-sonnet-4-5": ModelPrice(input=3.0, output=15.0),
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0),
    "claude-opus-4-1": ModelPrice(input=15.0, output=75.0),
}


class Pricing(StrictOptions):
    models: dict[str, ModelPrice] = {}
    batch_discount: float = 0.5  # Message Batches bill half price

    def price(self, model: str) -> ModelPrice | None:
        table = {**DEFAULT_PRICES, **self.models}
        if model in table:
            return table[model]
        # dated snapshots ("claude-haiku-4-5-20251001") price like their family
        return next((p for name, p in table.items() if model.startswith(name)), None)

    def cost(self, model: str, usage: Usage, batch: bool = False) -> float:
        p = self.price(model)
        if p is None:
            return 0.0
        write = p.cache_write if p.cache_write is not None else 1.25 * p.input
        read = p.cache_read if p.cache_read is not None else 0.1 * p.input
        usd = (usage.input_tokens * p.input + usage.output_tokens * p.output
               + usage.cache_creation_input_tokens * write + usage.cache_read_input_tokens * read) / 1e6
        return usd * (self.batch_discount if batch else 1.0)
