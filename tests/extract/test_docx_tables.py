"""DOCX tables: a merged cell appears once (python-docx repeats it in every column and row it spans), and
paragraph text and styles are read in one pass (same text as python-docx's own properties)."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import nsdecls

from refinery.extract import word
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


# sha256 (first 16 hex digits) of the text the python-docx-based extractor (before the lxml/XSLT walk,
# commit 3d7c951) gave for the real DOCX files of the realdocs slice (pandoc conversions of Debian manuals)
_REAL = Path(__file__).resolve().parents[1] / "data" / "realdocs" / "raw"
_BEFORE = [
    ("2026-01-a/debian-reference/pr01.it.docx", "170503b844212483"),
    ("2026-01-a/octave/octave.html/Matrix-Algebra.docx", "3af20a85fb74bf37"),
    ("2026-01-a/sqlite3/releaselog/3_7_7_1.docx", "ca3b52d49ee3ee0e"),
    ("2026-01-b/converted/git-doc/git-read-tree.docx", "0404bce82f41a60d"),
    ("2026-01-b/converted/git-doc/git-remote-ext.docx", "d1ea8507acac95f5"),
    ("2026-01-b/converted/octave/octave.html/Example-Code.docx", "5e9030959b21f44b"),
    ("2026-01-b/git-doc/git-cvsimport.docx", "790f128abb67d9fa"),
    ("2026-01-b/git-doc/git-quiltimport.docx", "89bf4743a78b123f"),
    ("2026-01-b/octave/octave.html/Basic-Statistical-Functions.docx", "89783897264a4b1d"),
    ("2026-01-b/sqlite3/memstat.docx", "9cfee4e7761097f7"),
    ("2026-01-b/web/link-farm-005.docx", "b4d805f5a05a6bd4"),
]


@pytest.mark.parametrize("name,digest", _BEFORE, ids=[n for n, _ in _BEFORE])
def test_real_docx_text_unchanged(name, digest):
    text = extract_docx((_REAL / name).read_bytes(), ExtractOptions()).text
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == digest


def _body(data: bytes):
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read("word/document.xml"), word._PARSER)


def _tricky(d):
    """Merges across and down (a chain of three rows), a row starting late (gridBefore), a nested table, a
    text box stored twice, tabs, breaks and a non-breaking hyphen, headings, list and code styles."""
    from docx.oxml import parse_xml

    d.add_heading("Valves", level=1)
    t = d.add_table(rows=4, cols=4)
    for r, row in enumerate(t.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"r{r}c{c}"
    t.cell(0, 1).merge(t.cell(0, 3)).text = "span across"
    t.cell(1, 0).merge(t.cell(3, 0)).text = "span down"
    t.cell(1, 2).merge(t.cell(2, 3)).text = "block"
    t.cell(3, 3).add_table(rows=1, cols=2).cell(0, 1).text = "nested"
    tr = t.rows[3]._tr
    tr.insert(0, parse_xml(f'<w:trPr {nsdecls("w")}><w:gridBefore w:val="1"/></w:trPr>'))
    p = d.add_paragraph("a\tb")
    p.add_run().add_break()
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:noBreakHyphen/><w:t>c</w:t></w:r>'))
    box = "<w:txbxContent><w:p><w:r><w:t>Box</w:t></w:r></w:p></w:txbxContent>"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    t.cell(0, 0)._tc.append(parse_xml(
        f'<w:p {nsdecls("w")} xmlns:mc="{mc}"><w:r><mc:AlternateContent><mc:Choice>{box}</mc:Choice>'
        f"<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r></w:p>"))
    d.add_paragraph("step one", style="List Bullet")
    d.add_paragraph("step two", style="List Bullet")
    code = d.styles.add_style("Source Code", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("  make install", style=code)
    d.add_paragraph("")
    d.add_paragraph("the end")


def test_xslt_walk_reads_what_the_element_walk_reads():
    """The fast path (one XSLT pass) and the element-by-element walk give the same blocks, on real manuals and
    on a document with every structure the walk handles."""
    docs = [(_REAL / name).read_bytes() for name, _ in _BEFORE] + [_docx(_tricky)]
    for data in docs:
        root = _body(data)
        assert word._blocks_xslt(root) == word._blocks_python(root.find(word._BODY))
    text = extract_docx(docs[-1], ExtractOptions()).text
    assert text.count("span across") == 1 and text.count("span down") == 1 and text.count("block") == 1
    assert text.count("Box") == 1  # in the paragraph holding the box; not again as its own paragraph or VML copy
    assert "a\tb\n‑c" not in text and "a\tb\n-c" in text and "# Valves" in text and "```\n  make install\n```" in text


def test_separator_characters_in_a_document_take_the_element_walk():
    """Text that contains the XSLT output's private-use separators, written or as character references,
    comes out intact."""
    def build(d):
        d.add_paragraph("private \ue000 use \ue001 chars")
        d.add_paragraph("after")
    data = _docx(build)
    assert "private \ue000 use \ue001 chars\n\nafter" in extract_docx(data, ExtractOptions()).text
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace("\ue000".encode(), b"&#xE000;")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    assert word._blocks_xslt(_body(buf.getvalue())) is None  # the element walk read it
    assert "private \ue000 use \ue001 chars" in extract_docx(buf.getvalue(), ExtractOptions()).text
