"""Where raw drops come from and where every output goes. Local folders by default; s3:// URIs (optionally
with an endpoint: MinIO, a VPC endpoint, moto in tests) or an FSx/POSIX mount path in production."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import dagster as dg
from fsspec.implementations.local import LocalFileSystem

from refinery.storage import Layout, check_partition_key, data_folder


def _absolute(uri: str) -> str:
    return uri if "://" in uri else str(Path(uri).expanduser().resolve())


class StorageResource(dg.ConfigurableResource):
    root: str = "data"  # storage root for every output (a folder, s3://bucket/prefix or a mount)
    raw_root: str = "samples/raw"  # raw documents: one sub-folder (or prefix) per drop
    endpoint_url: str | None = None  # S3-compatible endpoint for both, when not AWS itself

    def layout(self) -> Layout:
        return Layout(_absolute(self.root), self.endpoint_url)

    def raw_uri(self) -> str:
        return _absolute(self.raw_root)

    def loose_files(self) -> list[str]:
        """Files directly under the raw root: they belong to no drop."""
        folder = data_folder(self.raw_uri(), self.endpoint_url)
        if not folder.exists(""):
            return []
        return [n for n in folder.ls("", detail=False) if folder.isfile(n.rstrip("/").rsplit("/", 1)[-1])]

    def list_drops(self) -> list[str]:
        """Immediate sub-folders of the raw root holding at least one file, sorted: drop order is name
        order, so dated folders (2026-11-01/) dedup oldest-first."""
        folder = data_folder(self.raw_uri(), self.endpoint_url)
        if not folder.exists(""):
            return []
        drops = []
        local = isinstance(folder.fs, LocalFileSystem)
        for name in folder.ls("", detail=False):
            key = name.rstrip("/").rsplit("/", 1)[-1]
            if _local_drop_has_a_file(folder.path, key) if local else folder.isdir(key) and _has_a_file(folder, key):
                try:
                    drops.append(check_partition_key(key))
                except ValueError as e:  # one oddly named folder must not stop discovery of the others
                    logging.getLogger(__name__).warning("skipping raw folder: %s", e)
        return sorted(drops)


def _has_a_file(folder, path: str) -> bool:
    """Stops at the first file: the sensor runs every few minutes over possibly huge S3 prefixes."""
    subdirs = []
    for entry in folder.ls(path, detail=True):
        if entry["type"] == "file":
            return True
        subdirs.append(entry["name"])
    return any(_has_a_file(folder, d) for d in subdirs)


def _local_drop_has_a_file(root: str, key: str) -> bool:
    """A local drop folder that links out of the raw root is no drop; symlinked sub-folders are not
    descended into (os.walk's default), so a link loop cannot recur. Links to files count as files: the
    reader quarantines those that leave the root, with their key."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, key))
    if not real.startswith(real_root.rstrip(os.sep) + os.sep) or not os.path.isdir(real):
        return False
    return any(files for _, _, files in os.walk(real))
