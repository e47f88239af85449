"""PDF text with PDFium (pypdfium2's text page), minus the headers and footers repeated on most pages.

PDFium replaced pypdf as the engine: on the realdocs benchmark's 121 PDFs (13.65 MB) extract_pdf takes 0.86
CPU-s against pypdf's 7.02 in the same run, 98.6% of the words the same (bench/pdf_engine.py), and the
running headers left the same (bench/pdf_headers.py: 19 on 2,070 pages). PDFium splits words by the gap
between glyphs where pypdf needs space characters, which TeX via dvipdfmx (the Debian Reference) does not
draw: pypdf glued 215 of the benchmark's 469 pages ("Thereisanalternativenumericmode..."), PDFium none, and
of the 3,720 pages of the Debian manuals every page PDFium glues (127: Japanese, tables of URLs) pypdf glues
too, so there is no fallback. On groff's bash man page it rejoins the ~860 words pypdf splits at kerning
("e xpansion"), but runs ~200 pairs of justified words together ("howthe"; pypdf ~120 others).
Like pypdf it reads in content-stream order, which keeps multi-column pages apart where pdfplumber's line
clustering interleaves them: on Octave's 3-column reference cards 1,222 of pypdf's 1,305 lines are PDFium
lines in the same order (pdfplumber: 118; the rest is one page where PDFium breaks lines at italic
arguments). Within a line it goes by position: Texinfo's right-aligned "[Constructor]" follows its
definition instead of being glued before it. It refuses a file whose trailer is cut off, so truncated
uploads are flagged instead of half-read. Header/footer detection then works on the first/last lines of each
page: both edges are searched because producers draw headers and footers in either order.

Running headers change per chapter and carry the page number ("Chapter 2: Simple manipulations 10"), so a
line identical on half the pages is not enough: PDFium gives the words drawn in the top and bottom bands of
the page, and an edge line drawn there is a running element when, digits normalised, it is drawn there on
another page too, or when it is only a page number ("15", "x", "33/ 233", "Page 3 of 9")."""
from __future__ import annotations

import ctypes
import math
import re
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from refinery.extract.base import Extracted, ExtractionError
from refinery.extract.options import ExtractOptions
from refinery.extract.pdf_ocr import ocr_scanned_pages

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


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)  # an owner-only password needs none to open
    except Exception as e:
        if getattr(e, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError("encrypted_pdf", str(e)) from None
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
    none; URLs and paths alone do not get there). The measure behind the engine choice above, used by the
    tests and benches that check it."""
    tokens = text.split()
    total = sum(map(len, tokens))
    long_words = (t for t in tokens if len(t) >= 20 and sum(c.isalpha() for c in t) * 2 > len(t))  # not leaders
    return total >= 200 and sum(map(len, long_words)) > 0.3 * total


def _text(raw: str) -> str:
    # PDFium ends lines with CR LF and puts U+FFFE where it joined a word hyphenated across lines: the hyphen
    # and line break go back, so the lines are the drawn ones (the header pass) and unwrap() decides the join.
    return raw.replace("\ufffe", "-\n").replace("\r\n", "\n").replace("\r", "\n")


def _band_edges(textpage, low: float, high: float) -> tuple[float, float]:
    """The bands' inner edges (bottom band below `low`, top band above `high`) moved past the text runs that
    cross them but whose middle is outside the band: get_text_bounded takes every character whose box touches
    the rectangle, and the line under the running header, whose capitals reach into the band (a table's
    header row), would count as drawn in it. pypdf's visitor placed text by its baseline."""
    run_left, run_bottom, run_right, run_top = (ctypes.c_double() for _ in range(4))
    top_edge, bottom_edge = high, low
    for i in range(pdfium_c.FPDFText_CountRects(textpage, 0, -1)):  # PDFium's text runs, a line or part of one
        pdfium_c.FPDFText_GetRect(textpage, i, run_left, run_top, run_right, run_bottom)
        b, t = run_bottom.value, run_top.value
        if b < high < t and b + t < 2 * high:
            top_edge = max(top_edge, t)
        elif b < low < t and b + t > 2 * low:
            bottom_edge = min(bottom_edge, b)
    return bottom_edge, top_edge


def _page(page, share: float) -> tuple[str, set[str] | None]:
    """The page's text and the words drawn in its top and bottom bands (`share` of its height each)."""
    textpage = page.get_textpage()
    try:
        text = _text(textpage.get_text_range())
        left, bottom, right, top = page.get_bbox()  # media box cut to the crop box, in page space
        if top <= bottom:
            return text, None
        margin = (top - bottom) * share
        low, high = _band_edges(textpage, bottom + margin, top - margin)
        band = [textpage.get_text_bounded(left, high, right, top), textpage.get_text_bounded(left, bottom, right, low)]
    finally:
        textpage.close()
    return text, {clean_line(word) for word in _text("\n".join(band)).split()}


def read_pages(pdf: pdfium.PdfDocument, options: ExtractOptions) -> tuple[list[list[str]], list, int]:
    """Each page's non-empty lines, the words it draws in its top/bottom bands (None where unknown), and the
    number of pages that could not be read."""
    pages, bands, failed = [], [], 0
    for i in range(len(pdf)):
        try:
            page = pdf[i]
        except Exception as e:  # no page object where the page tree says (a loop, a dangling reference)
            raise ExtractionError("corrupt_pdf", f"page {i + 1}: {type(e).__name__}: {e}") from None
        try:
            text, band = _page(page, options.pdf_band_share)
        except Exception:  # one damaged page: keep the others
            failed, text, band = failed + 1, "", None
        finally:
            page.close()
        lines = (clean_line(line.strip()) for line in text.splitlines() if line.strip())
        pages.append([line for line in lines if line])
        bands.append(band)
    return pages, bands, failed


def extract_pdf(data: bytes, options: ExtractOptions) -> Extracted:
    pdf = _open(data)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise ExtractionError("empty", "PDF without pages")
        pages, bands, failed = read_pages(pdf, options)
        try:
            title = pdf.get_metadata_value("Title")
        except Exception:
            title = None
    finally:
        pdf.close()
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
    if isinstance(title, str) and title.strip():
        metadata["title"] = title.strip()
    if failed:
        metadata["unreadable_pages"] = failed
    metadata.update(ocr)
    return Extracted(text, metadata)
