"""HTML engine `resiliparse` (`extract.html_engine`): resiliparse's main-content extractor, written in Rust,
in place of trafilatura's Python passes (bench/html_speed.py measures both on the real-document benchmark).

It reads the tree html.py parsed and prepared (depth check, heading anchors, Texinfo definitions, code blocks
swapped for marker words), with two more swaps of our own, because resiliparse writes plain text: each content
table becomes a marker for the Markdown table rendered here, and each heading gets its Markdown `#`s. The tree
goes to resiliparse as serialized HTML (lxml writes it in C), which decides what is main content; the markers
it kept are put back afterwards.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement, tostring
from resiliparse.extract.html2text import extract_plain_text

_TABLE_MARKER = "refinerytable{:05d}z"
_TABLE_SPAN = re.compile(r"[^\S\n]*refinerytable(\d{5})z[^\S\n]*")
_HEADINGS = {f"h{n}": "#" * n for n in range(1, 7)}


def resiliparse_text(tree: HtmlElement, *, tables: bool, links: bool) -> str:
    """Main content of a prepared tree as Markdown-like text: headings, bullets, tables, code markers kept."""
    _inline_code_in_backticks(tree)
    rendered = _swap_tables(tree) if tables else []
    _unwrap_content_lists(tree)
    for heading in tree.iter(*_HEADINGS):
        if heading.text_content().strip():
            heading.text = f"{_HEADINGS[heading.tag]} {(heading.text or '').lstrip()}"
    text = extract_plain_text(
        tostring(tree, encoding="unicode"), preserve_formatting=True, main_content=True, list_bullets=True,
        alt_texts=False, links=links, form_fields=False, noscript=False, comments=False,
        skip_elements=None if tables else ["table"])
    return _TABLE_SPAN.sub(lambda m: _table_block(rendered, int(m.group(1)), m.group(0)), text)


def _inline_code_in_backticks(tree: HtmlElement) -> None:
    """Inline code keeps its Markdown backticks, as trafilatura writes it (code blocks are markers by now)."""
    for code in list(tree.iter("code", "tt", "kbd", "samp")):
        if any(a.tag in ("code", "tt", "kbd", "samp", "pre") for a in code.iterancestors()):
            continue
        if not code.text_content().strip():
            continue
        code.text = f"`{code.text or ''}"
        if len(code):
            code[-1].tail = f"{code[-1].tail or ''}`"
        else:
            code.text += "`"


def _unwrap_content_lists(tree: HtmlElement) -> None:
    """resiliparse's main-content rules drop every `<ul>` outside the article's own containers as navigation,
    and with them SQLite's quickstart steps and Octave's configure options (good pages lost in the benchmark).
    A bulleted list whose text is mostly not links is content: it becomes blocks starting with "- ", as
    trafilatura writes them; a list of links stays a list, for resiliparse to drop."""
    for ul in list(tree.iter("ul")):
        text = len("".join(ul.text_content().split()))
        linked = sum(len("".join(a.text_content().split())) for a in ul.iter("a"))
        if not text or linked > text / 2:
            continue
        for item in ul.iterchildren("li"):
            target = item
            while not (target.text or "").strip() and len(target) and target[0].tag in ("p", "div"):
                target = target[0]
            target.text = f"- {(target.text or '').lstrip()}"
            item.tag = "div"
        ul.tag = "div"


def _table_block(rendered: list[str], index: int, original: str) -> str:
    return f"\n\n{rendered[index]}\n\n" if index < len(rendered) else original


def _swap_tables(tree: HtmlElement) -> list[str]:
    """Each innermost table with at least two cells in a row becomes a paragraph holding a marker; returns
    the Markdown of each. Tables around tables are page layout: left for resiliparse to read through."""
    rendered: list[str] = []
    for table in list(tree.iter("table")):
        if next(table.iterdescendants("table"), None) is not None:
            continue
        rows = [[_cell(c) for c in row if c.tag in ("td", "th")] for row in table.iter("tr")]
        rows = [r for r in rows if any(r)]
        if not rows or max(len(r) for r in rows) < 2:
            continue  # a one-column table is a layout box, its text stays where it is
        marker = table.makeelement("p", {})
        marker.text = _TABLE_MARKER.format(len(rendered))
        marker.tail = table.tail
        table.getparent().replace(table, marker)
        rendered.append(_markdown(rows))
    return rendered


def _cell(cell: HtmlElement) -> str:
    return " ".join(cell.text_content().split()).replace("|", "\\|")


def _markdown(rows: list[list[str]]) -> str:
    width = max(len(r) for r in rows)
    lines = [f"| {' | '.join(r + [''] * (width - len(r)))} |" for r in rows]
    return "\n".join([lines[0], "|" + "---|" * width, *lines[1:]])  # the rule as trafilatura writes it
