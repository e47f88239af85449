"""A datatrove reader block: every file of one raw drop becomes zero or more Documents; every file that
cannot be used becomes one line of the quarantine manifest, with its reason."""
from __future__ import annotations

import errno
import json

from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolder, DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep

from refinery.extract.base import Extracted, ExtractionError, Skipped
from refinery.extract.dispatch import extract_stream
from refinery.extract.listing import RawEntry, list_raw
from refinery.extract.options import ExtractOptions

# OSErrors that concern one file, not the storage; strerror only, so no absolute path reaches the manifest.
_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)

# Skipped records listed per file; past this a broken dump would flood the manifest, so they are only counted.
MAX_LISTED_RECORDS = 1000


class _Manifest:
    """The quarantine JSONL of one task, opened on the first bad file only."""

    def __init__(self, folder: DataFolder, name: str):
        self.folder, self.name, self.file = folder, name, None

    def write(self, row: dict) -> None:
        if self.file is None:
            self.file = self.folder.open(self.name, "wt")
        self.file.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.folder.exists(self.name):  # a re-run with no bad files must not keep the old manifest
            self.folder.rm(self.name)


class RawFileReader(PipelineStep):
    """Reads `raw_folder/prefix/**` (sorted; task `rank` takes files[rank::world_size]). On a local root,
    links out of the root, loops, undecodable names and special files are quarantined unread (`listing.py`).

    Document ids: the file's key relative to the raw root for single-document files, `{key}#{n}` for
    JSONL line n / JSON list index n, or the record's own id when `json_id_field` is set.
    `source_root_prefix` is prepended to keys in ids and `metadata["source"]` (e.g. to tell raw roots apart).
    """

    name = "🗂️ Raw files"
    type = "📖 - READER"

    def __init__(
        self,
        raw_folder: DataFolderLike,
        quarantine_folder: DataFolderLike,
        options: ExtractOptions | None = None,
        prefix: str = "",
        source_root_prefix: str = "",
    ):
        super().__init__()
        self.raw_folder = get_datafolder(raw_folder)
        self.quarantine_folder = get_datafolder(quarantine_folder)
        self.options = options or ExtractOptions()
        self.prefix = prefix.strip("/")
        self.source_root_prefix = source_root_prefix

    def entries(self) -> list[RawEntry]:
        return list_raw(self.raw_folder, self.prefix)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        manifest = _Manifest(self.quarantine_folder, f"{rank:05d}.jsonl")
        try:
            for entry in self.entries()[rank::world_size]:
                yield from self._read(entry, manifest)
        finally:
            manifest.close()

    def _read(self, entry: RawEntry, manifest: _Manifest) -> DocumentsPipeline:
        key, size = entry.key, entry.size  # size from the listing: no read yet
        source = self.source_root_prefix + key
        self.stat_update("files")
        self.stat_update("bytes_in", value=size, unit="bytes")
        documents = skipped = 0
        try:
            if entry.reason:  # a link out of the root, a loop, an undecodable name...: never opened
                raise ExtractionError(entry.reason, entry.error)
            if size > self.options.max_file_bytes:
                raise ExtractionError("file_too_large", f"{size} bytes, limit {self.options.max_file_bytes}")
            with self.raw_folder.open(key, "rb") as stream:
                parts = extract_stream(key, stream, self.options)
                while True:
                    with self.track_time():
                        part = next(parts, None)
                    if part is None:
                        break
                    if isinstance(part, Skipped):
                        skipped += 1
                        self._skip(source, part, skipped, manifest)
                        continue
                    documents += 1
                    yield self._document(source, part)
            if documents == 0:
                raise ExtractionError("empty", f"no documents: {skipped} records skipped")
        except OSError as e:
            # this file only (gone since the listing, no permission); storage errors still fail the task
            if not isinstance(e, _FILE_ERRORS) and e.errno != errno.ELOOP:
                raise
            self._quarantine(source, ExtractionError("unreadable_file", e.strerror or type(e).__name__), size, manifest)
        except ExtractionError as e:
            self._quarantine(source, e, size, manifest)

    def _quarantine(self, source: str, e: ExtractionError, size: int, manifest: _Manifest) -> None:
        self.stat_update("quarantined", f"quarantined_{e.reason}")
        manifest.write({"source": source, "reason": e.reason, "error": e.message, "bytes": size})

    def _document(self, source: str, part: Extracted) -> Document:
        doc_id = part.doc_id or (source if part.part is None else f"{source}#{part.part}")
        document = Document(text=part.text, id=doc_id, metadata={**part.metadata, "source": source})
        self.stat_update("documents")
        self.update_doc_stats(document)
        return document

    def _skip(self, source: str, record: Skipped, count: int, manifest: _Manifest) -> None:
        self.stat_update("skipped_records", f"skipped_{record.reason}")
        if count <= MAX_LISTED_RECORDS:
            manifest.write({"source": source, "reason": record.reason, "error": record.error, **record.location})
        elif count == MAX_LISTED_RECORDS + 1:
            manifest.write({"source": source, "reason": "too_many_bad_records",
                            "error": f"skipped records past {MAX_LISTED_RECORDS} are counted in the stats only"})
