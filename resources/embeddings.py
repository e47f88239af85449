"""Text embeddings for the semantic layer. The model is the config file's `embeddings:` section (the bundled
all-MiniLM-L6-v2 by default); an endpoint's key comes from the REFINERY_EMBEDDINGS_API_KEY EnvVar."""
from __future__ import annotations

import dagster as dg

from refinery.embed.embedder import Embedder, open_embedder
from refinery.embed.options import EmbeddingOptions
from refinery.storage import Layout


class EmbeddingsResource(dg.ConfigurableResource):
    api_key: str | None = None  # OpenAI-compatible embeddings servers
    aws_endpoint_url: str | None = None  # SageMaker runtime endpoint override (VPC endpoint, moto)

    def embedder(self, options: EmbeddingOptions, layout: Layout | None) -> Embedder:
        return open_embedder(options, layout, api_key=self.api_key, aws_endpoint_url=self.aws_endpoint_url)
