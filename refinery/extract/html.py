"""HTML: the main content (navigation, footers, cookie banners dropped) as Markdown, so headings, lists,
tables and code blocks survive. Two engines decide what is main content (`extract.html_engine`): resiliparse
(the default, html_resiliparse.py: ~10x the MB per CPU-second, every quality goal met, bench/html_speed.py)
and trafilatura, below; both read the tree parsed and prepared here. trafilatura 2.x: 1.11 split every table cell and
inline code onto its own line (bench/html_fidelity.py: debian-reference tables kept 81/425 -> 394/423,
inline code 92.6% -> 99.4%); code blocks are kept verbatim around it (html_code.py).

`bare_extraction` with formatting on yields the same text as `extract(output_format="markdown")` and the
page title from the same parse.

The page is parsed here with trafilatura's own loader and parser, then handed over as a tree (what
`bare_extraction` would have done itself), so that one parse also tells whether libxml2 stopped at its
depth limit: past 256 nested elements it gives up and keeps only what came before, which for 200,000
nested `<table>`s is a few characters, silently. Reading the parser's error log afterwards costs microseconds."""
from __future__ import annotations

import logging
import re

from html import unescape

from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.utils import HTML_PARSER, line_processing, load_html

from refinery.extract.base import Extracted, ExtractionError
from refinery.extract.html_code import inline_code_on_one_line, protect_code_blocks, restore_code_blocks
from refinery.extract.options import ExtractOptions

def resiliparse_text(tree, **kwargs) -> str:  # imported on first use: only the `resiliparse` engine needs it
    from refinery.extract.html_resiliparse import resiliparse_text as engine
    return engine(tree, **kwargs)

# trafilatura logs a warning for every page it finds nothing in; the quarantine manifest says it once.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _too_deep() -> bool:
    """The last parse stopped at libxml2's depth limit (a fatal error: the rest of the page is lost)."""
    return any("depth" in e.message for e in HTML_PARSER.error_log.filter_from_fatals())


def extract_html(data: bytes, options: ExtractOptions) -> Extracted:
    try:
        tree = load_html(data)  # bytes, not str: trafilatura reads the page's declared charset itself
        if tree is not None and _too_deep():
            raise ExtractionError("too_deeply_nested", "HTML nested deeper than 256 elements: the parser stops there")
        code_blocks = []
        resiliparse = options.html_engine == "resiliparse"
        if tree is not None:
            _drop_heading_anchors(tree)
            _unwrap_table_indents(tree)
            _unwrap_texinfo_definitions(tree)
            inline_code_on_one_line(tree)
            if not resiliparse:  # resiliparse keeps an item's paragraphs on lines of their own
                _mark_item_paragraphs(tree)
            code_blocks = protect_code_blocks(tree)
        title, url = _title_and_url(tree, options.html_include_links) if tree is not None else (None, None)
        if tree is None:
            text = ""
        elif resiliparse:
            text = resiliparse_text(tree, tables=options.html_include_tables, links=options.html_include_links)
        else:
            document = bare_extraction(
                tree, url=url, include_formatting=True, include_comments=False, with_metadata=False,
                include_tables=options.html_include_tables, include_links=options.html_include_links,
                favor_precision=options.html_favor_precision,
            )
            text = _item_paragraph_breaks(document.text or "") if document is not None else ""
    except ExtractionError:
        raise
    except RecursionError:  # absurdly nested markup
        raise ExtractionError("parse_error", "HTML too deeply nested") from None
    except Exception as e:
        raise ExtractionError("parse_error", f"HTML: {type(e).__name__}: {e}") from None
    if not text.strip():
        raise ExtractionError("empty", "no main content found in the HTML")
    metadata = {"title": title} if title else {}
    return Extracted(restore_code_blocks(text, code_blocks), metadata)


def _title_and_url(tree, links: bool) -> tuple[str | None, str | None]:
    """The page title as trafilatura's `with_metadata` finds it (meta tags, JSON-LD, then the page's `<h1>`/
    `<title>`), and the page URL links are made absolute against, without the rest of its metadata pass:
    author, date, categories, tags and licence took 15% of HTML extraction time (cProfile, benchmark HTML)
    and nothing here reads them. The text is the same (checked on every benchmark page)."""
    metadata = examine_meta(tree)
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # trafilatura's own pass skips its bugs in JSON-LD parsing the same way
        pass
    title = metadata.title or extract_title(tree)
    url = (metadata.url or extract_url(tree)) if links else None
    if title:  # trafilatura's Document.clean_and_trim
        title = line_processing(unescape(title[:9999] + "…" if len(title) > 10000 else title))
    return title, url


