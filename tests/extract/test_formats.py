"""Each format's extractor on real files: the content that must survive, and what must not."""
import io
from pathlib import Path

import pytest

from refinery.extract import ExtractOptions, Extracted, Skipped, extract_bytes
from refinery.extract.base import clean_text, md_table
from refinery.extract.pdf import strip_headers_footers, unwrap
from tests import builders


def one(path, options=None) -> Extracted:
    parts = extract_bytes(path.name, path.read_bytes(), options)
    assert len(parts) == 1 and isinstance(parts[0], Extracted), parts
    return parts[0]


def test_html_keeps_article_as_markdown_and_drops_boilerplate(tmp_path):
    doc = one(builders.html_page(tmp_path))
    assert doc.metadata["format"] == "html" and doc.metadata["title"]
    assert "Quarterly maintenance windows are announced two weeks in advance" in doc.text
    assert "every service has passed its health checks again" in doc.text
    for boilerplate in ("Wiki home", "Sign in", "cookies", "All rights reserved", "Popular this week"):
        assert boilerplate not in doc.text
    assert "- Announce the window in the status page." in doc.text  # list
    assert "Region | Window |" in doc.text and "---|---|" in doc.text  # table as Markdown
    assert "```\nmake patch-hosts REGION=eu\nmake verify-hosts REGION=eu\n```" in doc.text  # code block


def test_pdf_drops_repeated_header_and_page_footer_keeps_body(tmp_path):
    doc = one(builders.pdf_3_pages(tmp_path))
    assert doc.metadata["pages"] == 3 and doc.metadata["title"] == "Maintenance Handbook"
    for n, sentence in enumerate(builders.PDF_BODY_SENTENCES, 1):
        assert sentence in doc.text  # wrapped lines were joined back into sentences
        assert f"Page {n} of 3" not in doc.text
    assert builders.PDF_HEADER not in doc.text


def test_header_footer_detection_normalises_digits_and_keeps_body_lines():
    bodies = [["Alpha opens the page.", "Alpha goes on.", "Alpha ends."], ["Beta starts.", "ACME report", "Beta ends."],
              ["Gamma starts.", "Gamma is long.", "Gamma ends."], ["Delta starts.", "Delta ends here."]]
    pages = [["ACME report", *body, f"Page {n} of 4", f"Printed 2026-11-0{n}"] for n, body in enumerate(bodies, 1)]
    pages[3] = pages[3][:-1]  # the last page lacks one footer line: the others still go
    assert strip_headers_footers(pages, ExtractOptions()) == bodies  # "ACME report" inside a body is kept
    assert strip_headers_footers(pages[:1], ExtractOptions()) == pages[:1]  # one page: nothing to compare


def test_unwrap_joins_wrapped_lines_and_dehyphenates():
    lines = ["The retention period is seven", "years for every infor-", "mation system.", "Next sentence.", "- item"]
    assert unwrap(lines) == "The retention period is seven years for every information system.\nNext sentence.\n- item"


def test_docx_headings_table_and_list(tmp_path):
    doc = one(builders.docx_report(tmp_path))
    assert doc.metadata["title"] == "Incident summary"
    assert doc.text.startswith("# Incident summary\n\nThe search service returned errors")
    assert "## Impact" in doc.text
    assert "| Service | Errors |\n|---|---|\n| Search | 4% |\n| Checkout | 0% |" in doc.text
    assert "- Roll back faster.\n- Add a canary stage." in doc.text


def test_pptx_slides_tables_and_notes(tmp_path):
    doc = one(builders.pptx_deck(tmp_path))
    assert doc.metadata["slides"] == 2
    assert doc.text.index("## Slide 1: Roadmap 2027") < doc.text.index("## Slide 2: Budget")
    assert "Faster checkout" in doc.text and "| Platform | 12 |" in doc.text
    assert "Notes: Speaker notes: start with the customer research results." in doc.text
    assert "Notes: Mention that the budget is not final yet." in doc.text


