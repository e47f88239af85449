"""Plain text and Markdown: any encoding to str with charset-normalizer. Markdown keeps its marks (the other
extractors write Markdown too) but loses raw HTML tags and link targets outside code: `<div class=...>` and
`(https://...)` are markup, and the same page converted from HTML by another tool must read the same."""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from refinery.extract.base import Extracted, ExtractionError

# A BOM names the encoding outright; UTF-32 first, as its LE BOM starts with UTF-16's.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]
# Control characters other than tab/newline/CR/form feed: many of them mean a binary file.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)[^`\n]*?\1")
_TAG = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>\n]*)?/?>")
_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\([^)\s]*(?:\s\"[^\"\n]*\")?\)")


def _markup_free(line: str) -> str:
    parts, pos = [], 0
    for m in _CODE_SPAN.finditer(line):  # inline code is left as written
        parts += [_LINK.sub(r"\2", _TAG.sub("", line[pos:m.start()])), m.group()]
        pos = m.end()
    return "".join(parts) + _LINK.sub(r"\2", _TAG.sub("", line[pos:]))


def strip_markdown_markup(text: str) -> str:
    """Raw HTML tags and link/image targets removed outside fenced and inline code (link text kept)."""
    out, fence = [], None
    for line in text.split("\n"):
        if fence:
            fence = None if line.strip().startswith(fence) else fence
            out.append(line)
        elif m := _FENCE.match(line):
            fence = m.group(1)[0] * 3
            out.append(line)
        else:
            cleaned = _markup_free(line)
            out.append(cleaned if cleaned.strip() or not line.strip() else "")
    return "\n".join(out)


# DOS and classic-Mac code pages: rare in today's files, yet on short Western text charset-normalizer
# often ranks them first ("José" read as cp775 "Josķ", as mac_latin2 "Josť").
_RARE_CODEPAGES = [
    "cp437", "cp737", "cp775", "cp850", "cp852", "cp855", "cp857", "cp858", "cp860", "cp861", "cp862",
    "cp863", "cp864", "cp865", "cp869", "cp1006", "cp1125", "mac_arabic", "mac_croatian", "mac_cyrillic",
    "mac_farsi", "mac_greek", "mac_iceland", "mac_latin2", "mac_roman", "mac_romanian", "mac_turkish",
]


def _best_match(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best guess, except that Windows-1252 wins a tie on the mess score: on short
    text the language scores cannot separate the Western code pages ("naïve" is "naďve" in cp1250), and
    cp1252/latin-1 is by far the most common legacy encoding. Cyrillic, Greek, CJK etc. read as cp1252
    are a mess, so their detection is unchanged; short Hungarian or Turkish text stays ambiguous."""
    results = from_bytes(data, cp_exclusion=_RARE_CODEPAGES)
    best = results.best()
    if best is None:
        return None
    for match in results:
        if match.chaos <= best.chaos + 0.005 and "cp1252" in {match.encoding, *match.could_be_from_charset}:
            return str(match), "cp1252"
    return str(best), best.encoding


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding). Raises "empty" for no content and "binary_file" for what is not text."""
    if not data.strip():
        raise ExtractionError("empty", "no bytes or only whitespace")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as e:
                raise ExtractionError("binary_file", f"{encoding} BOM but undecodable: {e}") from None
    if b"\x00" in data:  # without a BOM, NUL bytes mean binary (UTF-16 text carries a BOM in practice)
        raise ExtractionError("binary_file", "NUL bytes in a text file")
    try:
        text, encoding = data.decode("utf-8"), "utf-8"  # the common case, and exact
    except UnicodeDecodeError:
        match = _best_match(data)
        if match is None:
            raise ExtractionError("binary_file", "no text encoding fits") from None
        text, encoding = match
    if len(_BINARY_CHARS.findall(text[:100_000])) > 0.01 * min(len(text), 100_000):
        raise ExtractionError("binary_file", "mostly control characters")
    return text, encoding


def extract_text(data: bytes, markdown: bool = False) -> Extracted:
    text, encoding = decode(data)
    metadata = {"encoding": encoding}
    if markdown:
        text = strip_markdown_markup(text)
        if title := _H1.search(text[:20_000]):
            metadata["title"] = title.group(1)
    return Extracted(text, metadata)
