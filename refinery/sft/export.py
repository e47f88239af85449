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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refinery.llmdata.dataset_files import SplitOptions, split_of, write_configs
from refinery.llmdata.judge import JudgeOptions
from refinery.llmdata.records import Dropped, SFTRecord
from refinery.sft.card import dataset_card
from refinery.sft.filter_options import SFTFilterOptions

if TYPE_CHECKING:
    import pyarrow as pa
    from datatrove.io import DataFolder


class ExportOptions(SplitOptions):
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
                   judge_options: JudgeOptions | None = None, generation: dict | None = None,
                   semantic_dedup: dict | None = None) -> dict:
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
                        judge_options=judge_options, generation=generation, semantic_dedup=semantic_dedup)
    with folder.open("README.md", "wt", encoding="utf-8") as f:
        f.write(card)
    return counts


