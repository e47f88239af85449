"""DOCX: body paragraphs and tables in document order, headings as Markdown `#`, tables as Markdown tables,
paragraphs in a code style ("Source Code", "HTML Preformatted", "Plain Text"...) as fenced code with their
indentation, so that later stages can tell code from prose. Page headers/footers are left out (boilerplate).

The package is read with zipfile and lxml directly, the text as python-docx 1.2 reports it (`Paragraph.text`,
`Table.rows`/`_Row.cells`, style names through its BabelFish) in one walk over the body's XML: python-docx's
proxy objects and its XPath-per-property accessors cost 10x the parse itself on real manuals (its opening
alone also parses every relationship, one per hyperlink). tests/extract/test_docx_tables.py checks the
output against python-docx's own reading."""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from refinery.extract.archive import check_zip
from refinery.extract.base import Extracted, ExtractionError, md_table
from refinery.extract.options import ExtractOptions

_LEVEL = re.compile(r"(\d+)")
_CODE_STYLE = re.compile(r"code|preformatted|verbatim|plain text|macro|listing|console", re.IGNORECASE)
_CODE = "\x00code\x00"  # marks a code paragraph until consecutive ones are fenced together

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC, _BODY = _W + "p", _W + "tbl", _W + "tr", _W + "tc", _W + "body"
_PPR, _PSTYLE, _VAL = _W + "pPr", _W + "pStyle", _W + "val"
_TCPR, _GRIDSPAN, _VMERGE, _TRPR, _GRIDBEFORE = _W + "tcPr", _W + "gridSpan", _W + "vMerge", _W + "trPr", _W + "gridBefore"
_STYLE, _STYLE_ID, _NAME, _TYPE, _DEFAULT = _W + "style", _W + "styleId", _W + "name", _W + "type", _W + "default"
# what python-docx's Paragraph.text reads; deleted text (w:delText) and field codes (w:instrText) stay out
_TEXT_TAGS = {_W + "t": None, _W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
_T = _W + "t"
# A text box is stored twice, as the drawing (mc:Choice) and as a VML copy (mc:Fallback) for old readers
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_RT_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
# python-docx's parser settings (remove_blank_text only drops whitespace between elements, never a w:t's text)
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
# python-docx's UI names for the built-in styles stored under internal names (docx.styles.BabelFish)
_UI_NAMES = {"caption": "Caption", "footer": "Footer", "header": "Header",
             **{f"heading {i}": f"Heading {i}" for i in range(1, 10)}}
_ON = {"1", "true", "on"}


def _style_id(p) -> str | None:
    ppr = p.find(_PPR)
    style = ppr.find(_PSTYLE) if ppr is not None else None
    return style.get(_VAL) if style is not None else None


def _text(p) -> str:
    """A paragraph's text as python-docx's Paragraph.text gives it, the VML copy of a text box left out."""
    if next(p.iter(_FALLBACK), None) is None:
        return "".join(el.text or "" if (char := _TEXT_TAGS[el.tag]) is None else char
                       for el in p.iter(*_TEXT_TAGS))
    skip = {el for fallback in p.iter(_FALLBACK) for el in fallback.iter(*_TEXT_TAGS)}
    return "".join(el.text or "" if (char := _TEXT_TAGS[el.tag]) is None else char
                   for el in p.iter(*_TEXT_TAGS) if el not in skip)


def _style_names(styles) -> dict:
    """styleId -> UI name, None -> the default paragraph style's name (python-docx's Styles)."""
    names, default = {}, None
    for style in styles.iterchildren(_STYLE):
        name = style.find(_NAME)
        value = name.get(_VAL) if name is not None else None
        names[style.get(_STYLE_ID)] = _UI_NAMES.get(value, value) or ""
        if style.get(_TYPE) == "paragraph" and style.get(_DEFAULT, "0").lower() in _ON:
            default = style  # the spec (and python-docx) take the last default
    name = default.find(_NAME) if default is not None else None
    value = name.get(_VAL) if name is not None else None
    names[None] = (_UI_NAMES.get(value, value) or "") if default is not None else ""
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


def _int(el, child: str, default: int) -> int:
    found = el.find(child) if el is not None else None
    if found is None:
        return default
    try:
        return int(found.get(_VAL))
    except (TypeError, ValueError):
        return default


def _row_cells(tr, above: dict) -> tuple[list, dict]:
    """The cells of a row as python-docx's _Row.cells lists them: a cell spanning n grid columns n times, a
    cell merged down (vMerge continue) as the cell it continues. Returns the <w:tc> of each, and grid
    offset -> that cell for the next row. Where python-docx raises (a continued cell with nothing at its
    offset above) the cell stands for itself."""
    cells, starts = [], {}
    offset = _int(tr.find(_TRPR), _GRIDBEFORE, 0)
    for tc in tr.iterchildren(_TC):
        tcpr = tc.find(_TCPR)
        vmerge = tcpr.find(_VMERGE) if tcpr is not None else None
        root = tc
        if vmerge is not None and vmerge.get(_VAL, "continue") == "continue":
            root = above.get(offset, tc)
        span = _int(tcpr, _GRIDSPAN, 1) if root is tc else _int(root.find(_TCPR), _GRIDSPAN, 1)
        starts.setdefault(offset, root)
        cells += [root] * span
        offset += _int(tcpr, _GRIDSPAN, 1)
    return cells, starts


def _table_rows(tbl) -> list[list[str]]:
    """Cell texts, a merged cell once: python-docx repeats a cell spanning columns in each of them, and a
    cell merged down (vMerge) below its first row; those repeats are empty here."""
    rows, above, starts = [], [], {}
    for tr in tbl.iterchildren(_TR):
        tcs, starts = _row_cells(tr, starts)
        cells, seen = [], set()
        for i, tc in enumerate(tcs):
            repeat = tc in seen or (i < len(above) and above[i] is tc)
            seen.add(tc)
            cells.append("" if repeat else "\n".join(_text(p) for p in tc.iter(_P)))
        above = tcs
        rows.append(cells)
    return rows


def _markdown(body, styles: dict) -> str:
    out: list[str] = []
    for item in body.iterchildren(_P, _TBL):
        block = _paragraph(item, styles) if item.tag == _P else md_table(_table_rows(item))
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


def _targets(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship type -> the zip name of its first internal target, for `part` ("" for the package)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in archive.NameToInfo:
        return {}
    out = {}
    for rel in etree.fromstring(archive.read(rels), _PARSER).iterchildren(_REL):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.setdefault(rel.get("Type"), path)
    return out


def _default_styles() -> bytes:
    """python-docx's default styles part, which it uses for a package without one."""
    import docx

    return (Path(docx.__file__).parent / "templates" / "default-styles.xml").read_bytes()


def extract_docx(data: bytes, options: ExtractOptions) -> Extracted:
    check_zip(data, options)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            package = _targets(archive, "")
            main = package[_RT + "officeDocument"]
            parts = _targets(archive, main)
            styles_xml = (archive.read(parts[_RT + "styles"]) if _RT + "styles" in parts else _default_styles())
            core = package.get(_RT_CORE)
            core_xml = archive.read(core) if core and core in archive.NameToInfo else None
            body = etree.fromstring(archive.read(main), _PARSER).find(_BODY)
        if body is None:
            raise ValueError("no w:body in the main document part")
        text = _markdown(body, _style_names(etree.fromstring(styles_xml, _PARSER)))
        title_el = etree.fromstring(core_xml, _PARSER).find(_DC_TITLE) if core_xml else None
        title = (title_el.text or "") if title_el is not None else ""
    except Exception as e:
        raise ExtractionError("parse_error", f"DOCX: {type(e).__name__}: {e}") from None
    return Extracted(text, {"title": title} if title else {})
