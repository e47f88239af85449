"""SFT stages exchange JSONL files of pydantic records through a DataFolder (local, S3 or a mount)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TypeVar

from datatrove.io import DataFolder
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def write_records(folder: DataFolder, name: str, records: Iterable[BaseModel]) -> int:
    n = 0
    with folder.open(name, "wt") as f:
        for record in records:
            f.write(record.model_dump_json(exclude_none=True) + "\n")
            n += 1
    return n


def read_records(folder: DataFolder, name: str, model: type[M]) -> Iterator[M]:
    if not folder.isfile(name):
        return
    with folder.open(name, "rt") as f:
        for line in f:
            if line.strip():
                yield model.model_validate(json.loads(line))
