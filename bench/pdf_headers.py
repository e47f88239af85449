"""Running headers, footers and page numbers left in extracted PDF text, on whole real manuals.

    .venv/bin/python bench/pdf_headers.py [--cache bench/.cache/realdocs] [--pages N]

The manuals are the Debian documentation packages bench/realdocs_build.py downloads into its cache (run it
once): Texinfo (bash reference, Octave, liboctave), groff (bash man page), gnuplot's and the Debian
Reference's (TeX) PDFs. Ground truth comes from pdfplumber's word boxes, not from the extractor (PDFium):
a running line is the outermost line of words at the top or bottom of a page, inside the TRUTH_BAND, whose text,
digits normalised, is drawn there on at least two pages, or that is only a page number. Scored per page:
each such line still a line of that page's output counts as left (goal: <= 1% of pages), against `before`,
the same pages with only the old rule (a line identical at the edges of every page). `other lines lost`
are the page's other lines that the old rule kept and the new pass removed (should stay near 0). Also the
time of reading pages with the band words and stripping, against PDFium's plain text of every page and
pypdf's plain extract_text, measured in the same run.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pdfplumber
import pypdfium2
from pypdf import PdfReader, PdfWriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from refinery.extract.options import ExtractOptions  # noqa: E402
from refinery.extract.pdf import clean_line, read_pages, strip_headers_footers  # noqa: E402

MANUALS = ["bash-doc/usr/share/doc/bash/bashref.pdf", "bash-doc/usr/share/doc/bash/bash.pdf",
           "octave-doc/usr/share/doc/octave/octave.pdf", "octave-doc/usr/share/doc/octave/liboctave.pdf",
           "gnuplot-doc/usr/share/doc/gnuplot/gnuplot.pdf",
           "debian-reference-en/usr/share/debian-reference/debian-reference.en.pdf"]
TRUTH_BAND = 0.11  # a little wider than the extractor's: a header drawn just inside its band must still count
PAGE_NUMBER = re.compile(r"^\W*(?:page\s+)?(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:/|of)\s*\d{1,5})?\W*$", re.I)


def norm(text: str) -> str:
    return re.sub(r"\W+", "", clean_line(text)).lower()


def key(text: str) -> str:
    return re.sub(r"\d+", "#", norm(text))


def plumber_lines(page) -> tuple[list[str], list[str]]:
    """(band lines, body lines) of one page, words grouped into lines by their top coordinate."""
    rows: dict[int, list] = {}
    for word in page.extract_words(keep_blank_chars=False, x_tolerance_ratio=0.15):
        rows.setdefault(round(word["top"] / 3), []).append(word)
    lines = []
    height = float(page.height)
    for _, words in sorted(rows.items()):
        words.sort(key=lambda w: w["x0"])
        lines.append((" ".join(w["text"] for w in words), min(w["top"] for w in words),
                      max(w["bottom"] for w in words)))
    # only the outermost line at each edge: the body's first or last line may reach into the band too
    band = [i for i in {0, len(lines) - 1} if lines and (lines[i][2] < height * TRUTH_BAND if i == 0 else
                                                         lines[i][1] > height * (1 - TRUTH_BAND))]
    return [lines[i][0] for i in band], [t for i, (t, _, _) in enumerate(lines) if i not in band]


def pdfium_plain(page) -> str:
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    textpage.close()
    page.close()
    return text


def truth(path: Path, limit: int | None) -> list[tuple[list[str], list[str]]]:
    """Per page: (running lines, other lines), normalised."""
    with pdfplumber.open(path) as pdf:
        per_page = [plumber_lines(p) for p in (pdf.pages[:limit] if limit else pdf.pages)]
    seen = Counter(k for band, _ in per_page for k in {key(t) for t in band})
    out = []
    for band, body in per_page:
        running = [norm(t) for t in band if seen[key(t)] >= 2 or PAGE_NUMBER.match(t)]
        others = [norm(t) for t in band + body if norm(t) not in running]
        out.append(([r for r in running if r], [o for o in others if len(o) >= 12]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="bench/.cache/realdocs", help="bench/realdocs_build.py's download cache")
    ap.add_argument("--pages", type=int, help="only the first N pages of each manual (faster)")
    ap.add_argument("--show", type=int, default=0, help="print this many running lines left and lines lost")
    args = ap.parse_args()
    options = ExtractOptions()
    baseline = ExtractOptions(pdf_header_footer_min_share=1.0)  # a line identical at the edges of every page
    totals = Counter()
    plain_s = pdfium_s = ours_s = 0.0
    print(f"{'manual':<26}{'pages':>6}{'running left':>16}{'before':>10}{'other lines lost':>18}")
    for rel in MANUALS:
        path = Path(args.cache) / "pkgs" / rel
        if not path.is_file():
            print(f"{path.name:<26} missing: run bench/realdocs_build.py first")
            continue
        data = path.read_bytes()
        if args.pages:  # the same first pages for the extractor
            writer = PdfWriter()
            for page in PdfReader(io.BytesIO(data)).pages[:args.pages]:
                writer.add_page(page)
            buf = io.BytesIO()
            writer.write(buf)
            data = buf.getvalue()
        expected = truth(path, args.pages)
        start = time.process_time()
        for page in PdfReader(io.BytesIO(data)).pages:
            page.extract_text()
        plain_s += time.process_time() - start
        start = time.process_time()
        pdf = pypdfium2.PdfDocument(data)
        for page in pdf:
            pdfium_plain(page)
        pdf.close()
        pdfium_s += time.process_time() - start
        start = time.process_time()
        pdf = pypdfium2.PdfDocument(data)
        pages, bands, _ = read_pages(pdf, options)
        pdf.close()
        ours = strip_headers_footers(pages, options, bands)
        ours_s += time.process_time() - start
        before = strip_headers_footers(pages, baseline)  # no positions: the old rule alone
        left = left_before = lost = others = 0
        shown_left, shown_lost = [], []
        for (running, other), got, old in zip(expected, ours, before):
            got_lines = {norm(line) for line in got}
            old_lines = {norm(line) for line in old}
            flat = "".join(norm(line) for line in got)
            old_flat = "".join(norm(line) for line in old)
            left += sum(r in got_lines for r in running)
            left_before += sum(r in old_lines for r in running)
            shown_left += [r for r in running if r in got_lines]
            gone = [o for o in other if o in old_flat and o not in flat]  # kept before, removed now
            lost, others = lost + len(gone), others + len(other)
            shown_lost += gone
        n = len(expected)
        totals.update(pages=n, left=left, before=left_before, lost=lost, others=others)
        print(f"{path.name:<26}{n:>6}{f'{left} ({100 * left / n:.1f}%)':>16}{left_before:>10}{f'{lost}/{others}':>18}")
        if args.show:
            print("   left:", shown_left[:args.show], "\n   lost:", shown_lost[:args.show])
    if not totals["pages"]:
        return 1
    share = totals["left"] / totals["pages"]
    left_all = f"{totals['left']} ({100 * share:.1f}%)"
    lost_all = f"{totals['lost']}/{totals['others']}"
    print(f"{'all':<26}{totals['pages']:>6}{left_all:>16}{totals['before']:>10}{lost_all:>18}")
    print(f"reading with the band words + stripping: {ours_s:.2f} CPU-s; PDFium's plain text: {pdfium_s:.2f} "
          f"({ours_s / max(pdfium_s, 1e-9):.2f}x); pypdf's plain extract_text: {plain_s:.2f} "
          f"({ours_s / max(plain_s, 1e-9):.2f}x)")
    print("goal running lines left <= 1% of pages: " + ("met" if share <= 0.01 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
