"""OCR engines behind one interface: `ocr_page(image) -> (text, mean_confidence)`, confidence in [0, 1].

`local` is Tesseract (Debian's `tesseract-ocr` + `tesseract-ocr-eng`, installed by scripts/setup.sh), run as a
subprocess on one core per page. Chosen over RapidOCR (PP-OCR models shipped in the wheel) by
bench/ocr_accuracy.py on rasterised pages of Debian manuals: Tesseract kept the spaces between English words
and was several times faster on one core (RapidOCR's Chinese+English recogniser glues words). `textract` is
Amazon Textract's DetectDocumentText on one page image (production: no local engine to install, paid per
page). Nothing here downloads anything: Tesseract's model is a Debian package, Textract is a remote API."""
from __future__ import annotations

import csv
import functools
import io
import os
import shutil
import subprocess
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


@functools.lru_cache(maxsize=None)
def tesseract_languages(binary: str = "tesseract") -> frozenset[str]:
    """Languages Tesseract has data for; empty when the binary is missing or broken."""
    path = shutil.which(binary)
    if not path:
        return frozenset()
    try:
        out = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


class TesseractEngine:
    """`tesseract stdin stdout tsv`: one process per page, the image piped in as PGM (no encoding cost),
    OMP_THREAD_LIMIT=1 (Tesseract's OpenMP threads slow it down when pages run in parallel processes)."""

    name = "tesseract"

    def __init__(self, language: str = "eng", psm: int = 3, timeout_s: float = 120.0, binary: str = "tesseract"):
        missing = [lang for lang in language.split("+") if lang not in tesseract_languages(binary)]
        if missing:
            raise OcrUnavailable(f"tesseract or its language data ({'+'.join(missing)}) not installed: "
                                 "apt-get install tesseract-ocr tesseract-ocr-eng (scripts/setup.sh does)")
        self.cmd = [shutil.which(binary), "stdin", "stdout", "-l", language, "--psm", str(psm)]
        self.timeout_s = timeout_s
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def ocr_page(self, image: "Image") -> tuple[str, float]:
        buf = io.BytesIO()
        image.convert("L").save(buf, format="PPM")
        dpi = image.info.get("dpi")
        cmd = self.cmd + (["--dpi", str(int(dpi[0]))] if dpi else []) + ["tsv"]
        done = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=self.timeout_s, env=self.env)
        if done.returncode != 0:
            raise RuntimeError(f"tesseract exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
        return parse_tsv(done.stdout.decode("utf-8", errors="replace"))


def parse_tsv(tsv: str) -> tuple[str, float]:
    """Tesseract's TSV (one row per word, with block/paragraph/line numbers) to text and mean confidence."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    words: list[tuple[str, float]] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
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

            client = boto3.client("textract", region_name=region_name, endpoint_url=endpoint_url)
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
    return TesseractEngine(language)
