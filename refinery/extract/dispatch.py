"""One file to its documents: the format from the lower-case suffix (`.gz` is unwrapped as a stream and
the inner suffix decides), else from the leading bytes. Every part leaves cleaned and size-checked."""
from __future__ import annotations

import importlib
import io
import json
import posixpath
from typing import BinaryIO, Callable, Iterator

from refinery.extract.archive import gunzip, zip_content_types
from refinery.extract.base import Extracted, ExtractionError, Skipped, clean_text
from refinery.extract.json_docs import extract_json, extract_jsonl
from refinery.extract.options import ExtractOptions
from refinery.extract.text import extract_text

SUFFIXES = {
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
}

Parts = Iterator[Extracted | Skipped]


def _on_first_use(module: str, name: str) -> Callable[[bytes, ExtractOptions], Extracted | Parts]:
    """`refinery.extract.<module>.<name>`, imported when the first file of its format comes: together the
    parsers' libraries (trafilatura, pypdfium2, python-docx/-pptx, openpyxl) take ~1 s to import, which the
    CLI, the UI's code location and every worker of a drop without such files would otherwise pay."""
    def parse(data: bytes, options: ExtractOptions):
        return getattr(importlib.import_module(f"refinery.extract.{module}"), name)(data, options)
    return parse


_WHOLE_FILE: dict[str, Callable[[bytes, ExtractOptions], Extracted | Parts]] = {
    "html": _on_first_use("html", "extract_html"), "pdf": _on_first_use("pdf", "extract_pdf"),
    "docx": _on_first_use("word", "extract_docx"), "pptx": _on_first_use("slides", "extract_pptx"),
    "xlsx": _on_first_use("sheets", "extract_xlsx"), "json": extract_json,
    "markdown": lambda data, _: extract_text(data, markdown=True), "text": lambda data, _: extract_text(data),
}
_OOXML = {"wordprocessingml": "docx", "presentationml": "pptx", "spreadsheetml": "xlsx"}


def format_of(name: str) -> str | None:
    return SUFFIXES.get(posixpath.splitext(name.lower())[1])


def sniff(data: bytes) -> str | None:
    """The format of a file whose suffix is unknown, from its leading bytes."""
    if b"%PDF-" in data[:1024]:  # the spec allows junk before the header
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        types = zip_content_types(data)
        return next((fmt for marker, fmt in _OOXML.items() if marker in types), None)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "html"
    if head[:1] in (b"{", b"["):
        body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        end = body.find(b"\n")
        try:  # an object on the first line and more after it: JSON Lines
            one_object_per_line = end > 0 and isinstance(json.loads(body[:end]), dict) and bool(body[end:].strip())
        except (ValueError, RecursionError):
            one_object_per_line = False
        return "jsonl" if one_object_per_line else "json"
    return None


def _read(stream: BinaryIO, limit: int, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ExtractionError("file_too_large", f"{what} larger than {limit} bytes")
    return data


def _checked(fmt: str, parts: Parts, options: ExtractOptions, extra: dict) -> Parts:
    """Clean each part; a single document that is empty or too long fails the file, a record is skipped."""
    for part in parts:
        if isinstance(part, Skipped):
            yield part
            continue
        multi = part.part is not None
        text = clean_text(part.text)
        problem = None
        if len(text) < options.min_text_chars:
            problem = ExtractionError("empty", f"{len(text)} characters of text after extraction")
        elif len(text) > options.max_text_chars:
            problem = ExtractionError("text_too_long", f"{len(text)} characters, limit {options.max_text_chars}")
        if problem and not multi:
            raise problem
        if problem:
            yield Skipped(problem.reason, problem.message, {"line" if fmt == "jsonl" else "index": part.part})
            continue
        part.text, part.metadata = text, {"format": fmt, **extra, **part.metadata}
        yield part


def extract_stream(name: str, stream: BinaryIO, options: ExtractOptions, _extra: dict | None = None) -> Parts:
    """The documents of one file (`name` gives the suffix), as Extracted parts and Skipped records.
    Raises ExtractionError for a file that cannot be used at all; whole-file formats are parsed before
    the first part is yielded, JSONL is streamed (an error mid-stream keeps the lines already yielded)."""
    extra = dict(_extra or {})
    if name.lower().endswith(".gz"):
        extra["compression"] = "gzip"
        yield from extract_stream(name[:-3], gunzip(stream, options), options, extra)
        return
    fmt = format_of(name)
    if fmt == "jsonl":
        yield from _checked(fmt, extract_jsonl(stream, options), options, extra)
        return
    limit = options.max_uncompressed_bytes if extra.get("compression") else options.max_file_bytes
    data = _read(stream, limit, name)
    fmt = fmt or sniff(data)
    if fmt is None:
        raise ExtractionError("unsupported_format", f"unknown suffix and content: {posixpath.basename(name)!r}")
    if fmt == "jsonl":  # sniffed
        yield from _checked(fmt, extract_jsonl(io.BytesIO(data), options), options, extra)
        return
    try:
        result = _WHOLE_FILE[fmt](data, options)
        parts = [result] if isinstance(result, Extracted) else list(result)
    except ExtractionError:
        raise
    except Exception as e:  # a library error the format module did not anticipate: still this file's fault
        raise ExtractionError("parse_error", f"{fmt}: {type(e).__name__}: {e}") from None
    del data
    yield from _checked(fmt, parts, options, extra)


def extract_bytes(name: str, data: bytes, options: ExtractOptions | None = None) -> list[Extracted | Skipped]:
    """extract_stream for bytes in memory; the parts as a list."""
    return list(extract_stream(name, io.BytesIO(data), options or ExtractOptions()))
