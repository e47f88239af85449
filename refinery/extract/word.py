"""DOCX with python-docx: body paragraphs and tables in document order, headings as Markdown `#`,
tables as Markdown tables, paragraphs in a code style ("Source Code", "HTML Preformatted", "Plain Text"...)
as fenced code with their indentation, so that later stages can tell code from prose. Page
headers/footers are left out (boilerplate)."""
from __future__ import annotations

import io
import re

import docx
from docx.table import Table

from refinery.extract.archive import check_zip
from refinery.extract.base import Extracted, ExtractionError, md_table
from refinery.extract.options import ExtractOptions

_LEVEL = re.compile(r"(\d+)")
_CODE_STYLE = re.compile(r"code|preformatted|verbatim|plain text|macro|listing|console", re.IGNORECASE)
_CODE = "\x00code\x00"  # marks a code paragraph until consecutive ones are fenced together


def _paragraph(paragraph) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if _CODE_STYLE.search(style):
        return _CODE + paragraph.text.rstrip()
    if style == "Title":
        return f"# {text}"
    if style.startswith("Heading"):
        level = int(m.group(1)) if (m := _LEVEL.search(style)) else 1
        return f"{'#' * min(level, 6)} {text}"
    if style.startswith("List"):
        return f"- {text}"
    return text


def _markdown(document) -> str:
    out: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            block = md_table([[cell.text for cell in row.cells] for row in item.rows])
        else:
            block = _paragraph(item)
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
