"""PDF text with pypdf, minus the headers and footers repeated on most pages.

pypdf rather than pdfplumber: it needs no layout analysis (several times faster on large drops), it reads
text in content-stream order, which keeps multi-column pages apart where pdfplumber's line clustering
interleaves them, and it refuses a file without its end-of-file marker, so truncated uploads are flagged
instead of half-read. Some producers (TeX via dvipdfmx, e.g. the Debian Reference) place words by position
with no space characters: pypdf then glues whole sentences ("Thereisanalternativenumericmode..."), and
such pages are re-read with PDFium's text page (pypdfium2), which splits words by the gap between glyphs. Header/footer detection then works on the first/last lines of each page: both edges are searched
because producers draw headers and footers in either order.

Running headers change per chapter and carry the page number ("Chapter 2: Simple manipulations 10"), so a
line identical on half the pages is not enough: pypdf reports where each piece of text is drawn, and an edge
line drawn inside the top or bottom band of the page is a running element when, digits normalised, it is
drawn there on another page too, or when it is only a page number ("15", "x", "33/ 233", "Page 3 of 9")."""
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
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s+)?(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:/|of)\s*\d{1,5})?\W*$", re.I)
# a table of contents' leader: ". . . . . 137" or "....... 12" at the end of a line
_DOT_LEADER = re.compile(r"[ \t]*(?:\.[ \t]?){6,}[ \t]*(?:\d{1,5}|[ivxlcdm]{1,8})?[ \t]*$", re.I)
# Ligatures and the glyphs TeX and groff draw for plain characters: NFKC would also rewrite
# superscripts, fractions and full-width text, which carry meaning, so only these are mapped.
_GLYPHS = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st",
                         "−": "-", "‐": "-"})
_COPYRIGHT = re.compile(r"\bc\s?©|©\s?c\b|\bc\s?⃝")  # TeX's © is a "c" inside a circle glyph


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


def strip_headers_footers(pages: list[list[str]], options: ExtractOptions,
                          band_words: list[set[str] | None] | None = None) -> list[list[str]]:
    """Drop the running headers and footers at each page's edges: lines that recur at the edges of most pages,
    and lines drawn in the top/bottom band (`band_words` per page, from the drawing positions) that recur
    there on another page or are only a page number. Where positions are known, only band lines can go."""
    band_words = band_words or [None] * len(pages)
    k = options.pdf_header_footer_lines
    edges = [list(range(min(k, len(lines)))) + list(range(max(k, len(lines) - k), len(lines))) for lines in pages]
    in_band = [{i for i in edge if words is not None and set(lines[i].split()) <= words}
               for lines, edge, words in zip(pages, edges, band_words)]
    banded = Counter(key for lines, band in zip(pages, in_band) for key in {_key(lines[i]) for i in band})
    running = {key for key, count in banded.items() if count >= 2}
    repeated: set[str] = set()
    if len(pages) >= options.pdf_header_footer_min_pages:
        at_edges = Counter(key for lines, edge in zip(pages, edges) for key in {_key(lines[i]) for i in edge})
        need = max(2, math.ceil(options.pdf_header_footer_min_share * len(pages)))
        repeated = {key for key, count in at_edges.items() if count >= need}

    def running_line(lines: list[str], i: int, band: set[int], positions_known: bool) -> bool:
        if positions_known and i not in band:  # drawn in the body: a line that merely recurs ("Example:")
            return False
        key = _key(lines[i])
        return key in repeated or key in running or (i in band and bool(_PAGE_NUMBER.match(lines[i])))

    out = []
    for lines, band, words in zip(pages, in_band, band_words):
        start, end, known = 0, len(lines), words is not None
        while start < min(k, end) and running_line(lines, start, band, known):
            start += 1
        while end > start and len(lines) - end < k and running_line(lines, end - 1, band, known):
            end -= 1
        out.append(lines[start:end])
    return out


