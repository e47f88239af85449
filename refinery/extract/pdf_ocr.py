"""OCR for PDFs without a text layer (scans): called by pdf.py where it would quarantine a file as
`scanned_pdf_no_text_layer`. The pages with (almost) no text are rasterised with pypdfium2 (pdfplumber's own
renderer) and read by the engine `ocr_engine` selects; pages whose mean confidence is under
`ocr_min_confidence` are dropped, at most `ocr_max_pages` pages of a file are read."""
from __future__ import annotations

import logging

from refinery.extract.base import ExtractionError
from refinery.extract.ocr import OcrEngine, OcrUnavailable, engine_for
from refinery.extract.options import ExtractOptions

log = logging.getLogger(__name__)

# A page rendered above this many pixels is rendered smaller: a PDF may declare a page of 200 x 200 inches,
# which at 200 dpi would be a 1.6 GB bitmap. 40 Mpx is an A3 page at 300 dpi.
MAX_PIXELS = 40_000_000


def rasterise(pdf, index: int, dpi: int):
    """Page `index` of a pypdfium2 document as a grayscale PIL image tagged with the dpi it was drawn at."""
    page = pdf[index]
    try:
        width, height = page.get_size()  # points
        scale = dpi / 72
        if width * height * scale * scale > MAX_PIXELS:
            scale = 0.999 * (MAX_PIXELS / max(width * height, 1.0)) ** 0.5  # pdfium rounds pixel sizes up
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()
    image.info["dpi"] = (round(scale * 72), round(scale * 72))
    return image


def ocr_scanned_pages(data: bytes, pages: list[list[str]], chars: int, options: ExtractOptions,
                      engine: OcrEngine | None = None) -> tuple[list[list[str]], dict]:
    """`pages` (lines per page from the text layer) with the pages that have fewer than
    pdf_min_chars_per_page characters replaced by their OCR'd lines, and the metadata to add. Raises
    scanned_pdf_no_text_layer when OCR is off or its engine cannot run here, ocr_low_confidence when no page
    is read with enough confidence, ocr_failed when the engine failed on every page."""
    n_pages = len(pages)
    scanned = f"{n_pages} pages, {chars} characters of text"
    try:
        engine = engine or engine_for(options)
    except OcrUnavailable as e:
        raise ExtractionError("scanned_pdf_no_text_layer", f"{scanned}; OCR unavailable: {e}") from None
    if engine is None:
        raise ExtractionError("scanned_pdf_no_text_layer", f"{scanned}: needs OCR (ocr_engine is off)")
    import pypdfium2

    todo = [i for i, lines in enumerate(pages) if sum(map(len, lines)) < options.pdf_min_chars_per_page]
    skipped = max(0, len(todo) - options.ocr_max_pages)
    todo = todo[:options.ocr_max_pages]
    out, kept, low, failed, errors = list(pages), [], 0, 0, []
    try:
        pdf = pypdfium2.PdfDocument(data)
    except Exception as e:
        raise ExtractionError("corrupt_pdf", f"cannot render for OCR: {type(e).__name__}: {e}") from None
    try:
        for i in todo:
            try:
                text, confidence = engine.ocr_page(rasterise(pdf, i, options.ocr_dpi))
            except Exception as e:  # one page the engine cannot read (timeout, crash, API error): keep the others
                failed += 1
                errors.append(f"page {i + 1}: {type(e).__name__}: {e}"[:300])
                continue
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if not lines or confidence < options.ocr_min_confidence:
                low += 1
                out[i] = []
                continue
            out[i] = lines
            kept.append((sum(map(len, lines)), confidence))
    finally:
        pdf.close()
    if errors:
        log.warning("OCR (%s) failed on %d page(s): %s", engine.name, failed, "; ".join(errors[:3]))
    if not kept:
        if failed and not low:
            raise ExtractionError("ocr_failed", f"{scanned}; {engine.name} failed on every page: {errors[0]}")
        raise ExtractionError("ocr_low_confidence", f"{scanned}; {len(todo)} page(s) OCR'd with {engine.name}, "
                                                    f"none at confidence >= {options.ocr_min_confidence}")
    total = sum(n for n, _ in kept)
    metadata = {"ocr": True, "ocr_engine": engine.name, "ocr_pages": len(kept),
                "ocr_mean_confidence": round(sum(n * c for n, c in kept) / max(total, 1), 3)}
    if low:
        metadata["ocr_pages_low_confidence"] = low
    if failed:
        metadata["ocr_pages_failed"] = failed
    if skipped:
        metadata["ocr_pages_skipped"] = skipped  # past ocr_max_pages: not read, not in the text
    return out, metadata
