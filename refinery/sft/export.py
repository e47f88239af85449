"""Judged SFT records -> a Hugging Face dataset folder (local, S3 or a mount):

    <out>/messages/{train,test}-<hash>.{parquet,jsonl}   conversational rows, what TRL's SFTTrainer reads
    <out>/alpaca/{train,test}-<hash>.{parquet,jsonl}     instruction/input/output, single-turn records only
    <out>/README.md                               dataset card: Hub YAML (configs, task, language, size)
                                                  plus the provenance of every record

`datasets.load_dataset(out)` loads the messages config with its train/test splits, and
`load_dataset(out, "alpaca")` the other. The split is a hash of the record id, so a record stays in its
split when the dataset is rebuilt with more records. File names carry a hash of their rows: `datasets`
5.x caches a local folder by its card's `data_files` patterns, not by content, so with fixed names a
rebuilt export (or another export in a folder of the same name) loads stale rows from the cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fsspec.implementations.local import LocalFileSystem
from pydantic import Field

from refinery.options import StrictOptions
from refinery.sft.card import dataset_card
from refinery.sft.filter_options import SFTFilterOptions
from refinery.sft.judge import JudgeOptions
from refinery.sft.records import Dropped, SFTRecord

if TYPE_CHECKING:
    import pyarrow as pa
    from datatrove.io import DataFolder


class ExportOptions(StrictOptions):
    test_fraction: float = Field(0.1, ge=0, lt=1)
    split_salt: str = ""  # changes which records land in test, still deterministically
    language: list[str] = Field(default_factory=lambda: ["en"])  # card metadata (ISO 639-1)
    license: str | None = None  # card metadata, e.g. "other" for internal data
    pretty_name: str | None = None
    hub_repo_id: str | None = None  # push every new export to this Hub dataset repo (token: HF_TOKEN)
    hub_private: bool = True


def schemas() -> dict[str, pa.Schema]:
    """Built on use: pyarrow is not imported when only ExportOptions (the config) is."""
    import pyarrow as pa

    messages = pa.schema([
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("id", pa.string()), ("method", pa.string()), ("source", pa.string()), ("chunk_id", pa.string()),
        ("score", pa.float64()),
    ])
    alpaca = pa.schema([("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
                        ("id", pa.string())])
    return {"messages": messages, "alpaca": alpaca}


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


def messages_row(r: SFTRecord) -> dict[str, Any]:
    return {"messages": [{"role": t.role, "content": t.content} for t in r.messages], "id": r.id,
            "method": r.method, "source": r.source, "chunk_id": r.chunk_id,
            "score": r.judgement.score if r.judgement else None}


def alpaca_row(r: SFTRecord) -> dict[str, Any] | None:
    """Only a plain user -> assistant exchange: Alpaca has no place for a system prompt or earlier turns."""
    if [t.role for t in r.messages] != ["user", "assistant"]:
        return None
    return {"instruction": r.messages[0].content, "input": "", "output": r.messages[1].content, "id": r.id}


def export_dataset(records: Sequence[SFTRecord], folder: DataFolder, options: ExportOptions | None = None, *,
                   dropped: Sequence[Dropped] = (), filter_options: SFTFilterOptions | None = None,
                   judge_options: JudgeOptions | None = None, generation: dict | None = None) -> dict:
    """Writes both configs and the card; returns the counts the card reports. `dropped` is every earlier
    stage's drops (counted by stage and reason), `generation` the generation settings to record."""
    options = options or ExportOptions()
    records = sorted(records, key=lambda r: r.id)
    split = split_of([r.id for r in records], options.test_fraction, options.split_salt)
    configs = schemas()
    rows: dict[str, dict[str, list[dict]]] = {config: {"train": [], "test": []} for config in configs}
    for r in records:
        rows["messages"][split[r.id]].append(messages_row(r))
        if (row := alpaca_row(r)) is not None:
            rows["alpaca"][split[r.id]].append(row)
    files = write_configs(folder, rows, configs)
    counts = {"records": len(records),
              "splits": {c: {s: len(v) for s, v in splits.items()} for c, splits in rows.items()},
              "alpaca_skipped": len(records) - sum(len(v) for v in rows["alpaca"].values())}
    card = dataset_card(records, files, counts, options, dropped=dropped, filter_options=filter_options,
                        judge_options=judge_options, generation=generation)
    with folder.open("README.md", "wt", encoding="utf-8") as f:
        f.write(card)
    return counts


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
