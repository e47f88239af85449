"""DOCX with python-docx: body paragraphs and tables in document order, headings as Markdown `#`,
tables as Markdown tables, paragraphs in a code style ("Source Code", "HTML Preformatted", "Plain Text"...)
as fenced code with their indentation, so that later stages can tell code from prose. Page
headers/footers are left out (boilerplate)."""
from __future__ import annotations

import io
import re

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.table import Table

from refinery.extract.archive import check_zip
from refinery.extract.base import Extracted, ExtractionError, md_table
from refinery.extract.options import ExtractOptions

_LEVEL = re.compile(r"(\d+)")
_CODE_STYLE = re.compile(r"code|preformatted|verbatim|plain text|macro|listing|console", re.IGNORECASE)
_CODE = "\x00code\x00"  # marks a code paragraph until consecutive ones are fenced together
# what python-docx's Paragraph.text reads, in one pass over the paragraph's XML: its property runs an XPath
# per paragraph and per run, and Paragraph.style searches the style list for every paragraph (together
# ~10 ms per paragraph on large manuals); deleted text (w:delText) and field codes (w:instrText) stay out
_TEXT_TAGS = {qn("w:t"): None, qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}


_PPR, _PSTYLE, _VAL = qn("w:pPr"), qn("w:pStyle"), qn("w:val")


def _style_id(p) -> str | None:
    ppr = p.find(_PPR)
    style = ppr.find(_PSTYLE) if ppr is not None else None
    return style.get(_VAL) if style is not None else None


# A text box is stored twice, as the drawing (mc:Choice) and as a VML copy (mc:Fallback) for old readers
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _text(p) -> str:
    skip = {el for fallback in p.iter(_FALLBACK) for el in fallback.iter(*_TEXT_TAGS)}  # live proxies: stable
    return "".join(el.text or "" if (char := _TEXT_TAGS[el.tag]) is None else char
                   for el in p.iter(*_TEXT_TAGS) if el not in skip)


def _style_names(document) -> dict:
    names = {style.style_id: style.name or "" for style in document.styles}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    names[None] = default.name if default is not None else ""
    return names


def _paragraph(p, styles: dict) -> str:
    raw = _text(p)
    text = raw.strip()
    if not text:
        return ""
    style = styles.get(_style_id(p), "")
    if _CODE_STYLE.search(style):
        return _CODE + raw.rstrip()
    if style == "Title":
        return f"# {text}"
    if style.startswith("Heading"):
        level = int(m.group(1)) if (m := _LEVEL.search(style)) else 1
        return f"{'#' * min(level, 6)} {text}"
    if style.startswith("List"):
        return f"- {text}"
    return text


def _table_rows(table: Table) -> list[list[str]]:
    """Cell texts, a merged cell once: python-docx repeats a cell spanning columns in each of them, and a
    cell merged down (vMerge) below its first row; those repeats are empty here."""
    rows, above = [], []
    for row in table.rows:
        cells, seen = [], set()
        for i, cell in enumerate(row.cells):
            tc = cell._tc
            repeat = tc in seen or (i < len(above) and above[i] is tc)
            seen.add(tc)
            cells.append("" if repeat else "\n".join(_text(p) for p in tc.iter(qn("w:p"))))
        above = [cell._tc for cell in row.cells]
        rows.append(cells)
    return rows


def _markdown(document) -> str:
    out: list[str] = []
    styles = _style_names(document)
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            block = md_table(_table_rows(item))
        else:
            block = _paragraph(item._p, styles)
        if not block:
            continue
        if block.startswith(_CODE):
            block = "```\n" + block[len(_CODE):] + "\n```"
            if out and out[-1].endswith("\n```") and out[-1].startswith("```"):
                out[-1] = out[-1][:-3] + block[4:]  # the next line of the same code block
                continue
        # list items stay together, other blocks are separated by a blank line
        sep = "\n" if out and block.startswith("- ") and out[-1].startswith("- ") else "\n\n"
        out += [sep, block] if out else [block]
    return "".join(out)


def extract_docx(data: bytes, options: ExtractOptions) -> Extracted:
    check_zip(data, options)
    try:
        document = docx.Document(io.BytesIO(data))
        text = _markdown(document)
        title = document.core_properties.title
    except Exception as e:
        raise ExtractionError("parse_error", f"DOCX: {type(e).__name__}: {e}") from None
    return Extracted(text, {"title": title} if title else {})