def _unwrap_table_indents(tree) -> None:
    """Old manuals indent tables with `<blockquote>`/`<center>`; trafilatura reads a quote as running text and
    flattens a table inside it into one line (SQLite's docs: 5 of 22 content tables). It reads a definition
    list's `<dd>` as a list item, flattening tables too: Sphinx puts each documented object (a config value, a
    method) in a `<dl>` of its own, and 3 of the 5 tables of Sphinx's own manual in its `<dd>`. Such a list
    becomes plain blocks, the term a paragraph above its definition (other definition lists stay lists)."""
    for wrapper in tree.xpath("//blockquote[.//table]|//center[.//table]"):
        wrapper.drop_tag()
    for dl in tree.xpath("//dl[dd//table]"):
        for child in dl:
            if child.tag in ("dt", "dd"):
                child.tag = "p" if child.tag == "dt" else "div"
        dl.tag = "div"


# Texinfo's definition blocks: `def` (texinfo 6), `first-deffn def-block` (7), `deftypefn`, `defvr`, ...
_TEXINFO_DEF = re.compile(r"(?:first-)?def(?:-block|fn|vr|tp|op|cv|un|mac|spec|var|opt|typefn|typefun|typevr|typevar|"
                          r"typeop|typecv|ivar|typeivar|method|typemethod)?x?")


def _unwrap_texinfo_definitions(tree) -> None:
    """A GNU manual documents each function or command in a `<dl class="def">` (signature in the `<dt>`,
    description in the `<dd>`) and writes `@table` as a `<dl>` whose terms are argument or property names.
    Read as lists, the terms went missing (trafilatura's fallback extractors drop a `<dt>`'s text: every
    signature of libffi's manual, Octave's `glpk`, 61 of the 117 terms of the slice's Octave pages such as
    `clipping` in Uitoolbar Properties), and a short definition ending in a "See also" line of links went
    whole as a link-dense list (Octave's Group Database Functions), while the PDF and DOCX of the same manual
    keep them. On a page makeinfo wrote, and for a definition block anywhere, each term becomes a paragraph and
    its description's blocks its siblings (a wrapper would be tested for link density again); in a definition
    block the cross-references become their text (they are the manual's content, not navigation)."""
    makeinfo = bool(tree.xpath("//meta[@name='Generator' and starts-with(@content, 'makeinfo')]"))
    for dl in list(tree.iter("dl")):
        definition = any(_TEXINFO_DEF.fullmatch(c) for c in (dl.get("class") or "").split())
        if not (makeinfo or definition):
            continue
        for link in list(dl.iter("a")) if definition else ():
            link.drop_tag()
        for child in list(dl):
            if child.tag == "dt":
                child.tag = "p"
            elif child.tag == "dd" and not (child.text or "").strip():
                child.drop_tag()
            elif child.tag == "dd":  # text of its own, outside a paragraph: kept as one block
                child.tag = "div"
        dl.drop_tag()


def _drop_heading_anchors(tree) -> None:
    """Permalinks ("¶" after headings: Sphinx's headerlink, Texinfo's copiable-anchor) would end every heading."""
    for anchor in tree.xpath("//a[normalize-space(.)='¶' or (contains(@class, 'headerlink') and "
                             "normalize-space(.)='#')]"):
        anchor.drop_tree()  # keeps the tail text


_ITEM_PARAGRAPH = "refineryitemparagraphz"
_ITEM_PARAGRAPH_SPAN = re.compile(rf"[ \t]*{_ITEM_PARAGRAPH}[ \t]*")


def _mark_item_paragraphs(tree) -> None:
    """trafilatura writes a list item (`<li>`, a definition's `<dd>`) as one line, so the paragraphs of an item
    run together ("...terminated by a newline. CONFIDENTIALITY NOTICE: ..."), and paragraph dedup cannot
    remove a repeated note without the item's own text. Each paragraph of an item after its first is marked
    here and starts its own line afterwards (`_item_paragraph_breaks`)."""
    for item in tree.xpath("//li|//dd"):
        paragraphs = [p for p in item.iterdescendants("p")
                      if next(p.iterancestors("li", "dd", "pre", "table"), None) is item and p.text_content().strip()]
        for p in paragraphs[1:]:
            p.text = f"{_ITEM_PARAGRAPH} {p.text or ''}"


def _item_paragraph_breaks(text: str) -> str:
    """Each marked paragraph on its own line, indented under its list item (a Markdown continuation line)."""
    def br(match: re.Match) -> str:
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start:match.start()]
        if not before.strip():  # trafilatura already put the paragraph on its own line
            return before[:0]
        return "\n" + " " * (len(before) - len(before.lstrip()) + 2)
    return _ITEM_PARAGRAPH_SPAN.sub(br, text)
