"""Cheaper ways to re-read the pages pypdf glues (words run together), on the realdocs benchmark's PDFs.

    .venv/bin/python bench/pdf_glued.py [--raw /work/wt-bench9/bench/out/realdocs/raw] [--limit N]

When pypdf was the engine, `read_pages` ran pypdf's extract_text on every page and re-read a page whose text
`glued()` with pdfplumber (`extract_text(x_tolerance_ratio=0.15)`); this bench chose PDFium for those pages,
which then became the engine for every page (bench/pdf_engine.py). Candidates for the pages pypdf glues:
  pypdf-layout      pypdf extraction_mode="layout" (space_vertically=False), runs of spaces collapsed
  plumber-words     pdfplumber extract_words(x_tolerance_ratio=0.15), joined per line (no extract_text layout)
  pdfium            pypdfium2's text page, get_text_range() (PDFium, C)
CPU time (time.process_time, one process), per page, paths interleaved per file in rotating order; each path
opens its own document (its open cost is charged to it). Fidelity per glued page, against today's pdfplumber
text, both normalised as the extractor would (clean_line + unwrap, surrounding punctuation stripped): word
recall (pdfplumber's words as a multiset found in the candidate), share of candidate tokens longer than 25
letters (still glued), whether `glued()` still says the candidate is glued, and the share of pdfplumber's
lines (whitespace collapsed) that are also lines of the candidate (the header/footer pass works on lines). The MB/CPU-s column is the
whole read of those files: pypdf plain on every page + the path on the glued pages. Last, the whole-file rate
of `extract_pdf` today (PDFium on every page), in the same process.
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
import pypdfium2 as pdfium
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from refinery.extract.options import ExtractOptions  # noqa: E402
from refinery.extract.pdf import clean_line, extract_pdf, glued, unwrap  # noqa: E402

_SPACES = re.compile(r"[ \t]{2,}")
_EDGE_PUNCT = re.compile(r"^\W+|\W+$")


def lines_of(text: str) -> list[str]:
    return [line for line in (clean_line(" ".join(raw.split())) for raw in text.splitlines()) if line]


def words(text: str) -> list[str]:
    lines = (clean_line(line.strip()) for line in text.splitlines() if line.strip())
    out = (_EDGE_PUNCT.sub("", t) for t in unwrap([line for line in lines if line]).split())
    return [t for t in out if t]


class Path_:
    name = ""

    def open(self, data: bytes): ...
    def page(self, doc, i: int) -> str: ...
    def close(self, doc): ...


class Plumber(Path_):
    name = "pdfplumber (the reference)"

    def open(self, data):
        return pdfplumber.open(io.BytesIO(data))

    def page(self, doc, i):
        page = doc.pages[i]
        text = page.extract_text(x_tolerance_ratio=0.15) or ""
        page.close()
        return text

    def close(self, doc):
        doc.close()


class PlumberWords(Plumber):
    name = "pdfplumber extract_words"

    def page(self, doc, i):
        page = doc.pages[i]
        lines: dict[int, list[str]] = {}
        for w in page.extract_words(x_tolerance_ratio=0.15, use_text_flow=True):
            lines.setdefault(round(w["top"]), []).append(w["text"])
        page.close()
        return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


class PypdfLayout(Path_):
    name = "pypdf layout"

    def open(self, data):
        return PdfReader(io.BytesIO(data))

    def page(self, doc, i):
        text = doc.pages[i].extract_text(extraction_mode="layout", layout_mode_space_vertically=False) or ""
        return _SPACES.sub(" ", text)

    def close(self, doc):
        pass


class Pdfium(Path_):
    name = "pypdfium2 textpage"

    def open(self, data):
        return pdfium.PdfDocument(data)

    def page(self, doc, i):
        page = doc[i]
        tp = page.get_textpage()
        text = tp.get_text_range()
        tp.close()
        page.close()
        # \ufffe: a soft hyphen where PDFium joined a word broken across lines
        return text.replace("\ufffe", "").replace("\r\n", "\n").replace("\r", "\n")

    def close(self, doc):
        doc.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", default="/work/wt-bench9/bench/out/realdocs/raw")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    files = sorted(Path(args.raw).rglob("*.pdf"))[: args.limit or None]
    options = ExtractOptions()
    paths = [Plumber(), PypdfLayout(), PlumberWords(), Pdfium()]
    cpu = Counter()  # path name -> CPU-s on glued pages (incl. open)
    pypdf_cpu = whole_cpu = 0.0
    total_bytes = glued_bytes = n_pages = n_glued = files_glued = 0
    recall_num, recall_den, long_tok, all_tok, still_glued = Counter(), Counter(), Counter(), Counter(), Counter()
    line_num, line_den, missing = Counter(), Counter(), {p.name: Counter() for p in paths}
    for k, f in enumerate(files):
        data = f.read_bytes()
        total_bytes += len(data)
        # pypdf's pass over every page, which finds the glued ones
        t = time.process_time()
        reader = PdfReader(io.BytesIO(data))
        glued_pages = []
        for i, page in enumerate(reader.pages):
            try:
                text = page.extract_text() or ""
            except Exception:
                text = ""
            if glued(text):
                glued_pages.append(i)
        pypdf_cpu += time.process_time() - t
        n_pages += len(reader.pages)
        # the baseline: whole-file extraction today
        t = time.process_time()
        try:
            extract_pdf(data, options)
        except Exception as e:
            print(f"{f.name}: extract_pdf {type(e).__name__}: {e}", file=sys.stderr)
        whole_cpu += time.process_time() - t
        if not glued_pages:
            continue
        files_glued += 1
        glued_bytes += len(data)
        n_glued += len(glued_pages)
        texts: dict[str, list[str]] = {}
        for p in paths[k % len(paths):] + paths[: k % len(paths)]:  # rotate the order per file
            t = time.process_time()
            doc = p.open(data)
            out = []
            for i in glued_pages:
                try:
                    out.append(p.page(doc, i))
                except Exception as e:
                    out.append("")
                    print(f"{f.name} p{i}: {p.name} {type(e).__name__}: {e}", file=sys.stderr)
            p.close(doc)
            cpu[p.name] += time.process_time() - t
            texts[p.name] = out
        for p in paths:
            for ref, cand in zip(texts[Plumber.name], texts[p.name]):
                r, c = Counter(words(ref)), words(cand)
                missing[p.name].update(r - Counter(c))
                rl = Counter(lines_of(ref))
                line_num[p.name] += sum((rl & Counter(lines_of(cand))).values())
                line_den[p.name] += sum(rl.values())
                recall_num[p.name] += sum((r & Counter(c)).values())
                recall_den[p.name] += sum(r.values())
                long_tok[p.name] += sum(1 for w in c if sum(ch.isalpha() for ch in w) > 25)
                all_tok[p.name] += len(c)
                still_glued[p.name] += glued(cand)
        print(f"[{k + 1}/{len(files)}] {f.name}: {len(glued_pages)}/{len(reader.pages)} glued", file=sys.stderr)

    mb = total_bytes / 1e6
    print(f"\n{len(files)} PDFs, {mb:.1f} MB, {n_pages} pages; {files_glued} files ({glued_bytes / 1e6:.1f} MB) with "
          f"{n_glued} glued pages. pypdf plain on every page: {pypdf_cpu:.1f} CPU-s")
    print(f"whole-file extract_pdf today: {whole_cpu:.1f} CPU-s = {mb / whole_cpu:.2f} MB/CPU-s\n")
    print(f"{'path (glued pages)':26} {'pages':>6} {'CPU-s':>7} {'pages/CPU-s':>11} {'MB/CPU-s':>9} "
          f"{'word recall vs pdfplumber':>27} {'tokens >25 letters':>19} {'glued pages left':>17}")
    for p in paths:
        s = cpu[p.name]
        print(f"{p.name:26} {n_glued:>6} {s:>7.1f} {n_glued / max(s, 1e-9):>11.1f} {mb / (pypdf_cpu + s):>9.2f} "
              f"{recall_num[p.name]:>10}/{recall_den[p.name]:<8} {recall_num[p.name] / max(1, recall_den[p.name]):>6.1%} "
              f"{long_tok[p.name] / max(1, all_tok[p.name]):>19.2%} {still_glued[p.name]:>9}/{n_glued} {line_num[p.name] / max(1, line_den[p.name]):>11.1%}")
    for p in paths[1:]:
        print(f"{p.name}: pdfplumber words missing, most common: {missing[p.name].most_common(12)}")


if __name__ == "__main__":
    main()
