"""Raw files (HTML, PDF, Office, JSON/JSONL, Markdown, text, any of them gzipped) to clean text documents.

`extract_stream`/`extract_bytes` turn one file into parts; `RawFileReader` is the datatrove reader block
that runs them over a drop and writes the quarantine manifest. No Dagster in here."""
from importlib import import_module

# Resolved on first use (PEP 562): loading a config imports refinery.extract.options, and must not pay
# for every parser (pypdfium2, openpyxl, trafilatura, datatrove: seconds) just to validate a YAML file.
_HOME = {"REASONS": "base", "Extracted": "base", "ExtractionError": "base", "Skipped": "base",
         "extract_bytes": "dispatch", "extract_stream": "dispatch", "format_of": "dispatch", "sniff": "dispatch",
         "ExtractOptions": "options", "RawFileReader": "reader"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)


__all__ = [
    "REASONS", "ExtractOptions", "Extracted", "ExtractionError", "RawFileReader", "Skipped",
    "extract_bytes", "extract_stream", "format_of", "sniff",
]
