"""Vectors, neighbours and the 2-D map of a table. Vectors come from the configured Embedder (cached per text
under the root, so a second view of the same records embeds nothing); neighbours are exact cosine over those
vectors; the map is UMAP on that exact neighbour graph, cached under `<root>/explore_cache/` by model and texts.

Exact search is a matrix product: one query costs N·d (fine for millions), the whole neighbour graph N²·d, done in
blocks: 20,000 records of 384 dimensions take 3.8 s (5.9 CPU-s, 2 cores, 2026-12-03), 1e5 would take ~25× that.
Past EXACT_LIMIT the graph comes from UMAP's own approximate search (NN-descent, pynndescent); a corpus of millions
would want a vector index (FAISS, hnswlib) for the single queries too."""
from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from refinery.embed.cache import text_key
from refinery.embed.embedder import Embedder
from refinery.storage import Layout

EXACT_LIMIT = 20_000  # records up to which the neighbour graph is exact
NEIGHBOURS = 15  # per record: UMAP's n_neighbors and the list the record view shows
BLOCK = 2048  # query rows per matrix product (BLOCK x N floats of similarities in memory)
PROJECTION_VERSION = "umap-0.5-v1"  # bump when the projection's parameters change: old cache entries go unused


def vectoriser(kind: str, config, embedder: Embedder) -> tuple[Callable[[list[str]], np.ndarray], str]:
    """(texts -> vectors, a name for how) as the dedup passes compute them, so a map shows the similarities that
    decided a drop and reuses the vectors they cached: a corpus document is the mean of its ~1,200-character
    windows (refinery/dedup/semantic.py: the model reads 256 word pieces, a whole page would compare beginnings);
    an SFT record is embedded whole (its text is what sft.semantic_dedup embeds: the prompt by default)."""
    if kind == "corpus":
        from refinery.dedup.semantic import document_vectors

        windows = config.corpus.dedup.semantic.max_windows if config is not None else 16
        return (lambda texts: document_vectors(embedder, texts, windows)), f"{embedder.model_id}|windows-{windows}"
    return embedder.embed, f"{embedder.model_id}|whole"


def nearest(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine similarities) of the k rows of `vectors` most similar to each query, best first. Rows are
    L2-normalised, so cosine is a dot product; ties keep the lower index first."""
    k = min(k, len(vectors))
    out_idx = np.empty((len(queries), k), dtype=np.int64)
    out_sim = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), BLOCK):
        sims = queries[start:start + BLOCK] @ vectors.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < len(vectors) else np.tile(np.arange(k), (len(sims), 1))
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.lexsort((top, -top_sims), axis=1)
        out_idx[start:start + BLOCK] = np.take_along_axis(top, order, axis=1)
        out_sim[start:start + BLOCK] = np.take_along_axis(top_sims, order, axis=1)
    return out_idx, out_sim


def neighbour_graph(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each record's k nearest others plus itself in column 0 (UMAP's layout), exact up to EXACT_LIMIT."""
    n = len(vectors)
    if n > EXACT_LIMIT:
        from umap.umap_ import nearest_neighbors

        idx, dist, _ = nearest_neighbors(vectors, n_neighbors=k + 1, metric="cosine", metric_kwds=None,
                                         angular=False, random_state=np.random.RandomState(0))
        return idx.astype(np.int64), (1 - dist).astype(np.float32)
    idx, sims = nearest(vectors, vectors, k + 1)
    # a record identical to another may rank behind it: put each record itself first
    for row in np.nonzero(idx[:, 0] != np.arange(n))[0]:
        if idx[row, 0] != row:
            where = np.nonzero(idx[row] == row)[0]
            at = where[0] if len(where) else k
            idx[row, 1:at + 1], sims[row, 1:at + 1] = idx[row, :at].copy(), sims[row, :at].copy()
            idx[row, 0], sims[row, 0] = row, 1.0
    return idx, sims


