"""DOCX tables: a merged cell appears once (python-docx repeats it in every column and row it spans), and
paragraph text and styles are read in one pass (same text as python-docx's own properties)."""
from __future__ import annotations

import io

import docx

from refinery.extract.options import ExtractOptions
from refinery.extract.word import extract_docx


def _docx(build) -> bytes:
    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_merged_cells_once():
    def build(d):
        table = d.add_table(rows=3, cols=3)
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"r{r}c{c}"
        table.cell(0, 0).merge(table.cell(0, 2)).text = "Quarterly maintenance window"  # across
        table.cell(1, 0).merge(table.cell(2, 0)).text = "Pumps"  # down
    text = extract_docx(_docx(build), ExtractOptions()).text
    assert text.count("Quarterly maintenance window") == 1
    assert text.count("Pumps") == 1
    assert "r1c1" in text and "r2c2" in text


def test_text_styles_and_code_as_python_docx_reads_them():
    def build(d):
        d.add_heading("Restoring a replica", level=2)
        p = d.add_paragraph("Stop the service, then\tcopy the snapshot")
        p.add_run().add_break()
        p.add_run("and start it again.")
        d.add_paragraph("first step", style="List Bullet")
        d.add_paragraph("plain body text in the default style")
    document = docx.Document(io.BytesIO(data := _docx(build)))
    text = extract_docx(data, ExtractOptions()).text
    assert "## Restoring a replica" in text
    assert document.paragraphs[1].text in text  # tab and line break as python-docx renders them
    assert "- first step" in text
    assert "plain body text in the default style" in text


def test_text_box_stored_twice_is_read_once():
    """Word keeps a text box as a drawing (mc:Choice) and a VML copy (mc:Fallback)."""
    from lxml import etree

    from refinery.extract.word import _text
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    box = "<w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent>"
    xml = (f'<w:p xmlns:w="{w}" xmlns:mc="{mc}"><w:r><w:t>Before </w:t></w:r><w:r><mc:AlternateContent>'
           f"<mc:Choice>{box}</mc:Choice><mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r>"
           "<w:r><w:t> after</w:t></w:r></w:p>")
    assert _text(etree.fromstring(xml)) == "Before Box after"
