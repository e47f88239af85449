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
# The marker with the fence, backticks or quote marks trafilatura may have put around the placeholder: a
# fence may open at the end of the sentence before it ("like this: ```") and close on the next line.
_MARKER_SPAN = re.compile(r"(?:```[\w+#-]*[ \t]*\n)?(?P<before>[^\n]*?)refinerycodeblock(?P<index>\d{5})z"
                          r"(?P<after>(?:(?!refinerycodeblock)[^\n])*)(?:\n[ \t]*```[ \t]*(?=\n|$))?")
_WRAPPING = "`> \t"  # what trafilatura puts on the placeholder's own line; anything else is text of the page
_INLINE_CODE_TAGS = ("code", "tt", "kbd", "samp", "var")
# where pages say a block's language: Prism/highlight.js (language-sql, lang-sql), Sphinx (highlight-python
# on the wrapping div), SyntaxHighlighter (brush: sql), DocBook/Pandoc (a `language` or `data-lang` attribute)
_LANGUAGE_CLASS = re.compile(r"(?:^|\s)(?:language-|lang-|highlight-|brush:\s*)([A-Za-z0-9_+#-]+)")
_NOT_A_LANGUAGE = {"default", "none", "text", "plain", "plaintext", "nohighlight", "notranslate"}


def inline_code_on_one_line(tree: HtmlElement) -> None:
    """A line break inside inline code (`<code>git\nrev-list</code>`, wrapped source) makes trafilatura 2.x
    emit a fenced block in mid-sentence with no closing fence; it is only source wrapping, so it becomes a space."""
    for elem in tree.iter(*_INLINE_CODE_TAGS):
        if any(a.tag == "pre" for a in elem.iterancestors()):
            continue
        if elem.text and "\n" in elem.text:
            elem.text = " ".join(elem.text.split("\n"))
        for child in elem:
            if child.tail and "\n" in child.tail:
                child.tail = " ".join(child.tail.split("\n"))


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
        index = int(match.group("index"))
        if index >= len(blocks):
            return match.group(0)
        language, code = blocks[index]
        fence = "````" if "```" in code else "```"  # a block that itself shows a fence stays one block
        before, after = _unwrapped(match.group("before"), end=True), _unwrapped(match.group("after"), end=False)
        block = "\n".join(part for part in (before, f"{fence}{language}\n{code}\n{fence}", after) if part)
        return f"\n{block}\n"  # own lines, also when two blocks shared one
    # a fence opened at the end of a sentence goes onto its own line first
    text = re.sub(r"[ \t]*(```[\w+#-]*[ \t]*\n[^\n]*?refinerycodeblock)", r"\n\1", text)
    return re.sub(r"\n{3,}", "\n\n", _near_markers(lambda part: _MARKER_SPAN.sub(fenced, part), text)).strip("\n")


def _near_markers(substitute, text: str) -> str:
    """`substitute` applied only to the lines around markers (the line before, for a fence opened there, and
    the line after, for its closing fence): a match never reaches further, and on the whole text the
    pattern's lazy scan to each line's end made it quadratic in line length (trafilatura writes a paragraph
    or a table row as one line): 12% of HTML extraction time on the benchmark. Same output."""
    lines = text.split("\n")
    marked = [i for i, line in enumerate(lines) if "refinerycodeblock" in line]
    if not marked:
        return text
    spans: list[list[int]] = []
    for i in marked:
        if spans and i - 1 <= spans[-1][1] + 1:
            spans[-1][1] = min(i + 1, len(lines) - 1)
        else:
            spans.append([max(i - 1, 0), min(i + 1, len(lines) - 1)])
    parts, pos = [], 0
    for start, end in spans:
        parts += lines[pos:start]
        parts.append(substitute("\n".join(lines[start:end + 1])))
        pos = end + 1
    return "\n".join(parts + lines[pos:])


def _unwrapped(text: str, end: bool) -> str:
    """The page's text beside the placeholder, without the one backtick (inline code) or quote marks
    trafilatura put right next to it; other backticks there belong to the page's own inline code."""
    text = text.rstrip() if end else text.lstrip()
    if text.endswith("`") if end else text.startswith("`"):
        text = text[:-1] if end else text[1:]
    return "" if not text.strip(_WRAPPING) else text.strip()


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