def test_xlsx_every_sheet_as_a_markdown_table(tmp_path):
    doc = one(builders.xlsx_book(tmp_path))
    assert doc.metadata["sheets"] == ["Servers", "Contacts"]
    assert "## Servers\n\n| Host | Cores | Region |\n|---|---|---|\n| db-1 | 32 | eu |" in doc.text
    assert "## Contacts" in doc.text and "| Platform | #platform-help |" in doc.text


def test_json_list_one_document_per_item_and_missing_text_counted(tmp_path):
    parts = extract_bytes("articles.json", builders.json_list(tmp_path).read_bytes())
    docs = [p for p in parts if isinstance(p, Extracted)]
    assert [(d.text, d.part) for d in docs] == [("First article body.", 0), ("Second article body.", 1)]
    assert [(s.reason, s.location) for s in parts if isinstance(s, Skipped)] == [("missing_text_field", {"index": 2})]


def test_json_dotted_fields_ids_and_metadata():
    data = b'[{"body": {"content": "Nested text."}, "meta": {"id": 42, "url": "https://x.test/a"}}]'
    options = ExtractOptions(json_text_field="body.content", json_id_field="meta.id", json_metadata_fields=["meta.url"])
    (doc,) = extract_bytes("export.json", data, options)
    assert (doc.text, doc.doc_id, doc.metadata["meta.url"]) == ("Nested text.", "42", "https://x.test/a")


def test_jsonl_broken_line_reported_good_lines_kept(tmp_path):
    parts = extract_bytes("tickets.jsonl", builders.jsonl_with_broken_line(tmp_path).read_bytes())
    docs = [p for p in parts if isinstance(p, Extracted)]
    assert [d.part for d in docs] == [1, 2, 4, 5]  # line numbers
    assert docs[-1].text == "Support ticket number 4 was resolved." and docs[0].metadata["format"] == "jsonl"
    (bad,) = [p for p in parts if isinstance(p, Skipped)]
    assert (bad.reason, bad.location) == ("invalid_json_line", {"line": 3})


def test_gzipped_jsonl_is_streamed_with_the_inner_format(tmp_path):
    import gzip

    data = gzip.compress(b'{"text": "one"}\n{"text": "two"}\n')
    parts = extract_bytes("dump.jsonl.gz", data)
    assert [(p.text, p.metadata["format"], p.metadata["compression"]) for p in parts] == [
        ("one", "jsonl", "gzip"), ("two", "jsonl", "gzip")]


def test_markdown_title_and_newlines(tmp_path):
    doc = one(builders.markdown(tmp_path))
    assert doc.metadata["title"] == "Team notes" and "\r" not in doc.text
    assert doc.text == "# Team notes\n\nWe ship on **Tuesdays**.\n\n- one\n- two"


@pytest.mark.parametrize("builder, expected", [(builders.latin1_text, builders.LATIN1_TEXT),
                                               (builders.utf16_text, builders.UTF16_TEXT)])
def test_legacy_encodings_decoded(tmp_path, builder, expected):
    doc = one(builder(tmp_path))
    assert doc.text == clean_text(expected)


def test_utf8_bom_and_cp1252_quotes():
    assert one_bytes("a.txt", "\ufeffStraße".encode("utf-8")).text == "Straße"
    text = "“Smart quotes” – and a café menu for the whole team, written on an old Windows machine."
    assert one_bytes("b.txt", text.encode("cp1252")).text == text


def one_bytes(name, data):
    (doc,) = extract_bytes(name, data)
    return doc


