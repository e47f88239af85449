"""Line kinds and the prose view, on lines taken from real manuals (SQLite, git, Debian reference)."""
import pytest

from refinery.text_blocks import BLANK, CODE, INDENTED, TABLE, TEXT, line_kinds, prose, words

CODE_LINES = [
    "SELECT value FROM generate_series(5,100,5);",
    "int sqlite3_prepare_v2(sqlite3 *db, const char *zSql, int nByte, sqlite3_stmt **ppStmt, const char **pzTail);",
    "$ git commit -m \"fix typo\"",
    "sqlite> .mode column",
    "user@host:~/src$ make install",
    "#define SQLITE_OK 0 /* Successful result */",
    "for (i = 0; i < n; i++) {",
    "}",
    "SQLITE_CANTOPEN_ISDIR",
    "def main(argv):",
    "<div class=\"nav\">",
    "typedef struct sqlite3_str sqlite3_str;",
    "SQLITE_EXTERN char *sqlite3_data_directory;",
    "#ifndef SQLITE_OMIT_COMPILEOPTION_DIAGS",
    "git             9418/tcp                # Git Version Control System",
    "create         :000000 100644 0000000... 1234567... A file4",
    "ColumnVector& insert (const ColumnVector &a, int r)",
    "Matrix balanced_matrix (void) const",
]
PROSE_LINES = [
    "The sqlite3_prepare_v2() interface compiles the SQL text into a prepared statement object.",
    "Use git-commit(1) to record changes; see also the CONFIGURATION section below.",
    "Select the package you want to install and press Enter (or q to quit).",
    "**Bug Fixes:**",
    "It is important to keep in mind that this is purely illustrative - no engine is required to do this.",
]


@pytest.mark.parametrize("line", CODE_LINES)
def test_code_lines(line):
    assert line_kinds([line]) == [CODE]


@pytest.mark.parametrize("line", PROSE_LINES)
def test_prose_lines(line):
    assert line_kinds([line]) == [TEXT]


def test_fences_tables_indentation_and_blanks():
    lines = ["Intro text for the page.", "", "```", "plain words inside a fence", "```", "| a | b |", "|---|---|",
             "    indented literal block", "Closing words."]
    assert line_kinds(lines) == [TEXT, BLANK, CODE, CODE, CODE, TABLE, TABLE, INDENTED, TEXT]
    # a man page indents everything: its base indentation is not code
    assert line_kinds(["       Prints the version.", "       Exits with status 0."]) == [TEXT, TEXT]


def test_prose_strips_markup_code_urls_and_paths():
    text = ("# Install\n\n- Run `make install` as root, then read https://example.org/docs and /etc/app/app.conf.\n"
            "```\nmake install\n```\n| k | v |\n**Note:** the *default* is fine.")
    assert prose(text) == "Install\n\nRun as root, then read and\nNote: the default is fine."
    assert words("Hello, world. It's 3.5 x-ray") == ["Hello", "world", "It's", "3.5", "x-ray"]


def test_asciidoc_underlines_and_unclosed_fences_are_not_code_blocks():
    lines = ["Filter driver", "~~~~~~~~~~~~~", "A long running filter process is described here.", "~~~",
             "Another paragraph of prose after a stray fence line."]
    assert line_kinds(lines)[2] == TEXT and line_kinds(lines)[4] == TEXT


def test_a_paragraph_indented_after_a_blank_line_is_an_indented_block():
    # git's gitformat-commit-graph.txt: AsciiDoc literal paragraphs indented by two spaces, some lines of them
    # (after an edit) not indented at all; paragraph dedup must not cut them out of the byte layout
    lines = ["Chunk lookup", "",
             "  (C + 1) * 12 bytes listing the table of contents for the chunks:",
             "      First 4 bytes describe the chunk id. Value 0 is a terminating label.", "",
             "  The remaining data in the body is described one chunk at a time, and",
             "these chunks may be given in any order. Chunks are required unless",
             "  otherwise specified.", "",
             "All multi-byte numbers are in network byte order."]
    kinds = line_kinds(lines, literal_paragraphs=True)
    assert kinds[0] == kinds[-1] == TEXT and kinds[5:8] == [INDENTED] * 3
    assert TEXT not in kinds[2:8]  # the first block's lines are code or indented, never removable prose
    # an indented list item stays a list item, a hanging indent inside a paragraph stays prose, and the
    # prose view still reads the indented block's words
    lines = ["Options are read in this order:", "", "  - the command line,", "  - the configuration file.", "",
             "- Run the tool once to create the cache and", "  the index it needs."]
    assert line_kinds(lines, literal_paragraphs=True) == [TEXT, BLANK, TEXT, TEXT, BLANK, TEXT, TEXT]
    # a list item less indented than the block ends it (a page's text with a note indented under an item)
    lines = ["Intro.", "", "  Note: the server stores times in UTC.", "- *blame*", "- Show who last changed each line."]
    assert line_kinds(lines, literal_paragraphs=True)[2:] == [INDENTED, TEXT, TEXT]
    # Markdown ignores indentation under four spaces: without the flag a one-space paragraph is prose
    lines = ["Intro.", "", " The **xerrorbars** style is only relevant to 2D data plots."]
    assert line_kinds(lines) == [TEXT, BLANK, TEXT] and line_kinds(lines, literal_paragraphs=True)[2] == INDENTED


def test_asciidoc_delimited_blocks_of_a_text_file_are_code():
    # git's gitdiffcore.txt: an orderfile in a listing block; its lines read like words, not code
    lines = ["As an example, a typical orderfile for the core Git probably", "would look like this:", "",
             "------------------------------------------------", "README", "Makefile", "Documentation", "*.h", "t",
             "------------------------------------------------", "", "Heading", "-------", "Text after it."]
    kinds = line_kinds(lines, literal_paragraphs=True)
    assert kinds[3:10] == [CODE] * 7 and kinds[11] == TEXT and kinds[13] == TEXT
    assert line_kinds(lines)[4:7] == [TEXT] * 3  # in Markdown a dashed line is a rule, not a fence
