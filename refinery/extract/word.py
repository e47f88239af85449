"""DOCX: body paragraphs and tables in document order, headings as Markdown `#`, tables as Markdown tables,
paragraphs in a code style ("Source Code", "HTML Preformatted", "Plain Text"...) as fenced code with their
indentation, so that later stages can tell code from prose. Page headers/footers are left out (boilerplate).

The package is read with zipfile and lxml directly, the text as python-docx 1.2 reports it (`Paragraph.text`,
`Table.rows`/`_Row.cells`, style names through its BabelFish) in one walk over the body's XML: python-docx's
proxy objects and its XPath-per-property accessors cost 10x the parse itself on real manuals (its opening
alone also parses every relationship, one per hyperlink). The walk is an XSLT pass (libxslt, in C) that
prints the blocks as delimited text; tests/extract/test_docx_tables.py checks it against the element-by-element
walk kept below and the output on real manuals against the python-docx-based extractor it replaced."""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from functools import cache
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
_TCPR, _GRIDSPAN, _VMERGE = _W + "tcPr", _W + "gridSpan", _W + "vMerge"
_TRPR, _GRIDBEFORE = _W + "trPr", _W + "gridBefore"
_STYLE, _STYLE_ID, _NAME, _TYPE, _DEFAULT = _W + "style", _W + "styleId", _W + "name", _W + "type", _W + "default"
# what python-docx's Paragraph.text reads; deleted text (w:delText) and field codes (w:instrText) stay out
_TEXT_TAGS = {_W + "t": None, _W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
# A text box is stored twice, as the drawing (mc:Choice) and as a VML copy (mc:Fallback) for old readers
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

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
    return _attr(p, _PPR, _PSTYLE)


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


def _prefix(style: str) -> str:
    """What a paragraph in this style starts with: _CODE for code, "# " for a title or heading 1, "- " for a
    list item."""
    if _CODE_STYLE.search(style):
        return _CODE
    if style == "Title":
        return "# "
    if style.startswith("Heading"):
        level = int(m.group(1)) if (m := _LEVEL.search(style)) else 1
        return "#" * min(level, 6) + " "
    return "- " if style.startswith("List") else ""


def _paragraph(raw: str, prefix: str) -> str:
    text = raw.strip()
    if not text:
        return ""
    return _CODE + raw.rstrip() if prefix is _CODE else prefix + text


def _int(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _attr(el, *path: str) -> str | None:
    """The w:val of el/path[0]/path[1]/..., each step the first such child (python-docx's `find`)."""
    for tag in path:
        if el is None:
            return None
        el = next(el.iterchildren(tag), None)
    return el.get(_VAL) if el is not None else None


# The body as the walk below reads it, in one XSLT pass in libxslt instead of a Python call per element:
# records separated by U+E000, fields by U+E001 (private-use characters; where the text contains them, seen
# from their counts against the last record's, or the part has a comment, the Python walk reads it instead):
#   P[=styleId] <E001> text                  a body paragraph (no "=" when it has no w:pStyle/@w:val)
#   T, R<gridBefore>, C<gridSpan> <E001> [v<vMerge/@val>] <E001> text, E    a table, its rows and cells
#   #paragraphs,tables,rows,cells             the counts, last
# A paragraph's text is that of its w:t, w:tab, w:br, w:cr and w:noBreakHyphen, an mc:Fallback inside it
# skipped; a cell's text is that of every paragraph inside it (nested tables too), one a line, except the
# paragraphs of a text box, which are in the text of the paragraph that holds the box (python-docx's
# cell.iter(w:p) read a text box in a cell three times: in its paragraph, as itself and as its VML copy).
_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="/"><xsl:for-each select="/*/w:body[1]/*[self::w:p or self::w:tbl]"><xsl:choose>
  <xsl:when test="self::w:p">&#xE000;P<xsl:for-each select="w:pPr[1]/w:pStyle[1]/@w:val">=<xsl:value-of
    select="."/></xsl:for-each>&#xE001;<xsl:apply-templates mode="t"/></xsl:when>
  <xsl:otherwise>&#xE000;T<xsl:for-each select="w:tr">&#xE000;R<xsl:value-of
    select="w:trPr[1]/w:gridBefore[1]/@w:val"/><xsl:for-each select="w:tc">&#xE000;C<xsl:value-of
    select="w:tcPr[1]/w:gridSpan[1]/@w:val"/>&#xE001;<xsl:for-each select="w:tcPr[1]/w:vMerge[1]">v<xsl:value-of
    select="@w:val"/></xsl:for-each>&#xE001;<xsl:for-each select="descendant::w:p[not(ancestor::w:p)]"><xsl:if
    test="position() &gt; 1"><xsl:text>&#10;</xsl:text></xsl:if><xsl:apply-templates mode="t"/></xsl:for-each
    ></xsl:for-each></xsl:for-each>&#xE000;E</xsl:otherwise>
</xsl:choose></xsl:for-each><xsl:variable name="tbl" select="/*/w:body[1]/w:tbl"/>&#xE000;#<xsl:value-of
  select="count(/*/w:body[1]/w:p)"/>,<xsl:value-of select="count($tbl)"/>,<xsl:value-of
  select="count($tbl/w:tr)"/>,<xsl:value-of select="count($tbl/w:tr/w:tc)"/></xsl:template>
<xsl:template mode="t" match="w:t"><xsl:value-of select="."/></xsl:template>
<xsl:template mode="t" match="w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template mode="t" match="w:br|w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template mode="t" match="w:noBreakHyphen">-</xsl:template>
<xsl:template mode="t" match="mc:Fallback|text()"/>
</xsl:stylesheet>"""
@cache
def _xslt() -> etree.XSLT:
    return etree.XSLT(etree.fromstring(_XSL))


def _blocks_xslt(root) -> list[tuple] | None:
    """("p", styleId or None, text) and ("tbl", [(gridBefore, [(gridSpan, vMerge value or None, text)])]), or
    None when the text itself contains a separator."""
    out = str(_xslt()(root))
    n_p, n_tbl, n_tr, n_tc = (int(n) for n in out[out.rindex("\ue000#") + 2:].split(","))
    if out.count("\ue000") != n_p + 2 * n_tbl + n_tr + n_tc + 1 or out.count("\ue001") != n_p + 2 * n_tc:
        return None
    blocks, rows = [], None
    for record in out.split("\ue000")[1:-1]:
        kind = record[0]
        if kind == "P":
            head, text = record[1:].split("\ue001", 1)
            blocks.append(("p", head[1:] if head else None, text))
        elif kind == "C":
            span, vmerge, text = record[1:].split("\ue001", 2)
            rows[-1][1].append((_int(span, 1), (vmerge[1:] or "continue") if vmerge else None, text))
        elif kind == "R":
            rows.append((_int(record[1:], 0), []))
        elif kind == "T":
            rows = []
        else:
            blocks.append(("tbl", rows))
    return blocks


def _blocks_python(body) -> list[tuple]:
    """The same blocks as _blocks_xslt, element by element."""
    blocks = []
    for item in body.iterchildren(_P, _TBL):
        if item.tag == _P:
            blocks.append(("p", _style_id(item), _text(item)))
            continue
        rows = []
        for tr in item.iterchildren(_TR):
            cells = []
            for tc in tr.iterchildren(_TC):
                tcpr = next(tc.iterchildren(_TCPR), None)
                vmerge = next(tcpr.iterchildren(_VMERGE), None) if tcpr is not None else None
                paragraphs = (p for p in tc.iter(_P) if next(p.iterancestors(_P), None) is None)
                cells.append((_int(_attr(tc, _TCPR, _GRIDSPAN), 1),
                              None if vmerge is None else vmerge.get(_VAL, "continue"),
                              "\n".join(_text(p) for p in paragraphs)))
            rows.append((_int(_attr(tr, _TRPR, _GRIDBEFORE), 0), cells))
        blocks.append(("tbl", rows))
    return blocks


def _table_rows(rows: list[tuple]) -> list[list[str]]:
    """Cell texts as python-docx's _Row.cells lists the cells, a merged cell once: python-docx gives a cell
    spanning n grid columns n times and a cell merged down (vMerge continue) as the cell it continues, in
    each row it spans; those repeats are empty here. Where python-docx raises (a continued cell with no cell
    starting at its grid offset in the row above) the cell stands for itself."""
    out, above, starts = [], [], {}
    for grid_before, cells in rows:
        ids, row_starts, offset = [], {}, grid_before
        for cell in cells:
            span, vmerge = cell[0], cell[1]
            root = starts.get(offset, cell) if vmerge == "continue" else cell
            row_starts.setdefault(offset, root)
            ids += [root] * root[0]
            offset += span
        texts, seen = [], set()
        for i, cell in enumerate(ids):
            repeat = id(cell) in seen or (i < len(above) and above[i] is cell)
            seen.add(id(cell))
            texts.append("" if repeat else cell[2])
        out.append(texts)
        above, starts = ids, row_starts
    return out


def _markdown(blocks: list[tuple], styles: dict) -> str:
    out: list[str] = []
    prefixes = {style_id: _prefix(name) for style_id, name in styles.items()}
    for item in blocks:
        block = (_paragraph(item[2], prefixes.get(item[1], "")) if item[0] == "p"
                 else md_table(_table_rows(item[1])))
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


# internal relationships of the wanted types only: a manual's document part has one per hyperlink
_RELATIONSHIPS = etree.XPath("/r:Relationships/r:Relationship[(@Type = $a or @Type = $b) and @Target != ''"
                             " and not(@TargetMode = 'External')]",
                             namespaces={"r": "http://schemas.openxmlformats.org/package/2006/relationships"})


def _targets(xml_parts: dict[str, bytes], part: str, *types: str) -> dict[str, str]:
    """Relationship type -> the zip name of its first internal target, for `part` ("" for the package)."""
    folder, name = posixpath.split(part)
    rels = xml_parts.get(posixpath.join(folder, "_rels", name + ".rels"))
    if rels is None:
        return {}
    out = {}
    a, b = (*types, *types)[:2]
    for rel in _RELATIONSHIPS(etree.fromstring(rels, _PARSER), a=a, b=b):
        target = rel.get("Target")
        path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.setdefault(rel.get("Type"), path)
    return out


def _default_styles() -> bytes:
    """python-docx's default styles part, which it uses for a package without one."""
    import docx

    return (Path(docx.__file__).parent / "templates" / "default-styles.xml").read_bytes()


def extract_docx(data: bytes, options: ExtractOptions) -> Extracted:
    xml_parts = check_zip(data, options, keep_xml=True)  # inflated once, for the bomb checks and here
    try:
        package = _targets(xml_parts, "", _RT + "officeDocument", _RT_CORE)
        main = package[_RT + "officeDocument"]
        if (xml := xml_parts.get(main)) is None:  # a main part not named .xml (python-docx opens it too)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                xml = archive.read(main)
        styles = _targets(xml_parts, main, _RT + "styles").get(_RT + "styles")
        styles_xml = xml_parts[styles] if styles else _default_styles()
        core_xml = xml_parts.get(package.get(_RT_CORE))
        root = etree.fromstring(xml, _PARSER)
        body = next(root.iterchildren(_BODY), None)
        if body is None:
            raise ValueError("no w:body in the main document part")
        # XSLT's string value of a w:t and lxml's .text differ where a comment splits it (none in Office's XML)
        blocks = _blocks_xslt(root) if b"<!--" not in xml else None
        if blocks is None:
            blocks = _blocks_python(body)
        text = _markdown(blocks, _style_names(etree.fromstring(styles_xml, _PARSER)))
        title_el = etree.fromstring(core_xml, _PARSER).find(_DC_TITLE) if core_xml else None
        title = (title_el.text or "") if title_el is not None else ""
    except Exception as e:
        raise ExtractionError("parse_error", f"DOCX: {type(e).__name__}: {e}") from None
    return Extracted(text, {"title": title} if title else {})
