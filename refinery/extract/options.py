"""Extraction settings: the `extract` section of the corpus config."""
from __future__ import annotations

from pydantic import Field

from refinery.options import StrictOptions

MiB = 1024 * 1024


class ExtractOptions(StrictOptions):
    # Guards, checked before a file is parsed.
    max_file_bytes: int = Field(64 * MiB, gt=0)  # listed size above: quarantined unread (JSONL too, though streamed)
    max_uncompressed_bytes: int = Field(256 * MiB, gt=0)  # zip members' total or gunzipped size: above = bomb
    max_compression_ratio: float = Field(200.0, gt=1)  # uncompressed/compressed above this (past 1 MiB) = bomb

    # Text size bounds, after extraction and whitespace clean-up.
    min_text_chars: int = Field(1, ge=1)  # shorter text is "empty"
    max_text_chars: int = Field(1_000_000, gt=0)  # longer: quarantined, spaCy-based filters downstream cannot take more

    # HTML (trafilatura, Markdown output).
    html_include_tables: bool = True  # tables become Markdown tables
    html_include_links: bool = False  # keep [text](url): URLs are mostly noise for training
    html_favor_precision: bool = False  # trafilatura drops more borderline text (menus, teasers) when True

    # PDF: repeated page headers/footers.
    pdf_header_footer_min_pages: int = Field(2, ge=2)  # shorter PDFs are left as they are
    pdf_header_footer_lines: int = Field(2, ge=1)  # lines at the top and at the bottom of a page that may be one
    pdf_header_footer_min_share: float = Field(0.5, gt=0, le=1)  # on at least this share of pages = header/footer
    pdf_band_share: float = Field(0.1, ge=0, lt=0.5)  # top/bottom share of a page where running headers are drawn
    pdf_min_chars_per_page: int = Field(10, ge=0)  # fewer on average: no usable text layer (scanned), quarantined

    # JSON / JSONL.
    json_text_field: str = "text"  # dotted path to the text, e.g. "body.content"
    json_id_field: str | None = None  # dotted path to a document id; else ids are "{source}#{line or index}"
    json_metadata_fields: list[str] = Field(default_factory=list)  # dotted paths copied into metadata