@pytest.mark.parametrize("name, data, fmt", [
    ("noext", b"%PDF-1.4 ...", "pdf"),
    ("page", b"  <!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
    ("dump", b'{"text": "a"}\n{"text": "b"}\n', "jsonl"),
    ("obj", b'{"text": "a"}', "json"),
    ("blob", b"\x00\x01binary", None),
])
def test_sniffing_unknown_suffixes(name, data, fmt):
    from refinery.extract import sniff

    assert sniff(data) == fmt


def test_sniffed_office_file_without_suffix(tmp_path):
    path = builders.docx_report(tmp_path)
    doc = one_bytes("download", path.read_bytes())
    assert doc.metadata["format"] == "docx" and "## Impact" in doc.text


def test_clean_text_and_md_table():
    assert clean_text("a\r\nb  \n\n\n\nc\x00\x07") == "a\nb\n\nc"
    assert md_table([["a", "b|c"], ["multi\nline"]]) == "| a | b\\|c |\n|---|---|\n| multi line |  |"


def test_stream_api_accepts_file_objects(tmp_path):
    from refinery.extract import extract_stream

    with open(builders.markdown(tmp_path), "rb") as f:
        (doc,) = extract_stream("notes.md", f, ExtractOptions())
    assert doc.metadata["format"] == "markdown"
    assert list(extract_stream("x.txt", io.BytesIO(b"hello"), ExtractOptions()))[0].text == "hello"


def test_pdf_whose_words_are_placed_without_spaces_comes_out_with_spaces():
    """The Debian Reference's PDF (TeX) positions words with no space characters: pypdf glues sentences
    together ("Thereisanalternativenumericmode"); PDFium, the engine, splits words by the gaps between glyphs."""
    import io

    from pypdf import PdfReader

    from refinery.extract.pdf import extract_pdf, glued

    path = Path(__file__).parent.parent / "data" / "realdocs" / "raw" / "2026-01-b" / "manuals" / \
        "debian-reference.en-p103-104.pdf"
    data = path.read_bytes()
    assert any(glued(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages)
    text = extract_pdf(data, ExtractOptions()).text
    assert not glued(text) and " the " in text


def test_docx_code_style_paragraphs_become_one_fenced_block(tmp_path):
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    document.styles.add_style("Source Code", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Run the failover script on the standby host:")
    document.add_paragraph("$ sudo ./failover.sh --promote", style="Source Code")
    document.add_paragraph("    waiting for replay... done", style="Source Code")
    document.add_paragraph("Then check the application logs.")
    path = tmp_path / "runbook.docx"
    document.save(path)
    text = one(path).text
    assert text == ("Run the failover script on the standby host:\n\n```\n$ sudo ./failover.sh --promote\n"
                    "    waiting for replay... done\n```\n\nThen check the application logs.")


def test_markdown_loses_raw_html_and_link_targets_but_not_code():
    # pandoc's Markdown of git's HTML manual pages keeps their <div> wrappers
    md = ('<div class="sect1">\n\n## NAME\n\n<span id="_name">git-status</span> - Show the '
          '[working tree](gitglossary.html#def_working_tree) status\n\nRun `git status <path>`:\n\n'
          '```html\n<div class="x">[kept](as-is)</div>\n```\n\n</div>')
    text = one_bytes("status.md", md.encode()).text
    assert text == ("## NAME\n\ngit-status - Show the working tree status\n\nRun `git status <path>`:\n\n"
                    '```html\n<div class="x">[kept](as-is)</div>\n```')


@pytest.mark.parametrize("engine", ["trafilatura", "resiliparse"])
def test_html_list_item_paragraphs_start_their_own_lines(engine):
    # git's api-error-handling.html (AsciiDoc output): an item with two <p>; trafilatura ran them into one
    # line, so a note repeated in many pages could not be removed without the item's own text
    intro = ("<h2>Library errors</h2><p>Functions return a negative integer on error. Details beyond that vary "
             "from function to function, as the list below explains for the library's callers.</p>")
    items = ("<div class=\"ulist\"><ul>\n<li>\n<p>\nSome functions return -1 for all errors.  Others return a more\n"
             "  specific value depending on how the caller might want to react\n  to the error.\n</p>\n</li>\n"
             "<li>\n<p>\nerrno is not meaningful on return from most functions (except\n  for thin wrappers for "
             "system calls).\n</p>\n<p>See the errno(3) manual page for the values a system call sets.</p></li>\n"
             "</ul></div>")
    page = f"<html><body><div id=\"content\">{intro}{items}{intro.replace('Library', 'Other')}</div></body></html>"
    text = extract_bytes("api-error-handling.html", page.encode(), ExtractOptions(html_engine=engine))[0].text
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if "errno is not meaningful" in line)
    assert lines[first].endswith("system calls).")
    after = [line for line in lines[first + 1:] if line.strip()]  # resiliparse leaves a blank line between
    assert after[0].strip() == "See the errno(3) manual page for the values a system call sets."
    assert "refinery" not in text
