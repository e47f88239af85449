"""Embeddings for a list of texts: cached vectors where the cache has them, the backend for the rest
(deduplicated, in chunks each written to the cache as soon as it is computed)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from refinery.embed.backends import EmbeddingBackend
from refinery.embed.cache import EmbeddingCache, text_key

CHUNK = 512  # texts per cache shard: small enough that a killed run loses little


@dataclass
class EmbeddingStats:
    texts: int = 0
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        rate = self.computed / self.seconds if self.seconds else None
        return {"texts": self.texts, "computed": self.computed, "cached": self.cached,
                "seconds": round(self.seconds, 2), "texts_per_second": round(rate, 1) if rate else None}


@dataclass
class Embedder:
    backend: EmbeddingBackend
    cache: EmbeddingCache | None = None
    stats: EmbeddingStats = field(default_factory=EmbeddingStats)

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised, in the order of `texts`."""
        keys = [text_key(t) for t in texts]
        found = self.cache.get(keys) if self.cache else {}
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in found:
                missing.setdefault(key, text)
        todo = list(missing.items())
        start = time.perf_counter()
        for i in range(0, len(todo), CHUNK):
            chunk = todo[i:i + CHUNK]
            vectors = self.backend.embed([t for _, t in chunk])
            if self.cache:
                self.cache.put([k for k, _ in chunk], vectors)
            found.update(zip((k for k, _ in chunk), vectors))
        self.stats.seconds += time.perf_counter() - start if todo else 0.0
        self.stats.texts += len(texts)
        self.stats.computed += len(todo)
        self.stats.cached += len(texts) - sum(1 for k in keys if k in missing)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def open_embedder(options, layout=None, *, api_key: str | None = None, aws_endpoint_url: str | None = None
                  ) -> Embedder:
    """The configured backend with its cache under `layout`'s root (none without a layout)."""
    from refinery.embed import backends

    if options.backend == "openai":
        backend = backends.OpenAIEmbeddingBackend(options.base_url, options.model, api_key, options.batch_size)
    elif options.backend == "sagemaker":
        backend = backends.SageMakerEmbeddingBackend(options.endpoint_name, options.region_name, aws_endpoint_url,
                                                     options.batch_size)
    else:
        backend = backends.SentenceTransformerBackend(options.model, options.batch_size, options.threads)
    cache = EmbeddingCache(layout.at(layout.embedding_cache(backend.model_id))) if layout else None
    return Embedder(backend, cache)


API_KEY_ENV = "REFINERY_EMBEDDINGS_API_KEY"


def open_embedder_in_worker(options, layout=None) -> Embedder:
    """open_embedder for code running in a datatrove worker, which has no resource: the endpoint's key comes
    from the environment, as the EmbeddingsResource's EnvVar would give it."""
    import os

    return open_embedder(options, layout, api_key=os.environ.get(API_KEY_ENV))