def project(vectors: np.ndarray, idx: np.ndarray, sims: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, 2) float32 map coordinates: UMAP on the given neighbour graph (cosine), seeded."""
    n = len(vectors)
    if n < 5:  # UMAP's spectral start needs a few points; a handful is shown on a line
        return np.column_stack([np.arange(n, dtype=np.float32), np.zeros(n, dtype=np.float32)])
    import umap

    k = idx.shape[1]
    dist = np.clip(1 - sims, 0, None).astype(np.float32)
    dist[:, 0] = 0.0
    reducer = umap.UMAP(n_neighbors=k, metric="cosine", random_state=seed, precomputed_knn=(idx, dist, None),
                        init="spectral" if n > k + 1 else "random", n_jobs=1)
    import warnings

    with warnings.catch_warnings():  # "n_jobs overridden by random_state", "precomputed_knn without search index"
        warnings.simplefilter("ignore")
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


@dataclass
class Map:
    vectors: np.ndarray
    xy: np.ndarray  # (N, 2)
    neighbours: np.ndarray  # (N, k) row indices, self excluded, best first
    similarities: np.ndarray  # (N, k) cosine
    seconds: dict[str, float] = field(default_factory=dict)  # embed, neighbours, projection
    cached_projection: bool = False


def build_map(texts: list[str], vectorise: Callable[[list[str]], np.ndarray], how: str, layout: Layout | None,
              seed: int = 0) -> Map:
    """Vectors (cached per text by the Embedder), the neighbour graph and the 2-D map (cached per model and
    method, texts and seed). `how` names the model and the way texts become vectors."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    vectors = vectorise(texts) if texts else np.zeros((0, 1), np.float32)
    seconds["embed"] = time.perf_counter() - start
    k = min(NEIGHBOURS, max(len(texts) - 1, 0))
    key = _projection_key(how, texts, k, seed)
    cached = _load(layout, key)
    if cached is not None:
        xy, idx, sims = cached
        seconds["neighbours"] = seconds["projection"] = 0.0
        return Map(vectors, xy, idx, sims, seconds, cached_projection=True)
    start = time.perf_counter()
    idx, sims = neighbour_graph(vectors, k) if k else (np.zeros((len(texts), 1), np.int64),
                                                      np.ones((len(texts), 1), np.float32))
    seconds["neighbours"] = time.perf_counter() - start
    start = time.perf_counter()
    xy = project(vectors, idx, sims, seed)
    seconds["projection"] = time.perf_counter() - start
    idx, sims = idx[:, 1:], sims[:, 1:]
    _save(layout, key, xy, idx, sims)
    return Map(vectors, xy, idx, sims, seconds)


def _projection_key(how: str, texts: list[str], k: int, seed: int) -> str:
    digest = hashlib.sha256(f"{PROJECTION_VERSION}|{how}|{k}|{seed}".encode())
    for text in texts:
        digest.update(text_key(text).encode())
    return digest.hexdigest()[:32]


def _load(layout: Layout | None, key: str):
    if layout is None:
        return None
    folder = layout.at(layout.explore_cache())
    if not folder.isfile(f"{key}.npz"):
        return None
    try:
        with folder.open(f"{key}.npz", "rb") as f, np.load(io.BytesIO(f.read())) as npz:
            return npz["xy"], npz["neighbours"], npz["similarities"]
    except (OSError, ValueError, KeyError):
        return None  # torn by a killed run: computed again


def _save(layout: Layout | None, key: str, xy: np.ndarray, idx: np.ndarray, sims: np.ndarray) -> None:
    if layout is None:
        return
    folder = layout.at(layout.explore_cache())
    buffer = io.BytesIO()
    np.savez(buffer, xy=xy, neighbours=idx, similarities=sims)
    folder.makedirs("", exist_ok=True)
    with folder.open(f"{key}.npz.tmp", "wb") as f:
        f.write(buffer.getvalue())
    folder.mv(f"{key}.npz.tmp", f"{key}.npz")
