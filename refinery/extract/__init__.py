"""Raw files (HTML, PDF, Office, JSON/JSONL, Markdown, text, any of them gzipped) to clean text documents.

`extract_stream`/`extract_bytes` turn one file into parts; `RawFileReader` is the datatrove reader block
that runs them over a drop and writes the quarantine manifest. No Dagster in here."""
from refinery.extract.base import REASONS, Extracted, ExtractionError, Skipped
from refinery.extract.dispatch import extract_bytes, extract_stream, format_of, sniff
from refinery.extract.options import ExtractOptions
from refinery.extract.reader import RawFileReader

__all__ = [
    "REASONS", "ExtractOptions", "Extracted", "ExtractionError", "RawFileReader", "Skipped",
    "extract_bytes", "extract_stream", "format_of", "sniff",
]
