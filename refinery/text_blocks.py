"""What each line of an extracted document is: code, table, indented block, heading/list/prose text or blank.

The extractors write Markdown-like text. Filters judge a document on its *prose* (code, tables, markup, URLs
and paths stripped: `prose`), and paragraph dedup only ever removes prose lines (`line_kinds`), so that a
command, a stack trace or a table row that many manuals share is never cut out of them. Heuristic by design:
a line wrongly taken for code is kept by dedup and skipped by the prose ratios, which costs little; a code
line taken for prose is what this module exists to avoid, so the code test leans towards "code".
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

import numpy as np

CODE, TABLE, INDENTED, TEXT, BLANK = "code", "table", "indented", "text", "blank"

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_PROMPT = re.compile(r"^(?:\$|%|;|>>>|\.\.\.|[\w.-]+@[\w.-]+:\S*[$#]|[a-z]+>|[a-z]+:\d+>|PS [A-Z]:\\.*>|C:\\\S*>)\s")
_CODE_START = re.compile(
    r"^(?:def \w+\(|class \w+\s*[:({]|import [\w.]+(?: as \w+)?$|from [\w.]+ import |#include|#define|#!|"
    r"return\b.*;$|(?:public|private|protected|static) (?:static |final |class |void |\w+\s+\w+\s*[(;=])|"
    r"(?:const|let|var|int|char|void|double|float|bool|auto) \**\w+\s*[=(;\[]|function\s*\w*\s*\(|"
    r"(?:fn|func) \w+\(|package [\w.]+;?$|using [\w.:]+;|template\s*<|"
    r"(?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH|BEGIN|COMMIT|PRAGMA)\b[^.]*"
    r"(?:\bFROM\b|\bSET\b|\bINTO\b|\bTABLE\b|\bINDEX\b|\bVIEW\b|\bTRIGGER\b|\bWHERE\b|;|^PRAGMA \w+)|"
    r"(?:if|for|while|switch)\s*\(|else\b\s*\{|\}|\{|<\?|<!--|</?[a-zA-Z][\w-]*[ >/])")
# Operators that prose does not use. A bare "f()" is not among them: manuals name functions in sentences.
_CODE_TOKENS = re.compile(
    r"==|!=|->|=>|::|&&|\|\||\+\+|\+=|-=|/\*|\*/|#define|#include|\)\s*\{|\);|\];|\w\[[\w\"']*\]|\w\(\w*[,*&]|"
    r"\((?:const|void|unsigned|int|double|char|float|long|bool|size_t)\b|\)\s*const\b|"  # C/C++ signatures
    r"\w[&*]{1,2} \w+\s*[,;)=(\[]|[\w>] [&*]{1,2}\w+\s*[,;)=\[]")  # pointers and references: char *p;
# Not "*", "_", "/" or ":": Markdown emphasis, identifiers and paths in sentences, times and labels.
_CODE_CHARS = frozenset("{}[]();=<>|&$\\^~`")
_CODE_CHAR = re.compile(r"[{}\[\]();=<>|&$\\^~`]")  # _CODE_CHARS, counted in C: findall beats a per-char loop ×4
_CODE_CHAR_BYTES = "".join(sorted(_CODE_CHARS)).encode()
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))  # str.isalpha on ASCII
# Every _CODE_TOKENS match holds a match of this, each alternative starting with a literal, so that the regex
# engine skips to those characters in C: _CODE_TOKENS tries ~20 alternatives at every letter (its "\w["-style
# ones) and cost 10 µs a line; searched first, it runs on the ~10% of lines with a candidate.
# tests/filters/test_fast_paths.py checks the superset on the real documents and on random lines.
_CODE_TOKEN_HINT = re.compile(
    r"==|!=|->|=>|::|&&|\|\||\+\+|\+=|-=|/\*|\*/|#define|#include|\)\s*\{|\);|\];|\[[\w\"']*\]|\(\w*[,*&]|"
    r"\((?:const|void|unsigned|int|double|char|float|long|bool|size_t)\b|\)\s*const\b|"
    r"&[&*]? ?\w+\s*[,;)=(\[]|\*[&*]? ?\w+\s*[,;)=(\[]")
_CODE_END = (";", "{", "}", "(", "\\", ",", "[")


_ALIGNED = re.compile(r"\S {3,}\S")  # prose does not align words in columns
_C_DECLARATION = re.compile(r"^(?:(?:typedef|struct|extern|enum|union)\b|[A-Z][A-Z0-9]*_[A-Z0-9_]+ \w)|"
                            r"#\s*(?:if|ifn?def|endif|else|elif|define|include|undef|pragma)\b")
_IDENTIFIER = re.compile(r"[\w.:]*(?:_\w|[a-z][A-Z]|::|\(\))[\w.:()]*,?")
_FIRST_IDENTIFIER = re.compile(_IDENTIFIER.pattern + r"(?!\S)")  # the first token is one: most lines' is not


def looks_like_code(line: str) -> bool:
    """A stripped, non-blank line that reads as code or a terminal session rather than prose."""
    if _PROMPT.match(line) or _CODE_START.match(line) or (_C_DECLARATION.match(line) and not line.endswith(".")):
        return True
    if _FIRST_IDENTIFIER.match(line) and all(_IDENTIFIER.fullmatch(token) for token in line.split()):
        return True  # SQLITE_ABORT, sqlite3_open(), getValue
    nonspace = len(line) - line.count(" ")
    if line.isascii():  # 4 lines in 5: both counts by deleting bytes in C
        b = line.encode("ascii")
        letters = len(b) - len(b.translate(None, _ASCII_LETTERS))
        symbols = len(b) - len(b.translate(None, _CODE_CHAR_BYTES))
    else:
        letters, symbols = sum(map(str.isalpha, line)), len(_CODE_CHAR.findall(line))
    tokens = len(_CODE_TOKENS.findall(line)) if _CODE_TOKEN_HINT.search(line) else 0
    if tokens >= 2 or (tokens and line.endswith(_CODE_END + (")", "const"))):
        return True
    if line.endswith(("{", "}")) or (line.endswith(";") and symbols >= 2):
        return True
    if letters / nonspace < 0.5 or ("   " in line and _ALIGNED.search(line)):  # hashes, octal modes, rules;
        return True  # aligned columns
    return symbols / nonspace >= 0.15 or (symbols / nonspace >= 0.08 and letters / nonspace < 0.6)


def _indent(line: str) -> int:
    if not line or line[0] not in " \t":
        return 0  # most lines: no expandtabs copies
    return len(line.expandtabs(4)) - len(line.lstrip(" \t").expandtabs(4))


def _fences(lines: list[str]) -> set[int]:
    """Indexes of lines inside fenced blocks, fences included. A fence that never closes, or a run of "~"
    under a heading of its length (AsciiDoc's section underline), is no fence."""
    closers: dict[str, list[int]] = {"`": [], "~": []}  # lines that can close a fence, in order
    for j, line in enumerate(lines):
        s = line.strip()
        if s[:3] in ("```", "~~~") and not s.strip(s[0]):
            closers[s[0]].append(j)
    inside, i = set(), 0
    if not closers["`"] and not closers["~"]:
        return inside  # a fence needs a closing line: most documents have none
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m and not _underline(lines, i):
            later = closers[m.group(1)[0]]
            k = bisect_right(later, i)
            if k < len(later):
                inside.update(range(i, later[k] + 1))
                i = later[k] + 1
                continue
        i += 1
    return inside


def _underline(lines: list[str], i: int) -> bool:
    prev = lines[i - 1].strip() if i else ""
    return bool(prev) and set(lines[i].strip()) == {"~"} and abs(len(lines[i].strip()) - len(prev)) <= 3


def line_kinds(lines: list[str], literal_paragraphs: bool = False) -> list[str]:
    """One kind per line. Indentation counts from the document's own base (man pages indent everything).
    `literal_paragraphs` (plain text and AsciiDoc files; not Markdown, where indentation under four spaces
    means nothing, nor what the extractors write): a paragraph whose first line is indented at all after a
    blank line is an indented block as a whole, as AsciiDoc reads it (a literal paragraph: a byte layout, a
    command, an example) and as plain text uses it (quotes, examples). An indented list item stays a list
    item, and a list item less indented than the block ends it. AsciiDoc's delimited listing and literal
    blocks (`----`, `....`) are code there, as fenced blocks are everywhere."""
    base = min((_indent(line) for line in lines if line.strip()), default=0)
    fenced = _fences(lines) | (_delimited_blocks(lines) if literal_paragraphs else set())
    kinds = []
    literal = None  # the indentation of the literal paragraph the line is in, if any
    for i, line in enumerate(lines):
        s = line.strip()
        if literal_paragraphs:
            if not s or s in _BLOCK_BREAKS:
                literal = None
            elif i == 0 or not lines[i - 1].strip() or lines[i - 1].strip() in _BLOCK_BREAKS:
                literal = _indent(line) if _indent(line) > base and not _MARKER.match(s) else None
            elif literal is not None and _MARKER.match(s) and _indent(line) < literal:
                literal = None
        if i in fenced:
            kinds.append(CODE)
        elif not s:
            kinds.append(BLANK)
        elif (s.startswith("|") and s.endswith("|") and len(s) > 1) or _TABLE_RULE.match(s) or s.count(" | ") >= 2:
            kinds.append(TABLE)
        elif looks_like_code(s):
            kinds.append(CODE)
        elif _indent(line) >= base + 4 or literal is not None:
            kinds.append(INDENTED)
        else:
            kinds.append(TEXT)
    return kinds


_DELIMITER = re.compile(r"^(-{4,}|\.{4,})\s*$")


def _delimited_blocks(lines: list[str]) -> set[int]:
    """AsciiDoc's listing and literal blocks: a line of four or more "-" or "." after a blank line opens one, the
    same line closes it (after a text line such a line underlines a heading; in Markdown it is a rule)."""
    inside, i = set(), 0
    while i < len(lines):
        s = lines[i].strip()
        if _DELIMITER.match(lines[i]) and (i == 0 or not lines[i - 1].strip()):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == s), None)
            if end is not None:
                inside.update(range(i, end + 1))
                i = end + 1
                continue
        i += 1
    return inside


