"""SFT and preference stages exchange JSONL files of pydantic records through a DataFolder (local, S3 or a
mount), and read the JSONL/CSV files people drop in (reviews, prompt collections, logs, annotations)."""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
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


def data_files(folder: DataFolder, suffixes: Sequence[str] = (".jsonl", ".csv")) -> list[str]:
    """The files of a folder with these suffixes, in name order ([] when the folder does not exist)."""
    if not folder.exists(""):
        return []
    return sorted(f for f in folder.list_files() if f.endswith(tuple(suffixes)))


def numbered_rows(folder: DataFolder, name: str) -> list[tuple[int, dict]]:
    """(line or row number, row) of a .jsonl or .csv file, by extension. Blank JSONL lines are skipped but
    counted, so numbers are what an editor shows; a UTF-8 byte-order mark (Excel's CSV) is ignored."""
    with folder.open(name, "rt", encoding="utf-8-sig", newline="") as f:
        if name.endswith(".csv"):
            return list(enumerate(csv.DictReader(f), 1))
        return [(n, json.loads(line)) for n, line in enumerate(f, 1) if line.strip()]


def file_digest(folder: DataFolder, name: str) -> str:
    """sha256 of a file's content: what a stage's fingerprint records of an input file."""
    with folder.open(name, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
