"""DOCX extraction speed on real manuals nobody here wrote, against baselines measured in the same run.

Documents: Debian bookworm documentation converted to DOCX by pandoc (Debian's, `apt-get install pandoc`):
  bashref           bash-doc's bashref.html, the Bash reference manual as one page (lists, code, few tables)
  debian-reference  debian-reference-en's 15 HTML chapters as one document (hundreds of tables, code blocks)
fetched with `apt-get download` and unpacked with `dpkg-deb -x` into bench/.cache/docx/ (kept out of git);
the DOCX files are written there once.

Rows, on the same bytes in one run, each the best of --repeat runs taken in turns, CPU time of this process
(one thread):
  lxml parse         unzip word/document.xml and parse it with lxml: the floor of any extractor that builds the
                     tree (libxml2's parse; the extractor's own work is the rest)
  open only          docx.Document(): python-docx unzipping and parsing the package, the floor of any extractor
                     that keeps python-docx for opening it
  python-docx text   docx.Document() + "\\n".join(p.text for p in document.paragraphs): python-docx's plain
                     paragraph loop (no tables, no styles), the library's own speed
  before (<rev>)     refinery/extract/word.py as committed at --before (default: main), loaded from git
  now                refinery.extract.word.extract_docx of this checkout
MB/s = DOCX bytes / CPU seconds. The "now" output is compared with the "before" output: the run says whether
they are identical (they must be, unless the change is meant to alter the text).

    python bench/docx_speed.py [--repeat 5] [--before main]
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.debian_docs import unpack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache" / "docx"
REF = "usr/share/debian-reference"
DOCS = {
    "bashref": ("bash-doc", ["usr/share/doc/bash/bashref.html"]),
    "debian-reference": ("debian-reference-en", [f"{REF}/{name}.en.html" for name in
                                                 ["index", "pr01", *(f"ch{i:02d}" for i in range(1, 13)), "apa"]]),
}


def build() -> dict[str, bytes]:
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n")
    out = {}
    for name, (pkg, pages) in DOCS.items():
        dst = CACHE / f"{name}.docx"
        if not dst.exists():
            root = unpack(pkg, CACHE)[0]
            src = [str(root / p) for p in pages]
            subprocess.run(["pandoc", "-f", "html", "-t", "docx", "-o", str(dst), *src], check=True,
                           cwd=Path(src[0]).parent, capture_output=True,
                           env={"SOURCE_DATE_EPOCH": "1767225600", "PATH": "/usr/bin:/bin"})
        out[name] = dst.read_bytes()
    return out


def load_rev(rev: str):
    """refinery/extract/word.py as committed at `rev`, as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:refinery/extract/word.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "word_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("word_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(rows: list, data: bytes, repeat: int) -> dict:
    """label -> (least CPU seconds, output); the rows take turns, so a burst of load on the shared machine
    hits them alike."""
    times, results = {label: [] for label, _ in rows}, {}
    for _ in range(repeat):
        for label, fn in rows:
            t = time.process_time()
            results[label] = fn(data)
            times[label].append(time.process_time() - t)
    return {label: (min(times[label]), results[label]) for label, _ in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", default="main")
    args = ap.parse_args()

    import io

    import docx
    from lxml import etree

    from refinery.extract import word
    from refinery.extract.options import ExtractOptions

    before = load_rev(args.before)
    options = ExtractOptions()
    def parse(b: bytes) -> str:
        with zipfile.ZipFile(io.BytesIO(b)) as z:
            etree.fromstring(z.read("word/document.xml"), word._PARSER)
        return ""

    rows = [
        ("lxml parse", parse),
        ("open only", lambda b: docx.Document(io.BytesIO(b)) and ""),
        ("python-docx text", lambda b: "\n".join(p.text for p in docx.Document(io.BytesIO(b)).paragraphs)),
        (f"before ({args.before})", lambda b: before.extract_docx(b, options).text),
        ("now", lambda b: word.extract_docx(b, options).text),
    ]
    docs = build()
    for name, data in docs.items():
        body = docx.Document(io.BytesIO(data)).element.body
        n_p = sum(1 for _ in body.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p"))
        n_t = sum(1 for _ in body.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tbl"))
        xml = len(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
        print(f"\n{name}: {len(data) / 1e6:.2f} MB DOCX ({xml / 1e6:.1f} MB document.xml), {n_p} paragraphs, "
              f"{n_t} tables")
        results = best(rows, data, args.repeat)
        for label, (secs, text) in results.items():
            print(f"  {label:22} {secs:6.2f} CPU-s  {len(data) / 1e6 / secs:5.2f} MB/s  {len(text):9,} chars")
        base, now = results[f"before ({args.before})"], results["now"]
        print(f"  now / before: x{base[0] / now[0]:.2f} speed; now / python-docx text: "
              f"x{results['python-docx text'][0] / now[0]:.2f}; output "
              f"{'IDENTICAL' if base[1] == now[1] else 'DIFFERS'} to before; now / lxml parse: "
              f"x{now[0] / results['lxml parse'][0]:.2f} the time")


if __name__ == "__main__":
    main()
