"""JSON and JSONL records to documents. `.json`: one object, or a list of objects (one document each).
`.jsonl`/`.ndjson`: streamed line by line; a broken line or an object without text is reported as a
`Skipped` record and the rest of the file is kept."""
from __future__ import annotations

import json
from typing import BinaryIO, Iterator

from refinery.extract.base import Extracted, ExtractionError, Skipped
from refinery.extract.options import ExtractOptions

_MISSING = object()


def get_path(obj, path: str):
    """obj["a"]["b"] for "a.b" (list items by number, "messages.0.content"), or _MISSING."""
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj


def _record(obj, location: dict, part: int | None, options: ExtractOptions) -> Extracted | Skipped:
    text = get_path(obj, options.json_text_field) if isinstance(obj, dict) else _MISSING
    if not isinstance(text, str):
        what = "not a JSON object" if not isinstance(obj, dict) else f"no string at {options.json_text_field!r}"
        return Skipped("missing_text_field", what, location)
    doc_id = None
    if options.json_id_field:
        value = get_path(obj, options.json_id_field)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            doc_id = str(value)
    metadata = {f: v for f in options.json_metadata_fields if (v := get_path(obj, f)) is not _MISSING}
    return Extracted(text, metadata, part=part, doc_id=doc_id)


def extract_json(data: bytes, options: ExtractOptions) -> Iterator[Extracted | Skipped]:
    try:
        payload = json.loads(data)  # bytes: json detects UTF-8/16/32 and a UTF-8 BOM itself
    except (ValueError, RecursionError) as e:
        raise ExtractionError("invalid_json", f"{type(e).__name__}: {e}") from None
    if isinstance(payload, list):
        for index, item in enumerate(payload):
            yield _record(item, {"index": index}, index, options)
        return
    record = _record(payload, {}, None, options)
    if isinstance(record, Skipped):
        raise ExtractionError(record.reason, record.error)
    yield record


def extract_jsonl(stream: BinaryIO, options: ExtractOptions) -> Iterator[Extracted | Skipped]:
    """Parts numbered by 1-based line number, so an id "key#7" points at line 7 of the file."""
    for line_no, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as e:
            yield Skipped("invalid_json_line", f"{type(e).__name__}: {e}", {"line": line_no})
            continue
        yield _record(obj, {"line": line_no}, line_no, options)
