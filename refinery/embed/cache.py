"""Vectors cached per text hash under the storage root, one folder per model:
`{root}/embedding_cache/<model_id>/<shard>.npz`. A shard is written per batch of new texts (atomically:
tmp then rename), so a run killed half-way keeps what it computed and a re-run embeds only the rest.
Reading loads each shard's hash list; vectors are read only from shards that hold a wanted text."""
from __future__ import annotations

import hashlib
import io
import zipfile
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datatrove.io import DataFolder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class EmbeddingCache:
    def __init__(self, folder: DataFolder):
        self.folder = folder
        self._index: dict[str, tuple[str, int]] | None = None  # key -> (shard, row)

    def _shards(self) -> list[str]:
        return sorted(f for f in self.folder.list_files(recursive=False) if f.endswith(".npz"))

    def index(self) -> dict[str, tuple[str, int]]:
        if self._index is None:
            self._index = {}
            for shard in self._shards():
                try:
                    with self.folder.open(shard, "rb") as f, np.load(io.BytesIO(f.read())) as npz:
                        keys = npz["keys"]
                except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                    continue  # a torn shard from a killed run: its texts are embedded again
                for row, key in enumerate(keys.tolist()):
                    self._index.setdefault(key, (shard, row))
        return self._index

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        index = self.index()
        by_shard: dict[str, list[str]] = {}
        for key in set(keys):
            if key in index:
                by_shard.setdefault(index[key][0], []).append(key)
        found = {}
        for shard, wanted in by_shard.items():
            with self.folder.open(shard, "rb") as f, np.load(io.BytesIO(f.read())) as npz:
                vectors = npz["vectors"]
            for key in wanted:
                found[key] = vectors[index[key][1]]
        return found

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        if not keys:
            return
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:24] + ".npz"
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys), vectors=np.asarray(vectors, dtype=np.float32))
        self.folder.makedirs("", exist_ok=True)
        with self.folder.open(name + ".tmp", "wb") as f:
            f.write(buffer.getvalue())
        self.folder.mv(name + ".tmp", name)
        index = self.index()
        for row, key in enumerate(keys):
            index.setdefault(key, (name, row))
