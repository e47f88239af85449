"""Running headers that change per chapter and carry the page number are removed by where they are drawn;
body lines that happen to repeat at the top of pages are not. (bench/pdf_headers.py measures the same on
whole Debian manuals.)"""
from __future__ import annotations

from pathlib import Path

from refinery.extract.dispatch import extract_bytes
from refinery.extract.pdf import clean_line

TOPICS = ["how vectors are created and assigned", "which operators apply element by element",
          "the recycling rule for vectors of unequal length", "how missing values propagate",
          "index vectors that select a subset", "character vectors and their escapes",
          "logical vectors built from comparisons", "arrays with a dimension attribute",
          "how matrices are multiplied", "factors and their levels", "lists of named components"]
CHAPTERS = ["Getting Started", "Simple manipulations; numbers and vectors", "Objects, their modes and attributes"]


def manual(path: Path) -> Path:
    """3 chapters of 3 pages, Texinfo-style: "Chapter N: Title  <page>" at the top of every page but the
    chapter's first, whose page number is alone at the bottom; every page opens with "Example session:"."""
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(False)
    page = 0
    for c, title in enumerate(CHAPTERS, 1):
        for k in range(3):
            page += 1
            pdf.add_page()
            pdf.set_font("Helvetica", size=10)
            if k:
                pdf.set_xy(20, 12)
                pdf.cell(150, 6, f"Chapter {c}: {title}")
                pdf.cell(25, 6, str(page), align="R")
            else:
                pdf.set_xy(100, 262)
                pdf.cell(15, 6, str(page), align="C")
            pdf.set_font("Helvetica", size=11)
            pdf.set_xy(20, 40)
            pdf.cell(170, 6, "Example session:")
            pdf.set_xy(20, 50)
            pdf.multi_cell(170, 6, f"Chapter {c} page {k + 1} explains {TOPICS[page % len(TOPICS)]}. The next "
                                   f"section shows {TOPICS[(page * 5) % len(TOPICS)]}, and what the interpreter "
                                   f"prints for {TOPICS[(page * 7 + 3) % len(TOPICS)]}.")
    pdf.output(str(path))
    return path


def test_per_chapter_headers_and_page_numbers_go_body_stays(tmp_path):
    [doc] = extract_bytes("manual.pdf", manual(tmp_path / "manual.pdf").read_bytes())
    text = doc.text
    for title in CHAPTERS:
        assert f"Chapter {CHAPTERS.index(title) + 1}: {title}" not in text
    assert not any(line.strip().isdigit() for line in text.splitlines())  # page numbers
    assert text.count("Example session:") == 9  # repeats at the top of each page, but drawn below the band
    for c in range(1, 4):
        for k in range(1, 4):
            assert f"Chapter {c} page {k} explains" in text


def test_glyphs_and_dot_leaders():
    assert clean_line("Deﬁning a ﬂag for the eﬃcient case") == "Defining a flag for the efficient case"
    assert clean_line("2.6 Executable Octave Programs ........................ 37") == "2.6 Executable Octave Programs"
    assert clean_line("3.5.9 Quote Removal . . . . . . . . . . . . . . . 38") == "3.5.9 Quote Removal"
    assert clean_line("Copyright c© 2022 Free Software Foundation") == "Copyright © 2022 Free Software Foundation"
    assert clean_line("blink−matching−paren (Off)") == "blink-matching-paren (Off)"
    assert clean_line("git fetch git://.... linus") == "git fetch git://.... linus"  # not a leader
