"""Hugging Face dataset folders, as both flows export them: a deterministic train/test split by record id,
`<config>/<split>-<hash>.{parquet,jsonl}` files (names carry a hash of their rows: `datasets` caches a local
folder by its card's patterns, not by content), the card's size category, and the upload to the Hub."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fsspec.implementations.local import LocalFileSystem
from pydantic import Field

from refinery.options import StrictOptions

if TYPE_CHECKING:
    import pyarrow as pa
    from datatrove.io import DataFolder


class SplitOptions(StrictOptions):
    """How an exported dataset is split and labelled; the preference flow reads the SFT export's to know
    which SFT prompts were held out."""

    test_fraction: float = Field(0.1, ge=0, lt=1)
    split_salt: str = ""  # changes which records land in test, still deterministically
    language: list[str] = Field(default_factory=lambda: ["en"])  # card metadata (ISO 639-1)


def split_of(ids: Sequence[str], test_fraction: float, salt: str = "") -> dict[str, str]:
    """id -> "train" | "test" by a hash of the id; at least one test record once there are two records
    (and one train record), so both splits exist for small runs."""
    position = {i: int(hashlib.sha256(f"{salt}{i}".encode()).hexdigest()[:12], 16) / 16 ** 12 for i in ids}
    split = {i: "test" if p < test_fraction else "train" for i, p in position.items()}
    if len(split) >= 2 and test_fraction > 0:
        ranked = sorted(position, key=position.get)
        if "test" not in split.values():
            split[ranked[0]] = "test"
        if "train" not in split.values():
            split[ranked[-1]] = "train"
    return split


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def write_configs(folder: DataFolder, rows: dict[str, dict[str, list[dict]]], schemas: dict[str, pa.Schema]
                  ) -> dict[str, dict[str, str]]:
    """config -> split -> rows written as `<config>/<split>-<hash>.{parquet,jsonl}`; returns the parquet
    file of each written split (what the card's `configs` list)."""
    files: dict[str, dict[str, str]] = {}
    for config, splits in rows.items():
        for name, split_rows in splits.items():
            if split_rows:  # datasets cannot read a zero-row parquet file: an empty split is left out
                stem = f"{config}/{name}-{_rows_hash(split_rows)}"
                _write(folder, stem, split_rows, schemas[config])
                files.setdefault(config, {})[name] = f"{stem}.parquet"
    return files


def _rows_hash(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:10]


def _write(folder: DataFolder, stem: str, rows: list[dict], schema: pa.Schema) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with folder.open(f"{stem}.parquet", "wb") as f:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), f)
    with folder.open(f"{stem}.jsonl", "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def push_to_hub(folder: DataFolder, repo_id: str, token: str, private: bool = True,
                commit_message: str = "Upload SFT dataset") -> str:
    """Uploads an exported folder as a dataset repo (created if missing) and returns the commit URL.
    A remote folder (S3) is copied to a temporary directory first: upload_folder reads local files."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if isinstance(folder.fs, LocalFileSystem):
        return api.upload_folder(folder_path=folder.path, repo_id=repo_id, repo_type="dataset",
                                 commit_message=commit_message).commit_url
    with tempfile.TemporaryDirectory() as tmp:
        for name in folder.list_files():
            os.makedirs(posixpath.dirname(f"{tmp}/{name}"), exist_ok=True)
            folder.get(name, f"{tmp}/{name}")
        return api.upload_folder(folder_path=tmp, repo_id=repo_id, repo_type="dataset",
                                 commit_message=commit_message).commit_url
