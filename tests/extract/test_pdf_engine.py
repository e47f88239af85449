"""PDFium as the PDF engine: the words drawn in each page's top/bottom bands, lines as drawn, reading order
of columns, and how files PDFium cannot open or page trees it cannot walk are classified."""
from __future__ import annotations

import pypdfium2
import pytest
from fpdf import FPDF

from refinery.extract.base import ExtractionError
from refinery.extract.options import ExtractOptions
from refinery.extract.pdf import extract_pdf, read_pages
from tests.reliability import hostile

HEADER = "Field Manual Chapter 4 17"
BODY = ["Valves are checked before every shift by the crew on duty.", "The pump log records each reading."]
FOOTER = "Revision 2026-11"


def _page_with_bands() -> bytes:
    """A4 (297 mm): the header at 10 mm, the body from 40 mm, the footer at 285 mm."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(20, 10)
    pdf.cell(170, 6, HEADER)
    for i, line in enumerate(BODY):
        pdf.set_xy(20, 40 + 8 * i)
        pdf.cell(170, 6, line)
    pdf.set_xy(20, 285)
    pdf.cell(170, 6, FOOTER)
    return bytes(pdf.output())


def _read(data: bytes, options: ExtractOptions):
    pdf = pypdfium2.PdfDocument(data)
    try:
        return read_pages(pdf, options)
    finally:
        pdf.close()


def test_band_words_are_the_words_drawn_in_the_top_and_bottom_bands():
    pages, bands, failed = _read(_page_with_bands(), ExtractOptions())
    assert failed == 0 and pages == [[HEADER, *BODY, FOOTER]]
    assert bands == [set(HEADER.split()) | set(FOOTER.split())]  # 10 % of 297 mm: the body at 40 mm is outside
    _, wider, _ = _read(_page_with_bands(), ExtractOptions(pdf_band_share=0.15))  # 44.6 mm: the first body line
    assert wider == [set(HEADER.split()) | set(BODY[0].split()) | set(FOOTER.split())]


@pytest.mark.parametrize("y, in_band", [(26.0, True), (27.0, False)])
def test_a_line_crossing_the_band_edge_counts_by_its_middle(y, in_band):
    """A table's header row under the running header, its capitals reaching into the top band (edge at 29.7 mm):
    at 27 mm its middle is below the edge, though PDFium's get_text_bounded on the band returns the whole row."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for top, line in ((10, "Running Header"), (y, "Package Popcon Size"), (60, "Body text here.")):
        pdf.set_xy(20, top)
        pdf.cell(170, 6, line)
    data = bytes(pdf.output())
    textpage = pypdfium2.PdfDocument(data)[0].get_textpage()
    assert "Package Popcon Size" in textpage.get_text_bounded(0, 841.89 * 0.9, 595.28, 841.89)
    _, bands, _ = _read(data, ExtractOptions())
    assert bands == [{"Running", "Header"} | ({"Package", "Popcon", "Size"} if in_band else set())]


def test_a_line_hyphenated_at_its_end_stays_two_lines_and_is_rejoined_by_unwrap():
    """PDFium joins "infor-" and "mation" into one line (U+FFFE for the hyphen): the lines stay as drawn, for the
    header pass, and unwrap() joins them as it does any wrapped line."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i, line in enumerate(["The retention period is seven years for every infor-", "mation system we run."]):
        pdf.set_xy(20, 40 + 6 * i)
        pdf.cell(170, 6, line)
    data = bytes(pdf.output())
    pages, _, _ = _read(data, ExtractOptions())
    assert pages == [["The retention period is seven years for every infor-", "mation system we run."]]
    text = extract_pdf(data, ExtractOptions()).text
    assert text == "The retention period is seven years for every information system we run."


def test_two_columns_are_read_one_after_the_other_not_interleaved():
    """Drawn column by column on the same baselines: PDFium keeps the content-stream order (pdfplumber's line
    clustering would give "Left ... 1 Right ... 1" on one line)."""
    left = [f"Left column line {n} is about pumps." for n in range(1, 6)]
    right = [f"Right column line {n} is about valves." for n in range(1, 6)]
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for column, x in ((left, 15), (right, 110)):
        for i, line in enumerate(column):
            pdf.set_xy(x, 40 + 6 * i)
            pdf.cell(85, 6, line)
    pages, _, _ = _read(bytes(pdf.output()), ExtractOptions())
    assert pages == [left + right]


def _salaries(**encryption) -> bytes:
    pdf = FPDF()
    pdf.set_title("Salaries")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, "Salaries for next year, confidential.")
    pdf.set_encryption(**encryption)
    return bytes(pdf.output())


def test_owner_password_only_opens_user_password_is_encrypted_pdf():
    doc = extract_pdf(_salaries(owner_password="owner"), ExtractOptions())
    assert doc.text == "Salaries for next year, confidential." and doc.metadata == {"pages": 1, "title": "Salaries"}
    with pytest.raises(ExtractionError) as e:
        extract_pdf(_salaries(owner_password="owner", user_password="user"), ExtractOptions())
    assert e.value.reason == "encrypted_pdf"


def test_a_page_tree_that_loops_is_a_corrupt_pdf(tmp_path):
    """PDFium reads the one real page of a page tree that lists itself; the entry it cannot load makes the file
    corrupt, as it was when pypdf walked the page tree (a damaged page tree, not one damaged page)."""
    data = hostile.cyclic_pdf(tmp_path / "cyclic.pdf").read_bytes()
    with pytest.raises(ExtractionError) as e:
        extract_pdf(data, ExtractOptions())
    assert e.value.reason == "corrupt_pdf" and "page 2" in str(e.value)
    with pytest.raises(ExtractionError) as e:
        extract_pdf(data[: len(data) // 2], ExtractOptions())  # cut off before the trailer
    assert e.value.reason == "corrupt_pdf"