def clean_line(line: str) -> str:
    """Ligatures and TeX/groff glyphs as plain characters, no table-of-contents leader."""
    return _DOT_LEADER.sub("", _COPYRIGHT.sub("©", line.translate(_GLYPHS)))


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
    long_words = (t for t in tokens if len(t) >= 20 and sum(c.isalpha() for c in t) * 2 > len(t))  # not leaders
    return total >= 200 and sum(map(len, long_words)) > 0.3 * total


class _BandWords:
    """pypdf visitor: the words a page draws in its top and bottom bands (`share` of the page height each)."""

    def __init__(self, page, share: float):
        try:
            box = page.mediabox
            low, high = float(box.bottom), float(box.top)
        except Exception:
            low = high = 0.0
        margin = (high - low) * share
        self.bottom, self.top = low + margin, high - margin
        self.words: set[str] | None = set() if high > low else None

    def visit(self, text, cm, tm, font_dict, font_size) -> None:
        if self.words is None or not text.strip():
            return
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]  # the text matrix's origin in page space
        if y <= self.bottom or y >= self.top:
            self.words.update(text.split())


class _Pdfium:
    """PDFium's text page (pypdfium2), opened only for a file that has a glued page. It replaced pdfplumber
    here: bench/pdf_glued.py on the realdocs benchmark's 215 glued pages, 0.3 vs 10.4 CPU-s, 99.8 % of
    pdfplumber's words (71,225/71,344; most of the rest are words hyphenated across lines, which PDFium joins),
    no page left glued (0/215)."""

    def __init__(self, data: bytes):
        self.data, self.pdf = data, None

    def page_text(self, i: int) -> str | None:
        try:
            import pypdfium2

            self.pdf = self.pdf or pypdfium2.PdfDocument(self.data)
            page = self.pdf[i]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
        except Exception:
            return None
        # U+FFFE marks where PDFium joined a word hyphenated across lines; lines end in CR LF
        return text.replace("\ufffe", "").replace("\r\n", "\n").replace("\r", "\n")

    def close(self):
        if self.pdf:
            self.pdf.close()


def read_pages(reader: PdfReader, data: bytes, options: ExtractOptions) -> tuple[list[list[str]], list, int]:
    """Each page's non-empty lines, the words it draws in its top/bottom bands (None where unknown), and the
    number of pages that could not be read."""
    pages, bands, failed, pdfium = [], [], 0, _Pdfium(data)
    for i, page in enumerate(reader.pages):
        band = _BandWords(page, options.pdf_band_share)
        try:
            text = page.extract_text(visitor_text=band.visit) or ""
        except Exception:  # one damaged page: keep the others
            failed, text = failed + 1, ""
        if glued(text) and (spaced := pdfium.page_text(i)) and not glued(spaced):
            text, band.words = spaced, None  # PDFium's lines: pypdf's positions do not describe them
        lines = (clean_line(line.strip()) for line in text.splitlines() if line.strip())
        pages.append([line for line in lines if line])
        bands.append(None if band.words is None else {clean_line(word) for word in band.words})
    pdfium.close()
    return pages, bands, failed


def extract_pdf(data: bytes, options: ExtractOptions) -> Extracted:
    reader = _open(data)
    n_pages = len(reader.pages)
    if n_pages == 0:
        raise ExtractionError("empty", "PDF without pages")
    pages, bands, failed = read_pages(reader, data, options)
    if failed == n_pages:
        raise ExtractionError("corrupt_pdf", "no page could be read")
    chars = sum(len(line) for lines in pages for line in lines)
    ocr: dict = {}
    if chars < max(1, options.pdf_min_chars_per_page * n_pages):  # scanned: OCR the pages without text, or raise
        read, (pages, ocr) = pages, ocr_scanned_pages(data, pages, chars, options)
        bands = [band if lines else None for lines, band in zip(read, bands)]  # OCR'd: no drawing positions
    pages = strip_headers_footers(pages, options, bands)
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
