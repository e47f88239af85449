"""Semantic near-duplicate documents (optional, off by default): documents whose embeddings are within a cosine
threshold of an earlier document's are dropped, the earliest copy winning as in the other passes, against this drop and the kept
documents of every earlier drop (`_index/semantic/<drop>.npz`, float16 vectors).

A document's vector is the mean of its windows' vectors (up to `max_windows` windows of ~1,200 characters, evenly
spaced past that): the bundled all-MiniLM-L6-v2 reads only 256 word pieces, so embedding a page whole would
compare beginnings (two pages opening with the same preamble would look alike, a page reworded past its first
screen would not). Averaging every window keeps the vector stable when a few paragraphs are left out.

It finds what MinHash cannot: the same page reworded, or converted so differently that few 5-grams survive. It
costs ~70 CPU-s per 1,000 documents on 2 cores (bench/embeddings.py: 14.5 documents per CPU-second), the
embedding of each document being most of it; the vectors are cached under the root, so a re-run pays only the
search. One task (the order decides which copy wins); exact search keeps every earlier drop's vectors in memory
(768 bytes per kept document): past a few million documents this wants an ANN index."""
from __future__ import annotations

import contextlib
import io

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter

from refinery.dedup.options import SemanticDocumentOptions

BATCH = 256  # documents embedded (and written to the cache) at once
WINDOW_CHARS = 1200  # ~256 word pieces of English prose


def windows(text: str, max_windows: int) -> list[str]:
    """Paragraphs packed into windows of about WINDOW_CHARS; at most `max_windows`, evenly spaced."""
    out, current = [], ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + len(paragraph) > WINDOW_CHARS:
            out.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
        while len(current) > 2 * WINDOW_CHARS:  # one long paragraph (a table, a code listing)
            out.append(current[:WINDOW_CHARS])
            current = current[WINDOW_CHARS:]
    if current.strip():
        out.append(current)
    if len(out) > max_windows:
        out = [out[round(i * (len(out) - 1) / (max_windows - 1))] for i in range(max_windows)] if max_windows > 1 \
            else out[:1]
    return out or [text]


def document_vectors(embedder, texts: list[str], max_windows: int) -> np.ndarray:
    parts = [windows(t, max_windows) for t in texts]
    flat = embedder.embed([w for p in parts for w in p])
    vectors, start = [], 0
    for p in parts:
        v = flat[start:start + len(p)].mean(axis=0)
        vectors.append(v / (np.linalg.norm(v) or 1.0))
        start += len(p)
    return np.array(vectors, dtype=np.float32)


class SemanticDocumentDedup(PipelineStep):
    type = "🫂 - DEDUP"
    name = "🧭 semantic documents"

    def __init__(self, index_folder: DataFolderLike, drop: str, earlier_drops: list[str],
                 options: SemanticDocumentOptions, storage_root: str, endpoint_url: str | None = None,
                 exclusion_writer: DiskWriter | None = None, embeddings=None):
        super().__init__()
        self.index = get_datafolder(index_folder)
        self.drop, self.earlier, self.options = drop, list(earlier_drops), options
        self.embeddings = embeddings  # EmbeddingOptions (the `embeddings:` section); None: the bundled model
        self.root, self.endpoint_url, self.exclusion_writer = storage_root, endpoint_url, exclusion_writer

    def _embedder(self):
        from refinery.embed.embedder import open_embedder_in_worker
        from refinery.embed.options import EmbeddingOptions
        from refinery.storage import Layout

        return open_embedder_in_worker(self.embeddings or EmbeddingOptions(), Layout(self.root, self.endpoint_url))

    def _earlier(self) -> tuple[np.ndarray, list[str]]:
        """The kept documents of every earlier drop: (vectors, ids)."""
        parts, ids = [], []
        for drop in self.earlier:
            name = f"{drop}.npz"
            if self.index.isfile(name):
                with self.index.open(name, "rb") as f, np.load(io.BytesIO(f.read())) as npz:
                    if len(npz["ids"]):
                        parts.append(npz["vectors"].astype(np.float32))
                        ids += npz["ids"].tolist()
        return (np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)), ids

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError("SemanticDocumentDedup must run as one task so the earliest copy wins deterministically")
        embedder, (earlier, earlier_ids) = self._embedder(), self._earlier()
        kept_vectors: list[np.ndarray] = []
        kept_ids: list[str] = []
        threshold = self.options.threshold
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            batch: list = []
            for doc in [*data, None]:  # None flushes the last batch
                if doc is not None:
                    batch.append(doc)
                    if len(batch) < BATCH:
                        continue
                if not batch:
                    break
                with self.track_time():
                    vectors = document_vectors(embedder, [d.text for d in batch], self.options.max_windows)
                for d, v in zip(batch, vectors):
                    self.stat_update("total")
                    best, of = -1.0, None
                    for vectors_, ids in ((earlier, earlier_ids), (kept_vectors, kept_ids)):
                        if len(ids):
                            sims = (vectors_ if isinstance(vectors_, np.ndarray) else np.stack(vectors_)) @ v
                            i = int(np.argmax(sims))
                            if sims[i] > best:
                                best, of = float(sims[i]), ids[i]
                    if best >= threshold:
                        self.stat_update("dropped", "dropped_semantic_duplicate")
                        if writer:
                            d.metadata["filter_reason"] = "semantic_duplicate"
                            d.metadata["semantic_similarity"] = round(best, 4)
                            d.metadata["semantic_duplicate_of"] = of
                            writer.write(d, rank)
                        continue
                    kept_vectors.append(v)
                    kept_ids.append(d.id)
                    self.stat_update("forwarded")
                    yield d
                batch = []
        # written only after the whole drop went through, so a killed run leaves none
        buffer = io.BytesIO()
        np.savez(buffer, ids=np.array(kept_ids, dtype=str), vectors=np.stack(kept_vectors).astype(np.float16)
                 if kept_vectors else np.zeros((0, 0), dtype=np.float16))
        self.index.makedirs("", exist_ok=True)
        with self.index.open(f"{self.drop}.npz", "wb") as f:
            f.write(buffer.getvalue())