_BLOCK_BREAKS = ("+", "--")  # AsciiDoc's list continuation and open-block delimiter end a paragraph too


def paragraphs(lines: list[str], kinds: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of prose paragraphs. Extracted Markdown has one paragraph per line, but a
    hard-wrapped text file has several, and one line of those is a fragment of a sentence: a TEXT line that
    does not end a sentence continues onto the next TEXT line. Headings and list items start a paragraph."""
    out, start = [], None
    for i, kind in enumerate(kinds + [BLANK]):
        line = lines[i].strip() if i < len(lines) else ""
        if start is not None and (kind != TEXT or _MARKER.match(line) or lines[i - 1].rstrip().endswith(_SENTENCE_END)):
            out.append((start, i))
            start = None
        if kind == TEXT and start is None:
            start = i
    return out


_SENTENCE_END = (".", "!", "?", ":", ";", "\"", "”", "'", ")")
_MARKER = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+)+", re.IGNORECASE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"\b(?:https?|ftp|file)://\S+|\bwww\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PATH = re.compile(r"(?<![\w/])(?:~|\.{1,2})?/[\w.+@%-]+(?:/[\w.+@%-]*)+|\b[A-Z]:\\\S+|\b[\w.-]+(?:/[\w.-]+){2,}")
# Emphasis marks, escapes, links and images (kept: the link text). As r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|
# \\(?=[^\w\s])|!?\[([^\]]*)\]\([^)]*\)", the same matches, spelt so that every alternative starts with a literal
# character: the regex engine then skips to those in C instead of trying the lookbehinds everywhere (×5).
_EMPHASIS = r"(?:(?<!\w[*_])(?=\w)|(?<=\w[*_])(?!\w))"  # after the [*_]: (?<!\w) before it and (?=\w), or the reverse
_MARKUP = re.compile(rf"\*\*|__|\*{_EMPHASIS}|_{_EMPHASIS}|\\(?=[^\w\s])|!\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)")
_SPACES = re.compile(r"[ \t]{2,}")


def _strip_markup(line: str) -> str:
    # Each pattern runs only on a line holding a character every one of its matches needs (the same result;
    # most prose lines have no backtick, URL or path, and scanning them for one was most of the time).
    line = _MARKER.sub("", line.strip())
    if "`" in line:
        line = _INLINE_CODE.sub(" ", line)
    if "://" in line or "www." in line or "@" in line:
        line = _URL.sub(" ", line)
    if line.count("/") >= 2 or "\\" in line:  # a path has two slashes, or is a Windows one
        line = _PATH.sub(" ", line)
    if "*" in line or "_" in line or "\\" in line or "[" in line:
        line = _MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", line)  # a link's or an image's text
    if "  " in line or "\t" in line:
        line = _SPACES.sub(" ", line)
    return line.strip()


@lru_cache(maxsize=16)  # language ID's prose-with-tables and the quality filters' prose share one classification
def _kinds_of(text: str) -> tuple[str, ...]:
    return tuple(line_kinds(text.split("\n")))


@lru_cache(maxsize=16)  # language ID's prose-with-tables and the quality filters' prose strip the same lines
def _stripped_lines(text: str) -> tuple[tuple[str, str, str, str], ...]:
    """Per line: (kind, stripped text line, kind as a table-cells line, stripped table-cells line)."""
    out = []
    for line, kind in zip(text.split("\n"), _kinds_of(text)):
        stripped = _strip_markup(line) if kind in (TEXT, INDENTED) else ""
        cells_kind, cells = kind, stripped
        if kind == TABLE:
            line = line.replace("|", " ")
            cells_kind = TEXT if not _TABLE_RULE.match(line.strip()) and line.strip(" -:") else BLANK
            cells = _strip_markup(line) if cells_kind == TEXT else ""
        out.append((kind, stripped, cells_kind, cells))
    return tuple(out)


@lru_cache(maxsize=16)  # several filters ask for the prose of the same document in a row
def prose(text: str, tables: bool = False) -> str:
    """The document's running text: heading, list and paragraph lines without their Markdown marks, inline
    code, URLs, e-mail addresses and paths; code, tables and indented code-like blocks left out (`tables`:
    table cells kept as words, for language ID: a page can hold most of its language in tables)."""
    out = []
    for kind, stripped, cells_kind, cells in _stripped_lines(text):
        if tables:
            kind, stripped = cells_kind, cells
        if any(map(str.isalnum, stripped)):  # a line of inline code only ("`badDate`::") leaves none
            out.append(stripped)
        elif kind == BLANK and out and out[-1]:
            out.append("")
    return "\n".join(out).strip()


_WORD = re.compile(r"\w+(?:['’.-]\w+)*")


def words(text: str) -> list[str]:
    """Words for the quality ratios: runs of letters/digits (with inner apostrophes, dots, hyphens).
    Punctuation is not a word, unlike datatrove's spaCy split, where "Hello, world." is 4 words, 2 of them
    without a letter."""
    return list(_words_of(text))


@lru_cache(maxsize=16)  # Gopher quality and repetition split the same prose, repetition twice
def _words_of(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


def count_words(text: str) -> int:
    """len(words(text)), without making the words, in numpy (3x faster than the regex): the runs of word
    characters, less each "'", "’", "." or "-" alone between two of them, which joins two runs into one word."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if not _SEEN[codes].all():  # classify characters not met before with the regex's own \w
        new = np.unique(codes[~_SEEN[codes]])
        _WORD_CHAR[new] = [bool(_W.match(chr(c))) for c in new.tolist()]
        _SEEN[new] = True
    word = _WORD_CHAR[codes]
    runs = np.count_nonzero(word[1:] > word[:-1]) + bool(word[:1].any())
    joins = np.count_nonzero(_JOIN_CHAR[codes[1:-1]] & word[:-2] & word[2:])
    return int(runs - joins)


_W = re.compile(r"\w")
_WORD_CHAR = np.zeros(0x110000, dtype=bool)  # \w, per code point, for those in _SEEN
_SEEN = np.zeros(0x110000, dtype=bool)
_JOIN_CHAR = np.zeros(0x110000, dtype=bool)
_JOIN_CHAR[[ord(c) for c in "'’.-"]] = True
