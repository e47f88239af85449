"""PDF text with pypdf, minus the headers and footers repeated on most pages.

pypdf rather than pdfplumber: it needs no layout analysis (several times faster on large drops), it reads
text in content-stream order, which keeps multi-column pages apart where pdfplumber's line clustering
interleaves them, and it refuses a file without its end-of-file marker, so truncated uploads are flagged
instead of half-read. Some producers (TeX via dvipdfmx, e.g. the Debian Reference) place words by position
with no space characters: pypdf then glues whole sentences ("Thereisanalternativenumericmode..."), and
such pages are re-read with pdfplumber, which splits words by the gap between glyphs relative to their
size. Header/footer detection then works on the first/last lines of each page: both edges are searched
because producers draw headers and footers in either order."""
from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter

from pypdf import PdfReader

from refinery.extract.base import Extracted, ExtractionError
from refinery.extract.options import ExtractOptions
from refinery.extract.pdf_ocr import ocr_scanned_pages

# pypdf warns about every recoverable defect; the file either extracts or is quarantined with its reason.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_DIGITS = re.compile(r"\d+")
_TERMINAL = (".", "!", "?", ":", ";", '"', "”", "|")
_BULLET = re.compile(r"^([-•*▪–]|\d+[.)]|[a-z][.)])\s")


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner-only password still opens with ""
            raise ExtractionError("encrypted_pdf", "PDF needs a user password")
        len(reader.pages)  # walks the page tree: damage shows here
        return reader
    except ExtractionError:
        raise
    except Exception as e:
        if "crypt" in str(e).lower() or "crypt" in type(e).__name__.lower():  # incl. missing AES support
            raise ExtractionError("encrypted_pdf", f"{type(e).__name__}: {e}") from None
        raise ExtractionError("corrupt_pdf", f"{type(e).__name__}: {e}") from None


def _key(line: str) -> str:
    """Digits normalised, so "Page 3 of 9" and "Page 4 of 9" are the same footer."""
    return _DIGITS.sub("#", " ".join(line.lower().split()))


def strip_headers_footers(pages: list[list[str]], options: ExtractOptions) -> list[list[str]]:
    """Drop lines at a page's edges that recur at the edges of most pages."""
    if len(pages) < options.pdf_header_footer_min_pages:
        return pages
    k = options.pdf_header_footer_lines
    at_edges = Counter()
    for lines in pages:
        at_edges.update({_key(line) for line in lines[:k] + lines[-k:]})
    need = max(2, math.ceil(options.pdf_header_footer_min_share * len(pages)))
    repeated = {key for key, count in at_edges.items() if count >= need}
    out = []
    for lines in pages:
        start, end = 0, len(lines)
        while start < min(k, end) and _key(lines[start]) in repeated:
            start += 1
        while end > start and len(lines) - end < k and _key(lines[end - 1]) in repeated:
            end -= 1
        out.append(lines[start:end])
    return out


def unwrap(lines: list[str]) -> str:
    """Rejoin lines the PDF wrapped mid-sentence (next line starts lower-case), de-hyphenating words, so
    line-level quality filters see sentences rather than fragments."""
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        if prev and not prev.endswith(_TERMINAL) and line[:1].islower() and not _BULLET.match(line):
            if prev.endswith("-") and prev[-2:-1].isalpha():
                out[-1] = prev[:-1] + line
            else:
                out[-1] = f"{prev} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def glued(text: str) -> bool:
    """Words run together: over 30% of the text in "words" of 20+ characters (English prose has almost
    none; URLs and paths alone do not get there)."""
    tokens = text.split()
    total = sum(map(len, tokens))
    return total >= 200 and sum(len(t) for t in tokens if len(t) >= 20) > 0.3 * total


class _Plumber:
    """pdfplumber, opened only for a file that has a glued page."""

    def __init__(self, data: bytes):
        self.data, self.pdf = data, None

    def page_text(self, i: int) -> str | None:
        try:
            import pdfplumber

            self.pdf = self.pdf or pdfplumber.open(io.BytesIO(self.data))
            # a gap wider than 15% of the font size is a space, whatever the font size
            return self.pdf.pages[i].extract_text(x_tolerance_ratio=0.15)
        except Exception:
            return None

    def close(self):
        if self.pdf:
            self.pdf.close()


def extract_pdf(data: bytes, options: ExtractOptions) -> Extracted:
    reader = _open(data)
    n_pages = len(reader.pages)
    if n_pages == 0:
        raise ExtractionError("empty", "PDF without pages")
    pages, failed, plumber = [], 0, _Plumber(data)
    for i, page in enumerate(reader.pages):
        try:
            text = page.extract_text() or ""
        except Exception:  # one damaged page: keep the others
            failed, text = failed + 1, ""
        if glued(text) and (spaced := plumber.page_text(i)) and not glued(spaced):
            text = spaced
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    plumber.close()
    if failed == n_pages:
        raise ExtractionError("corrupt_pdf", "no page could be read")
    chars = sum(len(line) for lines in pages for line in lines)
    ocr: dict = {}
    if chars < max(1, options.pdf_min_chars_per_page * n_pages):  # scanned: OCR the pages without text, or raise
        pages, ocr = ocr_scanned_pages(data, pages, chars, options)
    pages = strip_headers_footers(pages, options)
    text = "\n\n".join(unwrap(lines) for lines in pages if lines)
    metadata: dict = {"pages": n_pages}
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        title = None
    if isinstance(title, str) and title.strip():
        metadata["title"] = title.strip()
    if failed:
        metadata["unreadable_pages"] = failed
    metadata.update(ocr)
    return Extracted(text, metadata)
