"""Code blocks survive the main-content pass verbatim.

trafilatura keeps a `<pre>` block's text but often not its line breaks (real DocBook manuals: 0 of 392
blocks kept them with trafilatura 1.11, 211 with 2.3; Sphinx/Texinfo pages fare little better), so SQL and
shell sessions came out as one line. Each `<pre>` is swapped for a marker word before extraction, which
trafilatura keeps or drops with its surroundings like any other word, and is put back afterwards as a
fenced block with its original lines and the language the page declares.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement

_MARKER = "refinerycodeblock{:05d}z"
# the marker's line, with the fence or quote marks trafilatura may have put around the placeholder
_MARKER_LINE = re.compile(r"(?:^```[^\n]*\n)?^[^\n]*?refinerycodeblock(\d{5})z[^\n]*(?:\n```[ \t]*$)?", re.M)
# where pages say a block's language: Prism/highlight.js (language-sql, lang-sql), Sphinx (highlight-python
# on the wrapping div), SyntaxHighlighter (brush: sql), DocBook/Pandoc (a `language` or `data-lang` attribute)
_LANGUAGE_CLASS = re.compile(r"(?:^|\s)(?:language-|lang-|highlight-|brush:\s*)([A-Za-z0-9_+#-]+)")
_NOT_A_LANGUAGE = {"default", "none", "text", "plain", "plaintext", "nohighlight", "notranslate"}


def protect_code_blocks(tree: HtmlElement) -> list[tuple[str, str]]:
    """Replaces each outermost `<pre>`'s content by a marker; returns (language, text) per marker index."""
    blocks: list[tuple[str, str]] = []
    for pre in list(tree.iter("pre")):
        if any(a.tag == "pre" for a in pre.iterancestors()):
            continue
        text = pre.text_content().strip("\n").rstrip()
        if not text.strip():
            continue
        language = _language(pre)
        for child in list(pre):
            pre.remove(child)
        pre.text = _MARKER.format(len(blocks))
        blocks.append((language, text))
    return blocks


def restore_code_blocks(text: str, blocks: list[tuple[str, str]]) -> str:
    def fenced(match: re.Match) -> str:
        index = int(match.group(1))
        if index >= len(blocks):
            return match.group(0)
        language, code = blocks[index]
        fence = "````" if "```" in code else "```"  # a block that itself shows a fence stays one block
        return f"{fence}{language}\n{code}\n{fence}"
    return _MARKER_LINE.sub(fenced, text)


def _language(pre: HtmlElement) -> str:
    for elem in (pre, *pre.iterchildren("code"), pre.getparent(), *_grandparent(pre)):
        if elem is None:
            continue
        for value in (elem.get("data-lang"), elem.get("language")):
            if value and value.lower() not in _NOT_A_LANGUAGE:
                return value.lower()
        for match in _LANGUAGE_CLASS.finditer(elem.get("class") or ""):
            if match.group(1).lower() not in _NOT_A_LANGUAGE:
                return match.group(1).lower()
    return ""


def _grandparent(pre: HtmlElement) -> tuple:
    parent = pre.getparent()
    return (parent.getparent(),) if parent is not None else ()
