"""How faithfully HTML extraction keeps structure, per site, on the real-document benchmark's HTML pages.

    .venv/bin/python bench/html_fidelity.py [--raw bench/out/realdocs/raw] [--engine resiliparse] [--json]

Ground truth comes from the page source (lxml), never from the extractor:
- code blocks: a `<pre>` with at least two lines of more than 3 characters is kept when its first two
  lines are separate lines of the output (goal: >= 95% on every site);
- content tables: a `<table>` without nested tables (and not a Texinfo `index-*` table), with >= 2 rows and >= 2 columns and a header row
  (`<th>` cells or `<thead>`); kept when one output line holds every header cell between `|`, the next
  line is a Markdown rule and the line after holds the first data row's cells (goal: >= 90%);
- inline code: `<code>`/`<tt>`/`<kbd>` inside a `<p>`; kept inline when its text shares an output line with
  other words (goal: >= 95%);
- heading anchors: "¶" left in the output (goal: 0).
Only the code blocks, tables and inline code of text the extractor kept at all are scored (the main-content
pass dropping a navigation table is not a fidelity loss); `present` says how many that is.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from refinery.extract.base import ExtractionError  # noqa: E402
from refinery.extract.html import extract_html  # noqa: E402
from refinery.extract.options import ExtractOptions  # noqa: E402

SITES = ("debian-reference", "git", "gnuplot", "octave", "sqlite", "bash")
GOALS = {"code_blocks": 0.95, "tables": 0.90, "inline_code": 0.95}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def truth(data: bytes) -> dict:
    tree = lxml.html.document_fromstring(data)
    pres = []
    for pre in tree.iter("pre"):
        lines = [norm(line) for line in pre.text_content().splitlines()]
        lines = [line for line in lines if len(line) > 3]
        if len(lines) >= 2:
            pres.append(lines[:2])
    tables = []
    for table in tree.iter("table"):
        if table.xpath(".//table") or "index" in (table.get("class") or ""):
            continue  # layout tables; Texinfo's index tables are navigation (entry -> section links)
        rows = table.xpath(".//tr")
        if len(rows) < 2 or max(len(r.xpath("./td|./th")) for r in rows) < 2:
            continue
        head = table.xpath("./thead/tr") or [r for r in rows[:1] if r.xpath("./th")]
        if head:
            cells = [norm(c.text_content()) for c in head[0].xpath("./th|./td")]
            if sum(bool(c) for c in cells) >= 2:
                tables.append(([c for c in cells if c], _first_body_row(rows, head[0])))
    inline = []
    for code in tree.xpath("//p//code|//p//tt|//p//kbd"):
        text = norm(code.text_content())
        if 2 < len(text) < 40 and norm(code.getparent().text_content()) != text:
            inline.append(text)
    return {"code_blocks": pres, "tables": tables, "inline_code": inline}


def _first_body_row(rows, head) -> list[str]:
    for row in rows:
        if row is not head and not row.xpath("./th"):
            cells = [norm(c.text_content()) for c in row.xpath("./td")]
            return [c for c in cells if c and len(c) < 60]
    return []


def _cells(line: str) -> set[str]:
    """A Markdown row's cells (escaped pipes stay inside), compared on letters and digits only: the
    inline code and emphasis marks a cell gains are not a loss."""
    return {_key(part) for part in re.split(r"(?<!\\)\|", line)}


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text)


def score(text: str, page: dict, counts: dict) -> None:
    lines = [norm(line) for line in text.splitlines()]
    line_set = set(lines) | {line.strip("`").strip() for line in lines}  # a line may be inline code itself
    flat = norm(text)
    for key in GOALS:
        counts[key][2] += len(page[key])
    for first, second in page["code_blocks"]:
        if first in flat or second in flat:
            counts["code_blocks"][1] += 1
            counts["code_blocks"][0] += first in line_set and second in line_set
    raw_lines = text.splitlines()
    for cells, body in page["tables"]:
        if not all(c in flat for c in cells):
            continue
        counts["tables"][1] += 1
        counts["tables"][0] += any(  # many tables share a header row: any of them with this first row
            all(_key(c) in _cells(line) for c in cells) and re.match(r"^\s*\|?\s*:?-{3,}", raw_lines[i + 1])
            and all(_key(c) in _cells(raw_lines[i + 2]) for c in body) for i, line in enumerate(raw_lines[:-2]))
    for code in page["inline_code"]:
        hits = [line for line in raw_lines if code in line]
        if hits:
            counts["inline_code"][1] += 1
            counts["inline_code"][0] += any(norm(line.replace(code, "")).strip("`*().,;:") for line in hits)
    counts["pilcrows"][0] += text.count("¶")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", default="bench/out/realdocs/raw")
    parser.add_argument("--engine", help="extract.html_engine: trafilatura or resiliparse (default: the default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    options = ExtractOptions(html_engine=args.engine) if args.engine else ExtractOptions()
    per_site: dict[str, dict] = defaultdict(lambda: {k: [0, 0, 0] for k in (*GOALS, "pilcrows")})
    seconds, pages, size = 0.0, 0, 0
    for path in sorted(Path(args.raw).rglob("*.html")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        site = next((s for s in SITES if s in str(path)), "other")
        start = time.perf_counter()
        try:
            text = extract_html(data, options).text
        except ExtractionError:
            text = ""
        seconds += time.perf_counter() - start
        pages, size = pages + 1, size + len(data)
        score(text, truth(data), per_site[site])
    result = {"pages": pages, "mb_per_s": round(size / 1e6 / max(seconds, 1e-9), 2), "sites": per_site}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{pages} HTML pages, engine {options.html_engine}, extraction {result['mb_per_s']} MB/s")
    print("kept/present share of total: present = its text survived the main-content pass at all")
    print(f"{'site':<18}" + "".join(f"{k:>28}" for k in GOALS) + f"{'¶ left':>9}")
    unmet = []
    for site, counts in sorted(per_site.items()):
        cells = []
        for key, goal in GOALS.items():
            kept, present, total = counts[key]
            share = kept / present if present else 1.0
            unmet += [f"{site} {key}"] if share < goal else []
            cells.append(f"{kept}/{present} {100 * share:5.1f}% of {total}")
        print(f"{site:<18}" + "".join(f"{c:>28}" for c in cells) + f"{counts['pilcrows'][0]:>9}")
    print("goals met" if not unmet else f"goals unmet: {', '.join(unmet)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
