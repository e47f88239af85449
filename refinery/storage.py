"""One storage root URI (local folder, s3://bucket/prefix, or an FSx/POSIX mount) and every path under it.

Nothing else in the code base builds storage paths: stages ask `Layout` for them.
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datatrove.io import DataFolder

_PARTITION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$")


def check_partition_key(key: str) -> str:
    """Partition keys become folder names and minhash index names, so keep them path- and regex-safe."""
    if not _PARTITION_RE.match(key):
        raise ValueError(f"invalid drop/partition name {key!r}: use letters, digits, '.', '_', '-', '='")
    return key


def storage_options(uri: str, endpoint_url: str | None = None) -> dict[str, Any]:
    """fsspec options for a URI; an S3 endpoint (MinIO, moto, VPC endpoint) is the only knob we need."""
    if uri.startswith("s3://") and endpoint_url:
        return {"client_kwargs": {"endpoint_url": endpoint_url}}
    return {}


def data_folder(uri: str, endpoint_url: str | None = None) -> DataFolder:
    from datatrove.io import DataFolder  # here: importing this module (config loading does) stays cheap

    return DataFolder(uri, **storage_options(uri, endpoint_url))


def join(*parts: str) -> str:
    head, *rest = parts
    return posixpath.join(head.rstrip("/"), *[p.strip("/") for p in rest if p])


@dataclass(frozen=True)
class Layout:
    """Derives every corpus path from the storage root.

    {root}/corpus/{drop}/{stage}/...     stage outputs (datatrove JSONL.gz, token shards)
    {root}/corpus/{drop}/_dropped/...    documents removed by a filter or dedup, with their reason
    {root}/corpus/{drop}/_state/...      stage markers, datatrove logs, scratch
    {root}/corpus/_index/{kind}/...      dedup indexes of accepted documents, one set per drop
    """

    root: str
    endpoint_url: str | None = None

    def uri(self, *parts: str) -> str:
        return join(self.root, *parts)

    def relative(self, uri: str) -> str:
        """A URI under the root as its path from the root: what stored records keep, so that a moved
        root stays valid and the machine's layout is not written into the data."""
        root = self.root.rstrip("/") + "/"
        return uri[len(root):] if uri.startswith(root) else uri

    def at(self, uri: str) -> DataFolder:
        """A DataFolder for a URI this layout produced (carries the endpoint options)."""
        return data_folder(uri, self.endpoint_url)

    def drop(self, drop: str, *parts: str) -> str:
        return self.uri("corpus", check_partition_key(drop), *parts)

    def dropped(self, drop: str, stage: str, reason: str = "") -> str:
        return self.drop(drop, "_dropped", stage, reason)

    def quarantine(self, drop: str) -> str:
        return self.drop(drop, "_quarantine")

    def state(self, drop: str, *parts: str) -> str:
        return self.drop(drop, "_state", *parts)

    def index(self, kind: str) -> str:
        return self.uri("corpus", "_index", kind)

    def sft(self, *parts: str) -> str:
        """{root}/sft/{chunks,generated/<method>,filtered/<method>,judged/<method>,dataset,review,_state}"""
        return self.uri("sft", *parts)

    def preference(self, *parts: str) -> str:
        """{root}/preference/{rounds/<round>/<stage>,logs,_state}: the preference loop, one folder per round."""
        return self.uri("preference", *parts)

    def llm_cache(self) -> str:
        """One request cache per storage root, shared by every flow: the same call is never paid twice."""
        return self.uri("llm_cache")

    def embedding_cache(self, model_id: str) -> str:
        """Text embeddings per model, keyed by text hash (refinery/embed/cache.py)."""
        return self.uri("embedding_cache", model_id)

    def model(self, name: str, *parts: str) -> str:
        """Trained models, one folder per version: {root}/models/<name>/<version>/ (refinery/quality/artifact.py)."""
        return self.uri("models", name, *parts)

    def explore_cache(self) -> str:
        """2-D projections and neighbour lists of explored targets, keyed by model and texts (refinery/explore/)."""
        return self.uri("explore_cache")

    def read_json(self, uri: str) -> dict | list | None:
        folder = data_folder(posixpath.dirname(uri), self.endpoint_url)
        name = posixpath.basename(uri)
        if not folder.isfile(name):
            return None
        with folder.open(name, "rt") as f:
            return json.load(f)

    def write_json(self, uri: str, payload: dict | list) -> None:
        folder = data_folder(posixpath.dirname(uri), self.endpoint_url)
        with folder.open(posixpath.basename(uri), "wt") as f:
            json.dump(payload, f, indent=2, sort_keys=True, default=str)

    def remove_file(self, uri: str) -> None:
        folder = data_folder(posixpath.dirname(uri), self.endpoint_url)
        if folder.isfile(posixpath.basename(uri)):
            folder.rm(posixpath.basename(uri))

    def remove(self, uri: str) -> None:
        folder = data_folder(uri, self.endpoint_url)
        if folder.exists(""):
            folder.rm("", recursive=True)
