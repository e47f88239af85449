"""The benchmark builder's word count of a converted DOCX/PPTX, which labels a copy that pandoc emptied
(bench/realdocs_build.py RULES: empty_navigation). The builder itself needs apt and pandoc, so only this part
runs here, on files written by python-pptx/python-docx (the same text runs pandoc writes)."""
from __future__ import annotations

import io

import docx
import pptx

from bench.realdocs_build import NAV_WORDS, converted_words

NAV = "Previous: Function Index, Up: Top [Contents][Index]"


def test_pptx_words_are_counted_over_every_slide():
    deck = pptx.Presentation()
    for title, body in (("Concept Index", NAV), ("Index Entry", "A B C D E F")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    buf = io.BytesIO()
    deck.save(buf)
    assert converted_words(buf.getvalue(), "pptx") == 2 + len(NAV.split()) + 2 + 6 < NAV_WORDS


def test_docx_words_across_runs_and_paragraphs():
    doc = docx.Document()
    p = doc.add_paragraph("Return the first entry from the group database with the ")
    p.add_run("group").bold = True
    p.add_run(" ID gid.")
    for _ in range(4):
        doc.add_paragraph("If the group ID does not exist in the database, getgrgid returns 0.")
    buf = io.BytesIO()
    doc.save(buf)
    assert converted_words(buf.getvalue(), "docx") == 13 + 4 * 13 >= NAV_WORDS
