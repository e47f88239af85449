"""What every extractor returns or raises."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Machine reason codes, as written to the quarantine manifest and counted as `quarantined_<reason>`.
REASONS = {
    "file_too_large": "listed size above max_file_bytes; not read",
    "symlink_outside_root": "a symlink (file or folder) whose target is outside the raw root; not followed",
    "symlink_loop": "a folder symlink back into its own parents, or a link to itself; not followed",
    "undecodable_file_name": "a file name that is not UTF-8 (listed backslash-escaped); not read",
    "not_a_regular_file": "a FIFO, socket or device in the raw folder; not read",
    "unreadable_file": "vanished since the listing, or no permission to read it",
    "decompression_bomb": "uncompressed size or compression ratio above the limits",
    "xml_entities": "an Office file whose XML declares entities (billion laughs); OOXML has no use for them",
    "too_deeply_nested": "HTML nested deeper than the parser's limit (256): the rest of the page would be lost",
    "not_a_zip": "an Office file (docx/pptx/xlsx) that is not a zip archive",
    "corrupt_gzip": "truncated or invalid gzip stream",
    "corrupt_pdf": "truncated, damaged or not a PDF",
    "encrypted_pdf": "PDF that needs a password",
    "scanned_pdf_no_text_layer": "PDF pages without text, and OCR off (ocr_engine) or its engine not installed",
    "ocr_low_confidence": "a scanned PDF whose OCR'd pages all fall under ocr_min_confidence (or read as nothing)",
    "ocr_failed": "a scanned PDF on every page of which the OCR engine raised an error (e.g. Textract calls failing)",
    "invalid_json": "a .json file that does not parse",
    "invalid_json_line": "one JSONL line that does not parse (the rest of the file is kept)",
    "missing_text_field": "a JSON object without a string at json_text_field",
    "empty": "no text (0 bytes, whitespace only, or nothing extracted)",
    "text_too_long": "extracted text above max_text_chars",
    "binary_file": "a text file that is binary or undecodable",
    "unsupported_format": "neither the suffix nor the leading bytes name a known format",
    "parse_error": "the format's library failed on the file",
    "too_many_bad_records": "manifest only: a file's further skipped records are counted, not listed",
}


class ExtractionError(Exception):
    """A file (or record) that cannot become a document; `reason` is one of REASONS."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.message = message or REASONS.get(reason, reason)


@dataclass
class Extracted:
    """One document's text. `part` is the JSONL line number / JSON list index of a multi-document file."""

    text: str
    metadata: dict = field(default_factory=dict)
    part: int | None = None
    doc_id: str | None = None  # an id found in the data itself (json_id_field)


@dataclass
class Skipped:
    """A record of a multi-document file that was left out; the rest of the file is kept."""

    reason: str
    error: str
    location: dict  # {"line": n} for JSONL, {"index": i} for a JSON list


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """NFC, Unix newlines, no control characters or trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        # per line, not by regex: `[ \t]+\n` tries a match at every space of the text (0.17 vs 0.03 CPU-s
        # on the realdocs benchmark's 11 M characters)
        text = "\n".join([line.rstrip(" \t") for line in text.split("\n")])
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def md_cell(value) -> str:
    """A value as one Markdown table cell: one line, pipes escaped."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def md_table(rows: list[list]) -> str:
    """Rows (first = header) as a Markdown table, padded to the widest row."""
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    cells = [[md_cell(v) for v in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)
