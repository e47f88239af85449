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
