"""Extraction settings: the `extract` section of the corpus config."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

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

    # HTML (Markdown output). The engine that decides what is main content: resiliparse (Rust, 6.7x trafilatura's
    # MB per CPU-second on the real-document benchmark, every quality goal of bench/quality.py and
    # bench/html_fidelity.py met; bench/html_speed.py) or trafilatura (richer Markdown: inline code in backticks,
    # emphasis, [text](url) links; html_favor_precision is its setting only).
    html_engine: Literal["trafilatura", "resiliparse"] = "resiliparse"
    html_include_tables: bool = True  # tables become Markdown tables
    html_include_links: bool = False  # keep [text](url): URLs are mostly noise for training
    html_favor_precision: bool = False  # trafilatura drops more borderline text (menus, teasers) when True

    # PDF: repeated page headers/footers.
    pdf_header_footer_min_pages: int = Field(2, ge=2)  # shorter PDFs are left as they are
    pdf_header_footer_lines: int = Field(2, ge=1)  # lines at the top and at the bottom of a page that may be one
    pdf_header_footer_min_share: float = Field(0.5, gt=0, le=1)  # on at least this share of pages = header/footer
    pdf_band_share: float = Field(0.1, ge=0, lt=0.5)  # top/bottom share of a page where running headers are drawn
    pdf_min_chars_per_page: int = Field(10, ge=0)  # fewer on average: no usable text layer (scanned): OCR'd

    # OCR of scanned PDFs (pages with fewer than pdf_min_chars_per_page characters in a file under that average).
    ocr_engine: Literal["local", "textract", "off"] = "local"  # local = Tesseract; off = quarantine scanned PDFs
    ocr_language: str = "eng"  # Tesseract language(s), e.g. "eng+deu": each needs its tessdata.fast-* package
    ocr_dpi: int = Field(200, ge=50, le=600)  # pages are rendered at this resolution before OCR
    ocr_min_confidence: float = Field(0.6, ge=0, le=1)  # pages read with a lower mean word confidence are dropped
    ocr_max_pages: int = Field(50, ge=1)  # pages OCR'd per file at most (the rest are counted, not read)
    textract_region: str | None = None  # ocr_engine "textract": AWS region (else boto3's default)
    textract_endpoint_url: str | None = None  # a VPC endpoint or a test server

    # JSON / JSONL.
    json_text_field: str = "text"  # dotted path to the text, e.g. "body.content"
    json_id_field: str | None = None  # dotted path to a document id; else ids are "{source}#{line or index}"
    json_metadata_fields: list[str] = Field(default_factory=list)  # dotted paths copied into metadata

    @model_validator(mode="after")
    def _engine_settings(self):
        if self.html_favor_precision and self.html_engine != "trafilatura":
            raise ValueError("html_favor_precision is a setting of html_engine: trafilatura, which is not selected "
                             f"(html_engine: {self.html_engine})")
        return self
