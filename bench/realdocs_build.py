"""Builds the real-document benchmark: Debian documentation packages (pages nobody here wrote) laid out as a
raw root of several drops in every format the corpus flow reads, plus `truth.json` with labels written by
this builder only (never tuned to the flow's output).

    .venv/bin/python bench/realdocs_build.py [--out bench/out/realdocs] [--size full|slice] [--cache DIR]

Packages are fetched with `apt-get download` + `dpkg-deb -x` into the cache (nothing is installed);
`pandoc` (from Debian, installed with apt-get when missing) converts HTML to DOCX/PPTX/Markdown/plain text.
Everything random uses SEED, so a rebuild gives the
same documents and truth. Ground truth (see RULES below, also written into truth.json):
  label: good | spam (synthetic, planted) | non_target_language (debian-reference translations)
         | empty_navigation (source has < NAV_WORDS words of running text outside code, navigation and diagrams)
  pairs: planted exact / near (word edits, with true Jaccard) / cross_format copies
  planted PII (kind, value), a census of PII-looking strings already in the real text, code lines per
  document, a planted boilerplate paragraph.
"""
from __future__ import annotations

import argparse
import copy
import io
import ipaddress
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/realdocs_build.py` from anywhere
from bench.debian_docs import unpack  # noqa: E402

SEED = 20260101
DROPS = {"full": ["2026-01-a", "2026-01-b", "2026-01-c"], "slice": ["2026-01-a", "2026-01-b"]}  # the flow's time is
DROP_WEIGHTS = {"full": [0.6, 0.3, 0.1], "slice": [0.65, 0.35]}  # mostly per drop: the test slice has two
NAV_WORDS = 40  # below this many words of running text (outside <pre>/code) a page is navigation, not content
REPO = Path(__file__).resolve().parent.parent
EPOCH = "1767225600"  # 2026-01-01: pandoc stamps DOCX/PPTX with SOURCE_DATE_EPOCH instead of "now"

# Package -> what it contributes. Kept apart for an independent evaluation and never used here:
# python3.*-doc, postgresql-doc-*, r-doc-*, manpages-de/-fr/-es.
# gnuplot's licence forbids distributing modified copies except as patches: full build only, never the
# committed slice (whose pages carry planted paragraphs and edits).
NOT_IN_SLICE = {"gnuplot-doc"}
PACKAGES = ["git-doc", "sqlite3-doc", "gnuplot-doc", "octave-doc", "bash-doc", "debian-reference-en",
            "debian-reference-fr", "debian-reference-de", "debian-reference-es", "debian-reference-it",
            "debian-reference-ja"]
NON_ENGLISH = ["fr", "de", "es", "it", "ja"]

# documents per kind; "slice" is the committed test subset (a few MB)
SIZES = {
    "full": dict(html=300, txt=110, md=80, docx=60, pptx=30, xlsx=30, jsonl_files=10, jsonl_records=10, pdf=100,
                 nt_html=40, nt_md=8, nt_docx=6, nt_txt=6, nt_jsonl_records=10, nt_pdf=12, spam=54,
                 exact=30, near=64, cross=24, pii_docs=110, boilerplate=60, pdf_pages=4),
    "slice": dict(html=22, txt=10, md=7, docx=5, pptx=3, xlsx=3, jsonl_files=2, jsonl_records=5, pdf=6,
                  nt_html=5, nt_md=2, nt_docx=1, nt_txt=2, nt_jsonl_records=3, nt_pdf=2, spam=12,
                  exact=5, near=10, cross=4, pii_docs=18, boilerplate=8, pdf_pages=2),
}
NEAR_RATES = [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1]  # edits per word; J >= 0.8 up to ~0.02-0.03

BOILERPLATE = ("CONFIDENTIALITY NOTICE: This document and any attachments are intended solely for the internal "
               "use of the documentation team. If you received it in error, please notify the sender and delete "
               "all copies. Any unauthorised review, distribution or copying is strictly prohibited.")

RULES = {
    "label": "good = real documentation page; spam = planted by this builder (synthetic: true); "
             "non_target_language = page of a non-English debian-reference translation; empty_navigation = a "
             f"real page whose source has fewer than {NAV_WORDS} words of running text outside code blocks, "
             "navigation and SVG diagrams (rule fixed before the flow was run; on 2026-12-02 navigation marked "
             "by class, e.g. SQLite's div.menu, and SVG labels were added to what is not running text, after "
             "SQLite syntax-diagram pages holding only the site menu had been labelled good); a DOCX/PPTX made "
             f"from a good page whose file holds fewer than {NAV_WORDS} words in all is empty_navigation too (added "
             "on 2026-12-02 after Octave's Concept Index as PPTX, 34 words of navigation, had been counted good)",
    "jaccard": "word 5-gram Jaccard on lower-cased whitespace-split words of the SOURCE text (txt/md/jsonl: the "
               "text itself; HTML: lxml text_content() of <body>); null for cross_format pairs (measured by "
               "bench/quality.py on the extracted text instead)",
    "code_lines": "stripped non-empty lines inside <pre> of the source HTML (also for the DOCX/PPTX/MD/JSONL made "
                  "from it); asciidoc .txt: lines of ----/.... delimited blocks and indented literal paragraphs; "
                  "null for PDF (unknown)",
    "real_pii": "census of emails/IPv4/IPv6 already in the real text. not_pii: RFC 2606/6761 names (example.*, "
                ".test/.invalid/.localhost/.example), RFC 5737/3849 documentation ranges, private/loopback/"
                "link-local/multicast/reserved addresses, IPv6 written with < 3 groups or only 1-digit groups, systemd "
                "unit names (x@daily.timer), placeholder names (foo, user, "
                "usuario, user@gmail.com, ...@host.dom/.ext/.domain...), "
                "version or section numbers (preceded by v/version/release/section, or IPv4-shaped with every "
                "part < 32); "
                "anything else = pii (author/translator addresses, mailing lists, message-ids, real hosts)",
    "clean": "no planted PII and no census value labelled pii",
}


# ---------------------------------------------------------------------------------------------- packages

def fetch(cache: Path) -> dict[str, dict]:
    """Each package's extracted tree, version and licence file; downloads are cached."""
    out = {}
    for pkg in PACKAGES:
        root, deb = unpack(pkg, cache)
        version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True,
                                 text=True).stdout.strip()
        copyright_file = root / "usr/share/doc" / pkg / "copyright"
        licences = sorted(set(re.findall(r"^License:\s*(\S.*)$", copyright_file.read_text(errors="replace"), re.M)))
        out[pkg] = {"root": root, "version": version, "copyright": copyright_file, "licences": licences,
                    "deb": deb.name}
    return out


# ---------------------------------------------------------------------------------------------- sources

@dataclass
class Doc:
    """One document to write. `text` is the source text Jaccard/census work on; `code` its code lines."""

    key: str                  # path relative to the raw root (the flow's document id for single-doc files)
    fmt: str
    data: bytes
    label: str
    package: str | None
    origin: str | None
    text: str
    code: list[str] | None
    meta: dict = field(default_factory=dict)


def html_tree(data: bytes):
    return lxml.html.document_fromstring(data)


def html_body_text(tree) -> str:
    body = tree.find("body")
    return (body if body is not None else tree).text_content()


def html_code(tree) -> list[str]:
    return [ln.strip() for pre in tree.iter("pre") for ln in pre.text_content().splitlines() if ln.strip()]


# Navigation a site marks by class or id instead of <nav> (SQLite's "menu mainmenu", "searchmenu"), and
# diagram labels drawn in <svg>: neither is running text.
_NAV_MARKED = ("//*[contains(concat(' ', normalize-space(@class), ' '), ' menu ') or contains(@class, 'mainmenu') "
               "or contains(@class, 'searchmenu') or contains(@class, 'breadcrumb') or @role='navigation']")


def html_running_words(tree) -> int:
    t = copy.deepcopy(tree)
    for bad in t.xpath(f"//pre|//script|//style|//nav|//head|//svg|{_NAV_MARKED}"):
        bad.drop_tree()
    return len(t.text_content().split())


_REDIRECT = re.compile(rb"http-equiv=.?refresh", re.I)
_LIST_ITEM = re.compile(r"^\s*([*.-]+|\d+\.|[a-zA-Z]\.)\s")
_DELIM = re.compile(r"^(-{4,}|\.{4,})\s*$")


def asciidoc_code(text: str) -> list[str]:
    """Lines of delimited listing/literal blocks and of indented literal paragraphs."""
    out, inside, para_literal = [], False, False
    prev_blank = True
    for line in text.splitlines():
        if _DELIM.match(line) and (prev_blank or inside):  # after a text line it underlines a heading
            inside = not inside
            continue
        if inside:
            if line.strip():
                out.append(line.strip())
            continue
        if not line.strip() or line.strip() in ("+", "--"):  # list continuation / open block: a new paragraph
            prev_blank, para_literal = True, False
            continue
        if prev_blank:  # an indented paragraph is literal, an indented list item is not
            para_literal = line[:1] in (" ", "\t") and not _LIST_ITEM.match(line)
        if para_literal:
            out.append(line.strip())
        prev_blank = False
    return out


def asciidoc_running_words(text: str, code: list[str]) -> int:
    return max(0, len(text.split()) - sum(len(c.split()) for c in code))


def ensure_pandoc() -> None:
    """pandoc comes from Debian (`apt-get install pandoc`); installed here when missing and we may."""
    if shutil.which("pandoc"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "pandoc"], check=True, capture_output=True)
    if not shutil.which("pandoc"):
        raise SystemExit("pandoc is needed to convert pages: sudo apt-get install pandoc")


def pandoc(data: bytes, to: str, cwd: Path | None = None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        src, dst = Path(tmp) / "in.html", Path(tmp) / f"out.{to}"
        src.write_bytes(data)
        target = {"md": "gfm", "txt": "plain"}.get(to, to)
        subprocess.run(["pandoc", "-f", "html", "-t", target, "--wrap=none", "-o", str(dst), str(src)],
                       check=True, capture_output=True, cwd=cwd or tmp, timeout=120,
                       env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
        return fixed_zip(dst.read_bytes()) if to in ("docx", "pptx") else dst.read_bytes()


def converted_words(payload: bytes, fmt: str) -> int:
    """Words in the text runs (`<w:t>`, `<a:t>`) of a DOCX/PPTX pandoc wrote: what the conversion kept of a
    page, navigation included. A run boundary inside a word counts it twice, never the other way round."""
    part, tag = (r"word/document\.xml$", b"w:t") if fmt == "docx" else (r"ppt/slides/slide\d+\.xml$", b"a:t")
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if re.search(part, n))
    runs = re.findall(rb"<" + tag + rb"(?:\s[^>]*)?>([^<]*)</" + tag + rb">", xml)
    return len(b" ".join(runs).decode("utf-8", "replace").split())


def fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated 2026-01-01, so DOCX/PPTX/XLSX bytes do not depend on the clock."""
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.external_attr, fixed.compress_type = info.external_attr, zipfile.ZIP_DEFLATED
            content = src.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", content)
            dst.writestr(fixed, content)
    return buf.getvalue()


def shingles(text: str, n: int = 5) -> frozenset:
    """Word n-grams of the lower-cased, whitespace-split text (the truth's Jaccard; bench/realdocs_metrics.py
    measures with the same), deliberately not the flow's own normalisation."""
    words = text.lower().split()
    return frozenset(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))) if words else frozenset()


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


# ---------------------------------------------------------------------------------------------- PII

FIRST = ["maria", "jonas", "aiko", "pedro", "fatima", "li", "olga", "samuel", "ines", "tomasz", "noor", "grace"]
LAST = ["koenig", "silva", "tanaka", "okafor", "haddad", "novak", "lindqvist", "moreau", "kowalski", "brennan"]
MAIL_DOMAINS = ["posteo.de", "gmx.net", "fastmail.com", "web.de", "protonmail.ch", "orange.fr", "libero.it",
                "yahoo.co.uk", "outlook.com", "mail.ru"]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:  # these get doubled once the check digit is appended
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return digits + str((10 - total % 10) % 10)


def fake_pii(kind: str, rng: random.Random) -> str:
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))
    if kind == "email":
        return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}@{rng.choice(MAIL_DOMAINS)}"
    if kind == "phone":
        return rng.choice([
            lambda: f"({rng.randint(201, 989)}) {rng.randint(201, 989)}-{d(4)}",            # US
            lambda: f"+1 {rng.randint(201, 989)}-{rng.randint(201, 989)}-{d(4)}",           # US intl
            lambda: f"+44 20 {rng.randint(3000, 8999)} {d(4)}",                             # UK
            lambda: f"+49 30 {d(4)} {d(4)}",                                                # DE
            lambda: f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",                                   # FR
            lambda: f"+91 {rng.randint(70000, 99999)} {d(5)}",                              # IN
            lambda: f"+81 3-{d(4)}-{d(4)}",                                                 # JP
            lambda: f"+61 2 {d(4)} {d(4)}",                                                 # AU
        ])()
    if kind == "ip_address":
        if rng.random() < 0.5:  # public unicast, outside every documentation/private range
            while True:
                ip = ipaddress.IPv4Address(rng.randint(int(ipaddress.IPv4Address("11.0.0.0")),
                                                      int(ipaddress.IPv4Address("223.255.255.255"))))
                if ip.is_global and not any(ip in ipaddress.IPv4Network(n) for n in DOC_NETS_V4):
                    return str(ip)
        return str(ipaddress.IPv6Address(int("2a02", 16) << 112 | rng.getrandbits(96) << 16 | rng.getrandbits(16)))
    if kind == "credit_card":
        card = rng.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)])
        num = luhn_complete(card[0], card[1], rng)
        sep = rng.choice([" ", "-"])
        groups = [num[:4], num[4:10], num[10:]] if card[1] == 15 else [num[i:i + 4] for i in range(0, 16, 4)]
        return sep.join(groups)
    if kind == "us_ssn":
        area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])  # 000, 666 and 9xx are never issued
        return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    raise ValueError(kind)


PII_SENTENCES = {
    "email": ["For questions about this section, write to {name} at {v} before the next release.",
              "Corrections to this page were sent by {name} ({v}) last spring."],
    "phone": ["The on-call maintainer, {name}, can be reached on {v} during office hours.",
              "To report an outage, call {name} at {v} and leave a short message."],
    "ip_address": ["The staging mirror for this manual runs on the host at {v} and is refreshed nightly.",
                   "Requests from {v} were blocked after the build server was misused."],
    "credit_card": ["The licence for this workstation was paid with card {v} by {name}.",
                    "Please refund the duplicate charge on card number {v} to {name}."],
    "us_ssn": ["The payroll record for {name} lists the social security number {v} in full.",
               "{name} gave {v} as the SSN on the contractor form for this project."],
}
PII_KINDS = list(PII_SENTENCES)


# real-text census (see RULES["real_pii"])
DOC_NETS_V4 = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]
DOC_NET_V6 = ipaddress.IPv6Network("2001:db8::/32")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
PLACEHOLDER = re.compile(r"^(foo|bar|baz|qux|you|your|yourname|user|username|usuario|utente|benutzername|"
                         r"loginname|login|name|someone|somebody|me|my|joe|jane|john|alice|bob|author|nobody|"
                         r"host|hostname|remotehost|domain|yourdomain|mydomain|company|example|email|address|"
                         r"xxx)(\.|$)", re.I)
DOC_TLDS = (".example", ".test", ".invalid", ".localhost", ".local", ".localdomain", ".dom", ".ext", ".domain",
            ".host", ".xx", ".address")
SYSTEMD_UNITS = {"service", "timer", "socket", "target", "mount", "path", "slice", "scope", "device", "swap"}
DOC_DOMAINS = re.compile(r"(^|\.)example\.(com|org|net|edu)$|^localhost$", re.I)


def census(text: str) -> list[dict]:
    found = []
    for m in _EMAIL.finditer(text):
        v = m.group().rstrip(".")
        local, _, domain = v.partition("@")
        not_pii = (DOC_DOMAINS.search(domain) or domain.lower().endswith(DOC_TLDS)
                   or PLACEHOLDER.match(local) or PLACEHOLDER.match(domain)
                   or domain.lower().rsplit(".", 1)[-1] in SYSTEMD_UNITS)  # git-maintenance@daily.timer
        found.append({"kind": "email", "value": v, "label": "not_pii" if not_pii else "pii"})
    for m in _IPV4.finditer(text):
        v = m.group()
        try:
            ip = ipaddress.IPv4Address(v)
        except ValueError:
            continue
        before = text[max(0, m.start() - 12):m.start()].lower()
        versiony = re.search(r"(\bv|version|release|section|chapter|§)\s*$", before)
        doc = any(ip in ipaddress.IPv4Network(n) for n in DOC_NETS_V4)
        numbery = all(int(x) < 32 for x in v.split("."))  # 3.5.8.1: a section or version number
        not_pii = doc or not ip.is_global or ip.is_multicast or versiony or numbery
        found.append({"kind": "ip_address", "value": v, "label": "not_pii" if not_pii else "pii"})
    for m in _IPV6.finditer(text):
        v = m.group()
        if v.count(":") < 2 or not any(c.isdigit() for c in v):
            continue
        try:
            ip = ipaddress.IPv6Address(v)
        except ValueError:
            continue
        groups = [g for g in v.split(":") if g]
        # "4::", "fd::7": scope operators; "::3:0:7:4": gnuplot's `every` ranges - not addresses
        short = len(groups) < 3 or all(len(g) == 1 for g in groups)
        not_pii = ip in DOC_NET_V6 or not ip.is_global or ip.is_multicast or short
        found.append({"kind": "ip_address", "value": v, "label": "not_pii" if not_pii else "pii"})
    uniq = {(f["kind"], f["value"]): f for f in found}
    return list(uniq.values())


# ---------------------------------------------------------------------------------------------- edits

def insert_html_paragraphs(data: bytes, paragraphs: list[str], rng: random.Random) -> bytes:
    """The page with each paragraph added after a random existing <p> (outside <pre>), or at body end."""
    tree = html_tree(data)
    anchors = [p for p in tree.iter("p") if not p.xpath("ancestor::pre")]
    body = tree.find("body")
    for text in paragraphs:
        new = lxml.html.Element("p")
        new.text = text
        if anchors:
            rng.choice(anchors).addnext(new)
        elif body is not None:
            body.append(new)
    return serialize(tree)


def serialize(tree) -> bytes:
    doctype = tree.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    html = lxml.html.tostring(tree, encoding="unicode", doctype=doctype)
    if "charset" not in html[:2000].lower():  # we write UTF-8: say so, whatever the original declared
        html = html.replace("<head>", '<head><meta charset="utf-8">', 1)
    else:
        html = re.sub(r"charset=[\"']?[\w-]+", "charset=utf-8", html, count=1)
    return html.encode("utf-8")


def _fence_balanced(lines: list[str]) -> bool:
    return sum(1 for ln in lines if _DELIM.match(ln) or ln.startswith("```")) % 2 == 0


def _inside_block(lines: list[str], i: int) -> bool:
    """Line i is inside a delimited block, by asciidoc_code's rule: a ----/.... line opens a block only after a
    blank line (after a text line it underlines a heading), and ``` fences."""
    inside, prev_blank = None, True
    for line in lines[:i]:
        if inside:
            if line.strip() == inside:
                inside = None
        elif (_DELIM.match(line) and prev_blank) or line.startswith("```"):
            inside = line.strip() if not line.startswith("```") else line.strip()[:3]
        prev_blank = not line.strip()
    return inside is not None


def insert_text_paragraphs(text: str, paragraphs: list[str], rng: random.Random) -> str:
    """Add each paragraph at a blank-line boundary that is not inside a code block. The spots are drawn as
    before 2026-12-02 (a count of delimiter lines, which heading underlines fool); a draw that lands inside a
    listing block by asciidoc_code's rule moves to the next spot outside it, so the other draws stay as they were
    (urls-remotes.txt had the confidentiality notice planted inside its ------------ example)."""
    lines = text.split("\n")
    for para in paragraphs:
        spots = [i for i in range(1, len(lines)) if not lines[i - 1].strip() and _fence_balanced(lines[:i])
                 and not (lines[i][:1] in (" ", "\t"))]
        i = rng.choice(spots) if spots else len(lines)
        while i < len(lines) and (_inside_block(lines, i) or lines[i - 1].strip() or lines[i][:1] in (" ", "\t")):
            i += 1
        lines[i:i] = [para, ""]
    return "\n".join(lines)


def edit_words(words: list[str], rate: float, rng: random.Random, vocab: list[str]) -> list[str]:
    """Substitutions, deletions and insertions at `rate` edits per word."""
    words = list(words)
    for _ in range(max(1, round(rate * len(words)))):
        op, i = rng.random(), rng.randrange(len(words))
        if op < 0.4:
            words[i] = rng.choice(vocab)
        elif op < 0.7 and len(words) > 10:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return words


def near_copy_text(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """Edits applied line by line (so line structure survives), then one paragraph moved."""
    lines = text.split("\n")
    idx = [i for i, ln in enumerate(lines) if ln.split()]
    n_words = sum(len(lines[i].split()) for i in idx)
    budget = max(1, round(rate * n_words))
    for _ in range(budget):
        i = rng.choice(idx)
        lines[i] = " ".join(edit_words(lines[i].split(), 1 / max(1, len(lines[i].split())), rng, vocab))
    paras = "\n".join(lines).split("\n\n")
    if len(paras) > 3 and rate >= 0.02:
        p = paras.pop(rng.randrange(1, len(paras)))
        paras.insert(rng.randrange(1, len(paras)), p)
    return "\n\n".join(paras)


def near_copy_html(data: bytes, rate: float, rng: random.Random, vocab: list[str]) -> bytes:
    """Word edits in text nodes outside <pre>/<script>/<style>, then two <p> swapped."""
    tree = html_tree(data)
    body = tree.find("body") if tree.find("body") is not None else tree
    slots = []
    for el in body.iter():
        if not isinstance(el.tag, str) or el.xpath("ancestor-or-self::*[self::pre or self::script or self::style]"):
            continue
        if el.text and el.text.split():
            slots.append((el, "text"))
        if el.tail and el.tail.split():
            slots.append((el, "tail"))
    n_words = sum(len(getattr(e, a).split()) for e, a in slots)
    for _ in range(max(1, round(rate * n_words))):
        el, attr = rng.choice(slots)
        words = getattr(el, attr).split()
        setattr(el, attr, " " + " ".join(edit_words(words, 1 / max(1, len(words)), rng, vocab)) + " ")
    ps = [p for p in body.iter("p")]
    if len(ps) > 3 and rate >= 0.02:
        a, b = rng.sample(ps, 2)
        ta, tb = copy.deepcopy(a), copy.deepcopy(b)
        ta.tail, tb.tail = b.tail, a.tail
        a.getparent().replace(a, tb)
        b.getparent().replace(b, ta)
    return serialize(tree)


# ---------------------------------------------------------------------------------------------- spam

SPAM_KEYWORDS = ["cheap replica watches", "casino bonus", "payday loans", "buy followers", "weight loss pills",
                 "crypto signals", "cheap flights", "essay writing service", "seo backlinks", "forex robot"]


def spam_text(kind: str, rng: random.Random, vocab: list[str]) -> str:
    kw = rng.sample(SPAM_KEYWORDS, 3)
    if kind == "keyword_stuffing":
        parts = []
        for _ in range(rng.randint(25, 45)):
            k = rng.choice(kw)
            parts.append(rng.choice([f"Best {k} online.", f"Buy {k} now, {k} discount, {k} free shipping!",
                                     f"Top rated {k} {k} {k} deals today.", f"{k.title()} cheap {k} near me."]))
        return "\n\n".join(" ".join(parts[i:i + 5]) for i in range(0, len(parts), 5))
    if kind == "link_farm":
        lines = [f"{rng.choice(kw).title()} - http://{rng.choice(kw).replace(' ', '-')}-{rng.randint(1, 999)}.biz/"
                 f"{rng.choice(['best', 'top', 'deal', 'free'])}" for _ in range(rng.randint(40, 70))]
        return "Partner links\n\n" + "\n".join(lines)
    if kind == "word_salad":  # real words from the corpus in random order: hardest for quality filters
        sents = []
        for _ in range(rng.randint(25, 45)):
            words = [rng.choice(vocab) for _ in range(rng.randint(8, 18))]
            sents.append(" ".join(words).capitalize() + rng.choice([".", ".", "?", "!"]))
        return "\n\n".join(" ".join(sents[i:i + 4]) for i in range(0, len(sents), 4))
    if kind == "repeated_ads":
        ad = (f"LIMITED OFFER: {kw[0]} with 90% off! Click here to claim your {kw[1]} today. "
              f"Call now, operators are waiting. Visit our shop for {kw[2]}.")
        return "\n\n".join([ad] * rng.randint(20, 40))
    raise ValueError(kind)


SPAM_KINDS = ["keyword_stuffing", "link_farm", "word_salad", "repeated_ads"]


def spam_html(text: str, kind: str, rng: random.Random) -> bytes:
    title = rng.choice(SPAM_KEYWORDS).title()
    if kind == "link_farm":
        items = "".join(f'<li><a href="{ln.split(" - ")[-1]}">{ln.split(" - ")[0]}</a></li>'
                        for ln in text.split("\n") if " - " in ln)
        body = f"<h1>{title}</h1><ul>{items}</ul>"
    else:
        body = f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    head = f'<head><meta charset="utf-8"><title>{title}</title></head>'
    return f"<!DOCTYPE html><html>{head}<body>{body}</body></html>".encode()


def text_pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for para in text.split("\n\n"):
        pdf.multi_cell(0, 6, para.encode("latin-1", "replace").decode("latin-1"))
        pdf.ln(3)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------- builder

class Builder:
    def __init__(self, pkgs: dict, size: str):
        self.pkgs, self.size, self.n = pkgs, size, SIZES[size]
        self.rng = random.Random(SEED)
        self.drops = DROPS[size]
        self.docs: list[Doc] = []
        self.pairs: list[dict] = []
        self.used: set[str] = set()

    # ---- source pools
    def pool(self, pkg: str, pattern: str) -> list[Path]:
        root = self.pkgs[pkg]["root"]
        files = sorted(p for p in root.glob(pattern) if p.is_file() and not p.is_symlink())
        if pattern.endswith(".html"):  # redirect stubs (2,300 of octave's pages) are not documents at all
            files = [p for p in files if not _REDIRECT.search(p.read_bytes()[:3000])]
        if self.size == "slice":  # small pages keep the committed slice small
            limit = 90_000 if pkg.startswith("debian-reference") else 40_000
            files = [p for p in files if p.stat().st_size < limit]
        return files

    def take(self, pool: list[Path], k: int, pkg: str, min_words: int = 0) -> list[Path]:
        """k unused pages of `pool`, chosen at random; `min_words` skips pages too short for a copy."""
        order = list(pool)
        self.rng.shuffle(order)
        out = []
        for p in order:
            rel = f"{pkg}:{p.relative_to(self.pkgs[pkg]['root'])}"
            if rel in self.used:
                continue
            if min_words:
                tree = html_tree(p.read_bytes()) if p.suffix == ".html" else None
                words = html_running_words(tree) if tree is not None else len(p.read_text(errors="replace").split())
                if words < min_words:
                    continue
            self.used.add(rel)
            out.append(p)
            if len(out) == k:
                break
        return out

    def drop(self) -> str:
        return self.rng.choices(self.drops, DROP_WEIGHTS[self.size])[0]

    def later_drop(self, key: str) -> str:
        """The drop of `key` or a later one: a copy must never precede its original across drops."""
        return self.drops[self.rng.randrange(self.drops.index(key.split("/")[0]), len(self.drops))]

    def key(self, drop: str, pkg: str, path: Path, ext: str) -> str:
        rel = path.relative_to(self.pkgs[pkg]["root"] / "usr/share/doc") if "usr/share/doc" in str(path) else \
            path.relative_to(self.pkgs[pkg]["root"] / "usr/share")
        rel = re.sub(r"[^\w./-]", "_", str(rel))
        return f"{drop}/{rel.rsplit('.', 1)[0]}.{ext}"

    def origin(self, pkg: str, path: Path) -> str:
        return str(path.relative_to(self.pkgs[pkg]["root"]))

    # ---- documents
    def html_doc(self, pkg: str, path: Path, fmt: str, label: str) -> Doc:
        data = path.read_bytes()
        tree = html_tree(data)
        text, code = html_body_text(tree), html_code(tree)
        if label == "good" and html_running_words(tree) < NAV_WORDS:
            label = "empty_navigation"
        doc = Doc(self.key(self.drop(), pkg, path, fmt), fmt, data, label, pkg, self.origin(pkg, path), text, code)
        doc.meta["html"] = True  # converted at write time, after PII/boilerplate went into the HTML
        self.docs.append(doc)
        return doc

    def build(self):
        n, rng = self.n, self.rng
        html_pools = {
            "sqlite3-doc": self.pool("sqlite3-doc", "usr/share/doc/sqlite3/**/*.html"),
            "octave-doc": self.pool("octave-doc", "usr/share/doc/octave/octave.html/*.html"),
            "gnuplot-doc": self.pool("gnuplot-doc", "usr/share/doc/gnuplot/htmldocs/*.html"),
            "git-doc": self.pool("git-doc", "usr/share/doc/git-doc/**/*.html"),
        }
        share = {"sqlite3-doc": 0.3, "octave-doc": 0.3, "gnuplot-doc": 0.2, "git-doc": 0.2}
        if self.size == "slice":
            share = {"sqlite3-doc": 0.4, "octave-doc": 0.3, "git-doc": 0.3}

        def spread(total):
            return {pkg: max(1, round(total * s)) for pkg, s in share.items()}

        # HTML natives, and DOCX/PPTX/MD made from other (unused) pages
        for fmt, total in (("html", n["html"]), ("docx", n["docx"]), ("pptx", n["pptx"]), ("md", n["md"])):
            for pkg, k in spread(total).items():
                for p in self.take(html_pools[pkg], k, pkg, min_words=80 if fmt == "pptx" else 0):
                    self.html_doc(pkg, p, fmt, "good")
        # plain text: git's asciidoc sources whose HTML page is not used as a document
        git_root = self.pkgs["git-doc"]["root"]
        txt_pool = [p for p in self.pool("git-doc", "usr/share/doc/git-doc/**/*.txt")
                    if f"git-doc:{p.with_suffix('.html').relative_to(git_root)}" not in self.used]
        for p in self.take(txt_pool, n["txt"], "git-doc"):
            self.used.add(f"git-doc:{p.with_suffix('.html').relative_to(git_root)}")
            text = p.read_text(errors="replace")
            code = asciidoc_code(text)
            label = "good" if asciidoc_running_words(text, code) >= NAV_WORDS else "empty_navigation"
            self.docs.append(Doc(self.key(self.drop(), "git-doc", p, "txt"), "text", text.encode(), label,
                                 "git-doc", self.origin("git-doc", p), text, code))
        # XLSX: the tables of pages that have some
        xlsx_pool = []
        for pkg in [p for p in ("sqlite3-doc", "octave-doc", "gnuplot-doc") if p in share]:
            xlsx_pool += [(pkg, p) for p in html_pools[pkg] if b"<table" in p.read_bytes()[:400_000]]
        rng.shuffle(xlsx_pool)
        made = 0
        for pkg, p in xlsx_pool:
            if made == n["xlsx"] or f"{pkg}:{p.relative_to(self.pkgs[pkg]['root'])}" in self.used:
                continue
            book = self.xlsx_from_html(p.read_bytes())
            if book is None:
                continue
            self.used.add(f"{pkg}:{p.relative_to(self.pkgs[pkg]['root'])}")
            data, text = book
            self.docs.append(Doc(self.key(self.drop(), pkg, p, "xlsx"), "xlsx", data, "good", pkg,
                                 self.origin(pkg, p), text, []))
            made += 1
        # JSONL: each record the plain text of one page
        for f in range(n["jsonl_files"]):
            pkg = list(share)[f % len(share)]
            pages = self.take(html_pools[pkg], n["jsonl_records"], pkg)
            recs = []
            for p in pages:
                tree = html_tree(p.read_bytes())
                label = "good" if html_running_words(tree) >= NAV_WORDS else "empty_navigation"
                recs.append({"data": p.read_bytes(), "label": label, "origin": self.origin(pkg, p),
                             "code": html_code(tree), "package": pkg})
            drop = self.drop()
            self.docs.append(Doc(f"{drop}/dumps/{pkg.split('-')[0]}-pages-{f:02d}.jsonl", "jsonl", b"", "multi", pkg,
                                 None, "", None, {"records": recs}))
        # PDF: page ranges of the manuals (bash, liboctave, debian-reference-en), body pages only
        pdfs = [("bash-doc", "usr/share/doc/bash/bashref.pdf"), ("bash-doc", "usr/share/doc/bash/bash.pdf"),
                ("octave-doc", "usr/share/doc/octave/liboctave.pdf"),
                ("debian-reference-en", "usr/share/debian-reference/debian-reference.en.pdf")]
        self.pdf_ranges(pdfs, n["pdf"], "good")
        # non-target language: debian-reference translations
        nt_pages = []
        for lang in NON_ENGLISH:
            pkg = f"debian-reference-{lang}"
            nt_pages += [(pkg, p) for p in self.pool(pkg, f"usr/share/debian-reference/*.{lang}.html")]
        rng.shuffle(nt_pages)
        nt_iter = iter(nt_pages)
        for fmt, k in (("html", n["nt_html"]), ("md", n["nt_md"]), ("docx", n["nt_docx"]), ("txt", n["nt_txt"])):
            for _ in range(k):
                pkg, p = next(nt_iter, (None, None))
                if p is None:  # 15 pages per translation: the JSONL records get what is left
                    break
                self.used.add(f"{pkg}:{p.relative_to(self.pkgs[pkg]['root'])}")
                self.html_doc(pkg, p, fmt, "non_target_language")
        recs = []
        for _ in range(n["nt_jsonl_records"]):
            pkg, p = next(nt_iter, (None, None))
            if p is None:
                break
            recs.append({"data": p.read_bytes(), "label": "non_target_language", "origin": self.origin(pkg, p),
                         "code": html_code(html_tree(p.read_bytes())), "package": pkg})
        if recs:
            self.docs.append(Doc(f"{self.drop()}/dumps/debian-reference-translations.jsonl", "jsonl", b"", "multi",
                                 None, None, "", None, {"records": recs}))
        self.pdf_ranges([(f"debian-reference-{lang}", f"usr/share/debian-reference/debian-reference.{lang}.pdf")
                         for lang in ("fr", "de", "es")], n["nt_pdf"], "non_target_language")
        self.expand_jsonl()
        self.plant_boilerplate()
        self.plant_pii()
        self.plant_spam()
        self.plant_duplicates()

    def xlsx_from_html(self, data: bytes) -> tuple[bytes, str] | None:
        import openpyxl

        tree = html_tree(data)
        tables = []
        for t in tree.iter("table"):
            if t.xpath(".//table"):
                continue  # layout tables around tables
            rows = [[" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")] for tr in t.xpath(".//tr")]
            rows = [r for r in rows if any(r)]
            if len(rows) >= 3 and max(len(r) for r in rows) >= 2:
                tables.append(rows)
        if not tables:
            return None
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for i, rows in enumerate(tables[:8]):
            ws = wb.create_sheet(f"Table {i + 1}")
            for r in rows:
                ws.append(r)
        wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
        buf = io.BytesIO()
        wb.save(buf)
        return fixed_zip(buf.getvalue()), "\n".join(" ".join(r) for t in tables[:8] for r in t)

    def pdf_ranges(self, pdfs: list[tuple[str, str]], total: int, label: str):
        from pypdf import PdfReader, PdfWriter

        per = self.n["pdf_pages"]
        readers = [(pkg, self.pkgs[pkg]["root"] / path, PdfReader(self.pkgs[pkg]["root"] / path)) for pkg, path in pdfs]
        made = attempts = 0
        while made < total and attempts < total * 20:
            pkg, path, reader = readers[attempts % len(readers)]
            attempts += 1
            pages = len(reader.pages)
            # body only: skip front matter (title, contents) and back matter (indexes)
            lo, hi = int(pages * 0.08), int(pages * 0.85) - per
            start = lo + self.rng.randrange(max(1, (hi - lo) // per)) * per
            rel = f"{pkg}:{path.relative_to(self.pkgs[pkg]['root'])}#{start}"
            if rel in self.used:
                continue
            self.used.add(rel)
            w = PdfWriter()
            for pg in reader.pages[start:start + per]:
                w.add_page(pg)
            w.add_metadata({"/Producer": "realdocs_build", "/CreationDate": "D:20260101000000Z"})
            buf = io.BytesIO()
            w.write(buf)
            text = "\n".join(pg.extract_text() or "" for pg in reader.pages[start:start + per])
            name = f"{self.drop()}/manuals/{path.stem}-p{start + 1:03d}-{start + per:03d}.pdf"
            words = len(text.split())
            lab = label if words >= NAV_WORDS else "empty_navigation"
            self.docs.append(Doc(name, "pdf", buf.getvalue(), lab, pkg, f"{self.origin(pkg, path)} pages "
                                 f"{start + 1}-{start + per}", text, None))
            made += 1

    def expand_jsonl(self):
        """JSONL files become one Doc per record (id `<key>#<line>`), converted to plain text now."""
        out = []
        for d in self.docs:
            if d.fmt != "jsonl":
                out.append(d)
                continue
            for line, r in enumerate(d.meta["records"], 1):
                text = pandoc(r["data"], "txt").decode()
                out.append(Doc(f"{d.key}#{line}", "jsonl", b"", r["label"], r["package"], r["origin"], text,
                               r["code"], {"jsonl_file": d.key}))
        self.docs = out

    def good(self, fmts=("html", "text", "md", "docx", "jsonl", "pptx")) -> list[Doc]:
        return [d for d in self.docs if d.label == "good" and d.fmt in fmts and not d.meta.get("synthetic")]

    def add_paragraphs(self, d: Doc, paragraphs: list[str]):
        d.meta.setdefault("insert", []).extend(paragraphs)

    def plant_boilerplate(self):
        for d in self.rng.sample(self.good(("html", "text", "md", "docx", "jsonl")), self.n["boilerplate"]):
            self.add_paragraphs(d, [BOILERPLATE])
            d.meta["boilerplate"] = True

    def plant_pii(self):
        kinds = PII_KINDS * (3 * self.n["pii_docs"] // len(PII_KINDS) + 1)
        for i, d in enumerate(self.rng.sample(self.good(("html", "text", "md", "docx", "jsonl")), self.n["pii_docs"])):
            planted = []
            for kind in [kinds[i * 2], kinds[i * 2 + 1]][: 1 + i % 2]:
                v = fake_pii(kind, self.rng)
                name = f"{self.rng.choice(FIRST).title()} {self.rng.choice(LAST).title()}"
                planted.append({"kind": kind, "value": v})
                self.add_paragraphs(d, [self.rng.choice(PII_SENTENCES[kind]).format(v=v, name=name)])
            d.meta["pii"] = planted

    def plant_spam(self):
        vocab = sorted({w for d in self.good() for w in d.text.split() if w.isalpha() and 3 < len(w) < 12})
        fmts = ["html", "html", "text", "md", "jsonl", "docx", "pdf", "pptx"]
        for i in range(self.n["spam"]):
            kind, fmt = SPAM_KINDS[i % 4], fmts[i % len(fmts)]
            text = spam_text(kind, self.rng, vocab)
            drop = self.drop()
            stem = f"{drop}/web/{kind.replace('_', '-')}-{i:03d}"
            meta = {"synthetic": True, "spam_kind": kind}
            if fmt in ("html", "docx", "pptx"):
                html = spam_html(text, kind, self.rng)
                d = Doc(f"{stem}.{fmt}", fmt, html, "spam", None, None, text, [], meta | {"html": True})
            elif fmt == "pdf":
                d = Doc(f"{stem}.pdf", "pdf", text_pdf(text), "spam", None, None, text, [], meta)
            elif fmt == "jsonl":
                d = Doc(f"{drop}/dumps/web-spam.jsonl#spam{i}", "jsonl", b"", "spam", None, None, text, [],
                        meta | {"jsonl_file": f"{drop}/dumps/web-spam.jsonl"})
            else:
                ext = "txt" if fmt == "text" else "md"
                d = Doc(f"{stem}.{ext}", fmt, text.encode(), "spam", None, None, text, [], meta)
            self.docs.append(d)

    def plant_duplicates(self):
        rng = self.rng
        singles = [d for d in self.docs if d.label == "good" and d.fmt in ("html", "text", "md", "pdf", "docx")]
        # exact: the same bytes under another name, in the same drop or a later one
        for d in rng.sample(singles, self.n["exact"]):
            later = self.later_drop(d.key)
            copy_key = f"{later}/mirror/{d.key.split('/', 1)[1]}"
            c = Doc(copy_key, d.fmt, d.data, d.label, d.package, d.origin, d.text, d.code,
                    {k: v for k, v in d.meta.items()} | {"copy_of": d.key})
            self.docs.append(c)
            self.pairs.append({"original": d.key, "duplicate": c.key, "kind": "exact", "jaccard": 1.0})
        # near: word edits at several rates on text, markdown and HTML pages (the copy keeps planted extras)
        cands = [d for d in self.docs if d.label == "good" and d.fmt in ("html", "text", "md")
                 and "copy_of" not in d.meta and len(d.text.split()) >= 150]
        for i, d in enumerate(rng.sample(cands, self.n["near"])):
            rate = NEAR_RATES[i % len(NEAR_RATES)]
            later = self.later_drop(d.key)
            key = f"{later}/edited/{d.key.split('/', 1)[1]}"
            meta = {k: v for k, v in d.meta.items() if k != "insert"} | {"copy_of": d.key, "edit_rate": rate}
            self.docs.append(Doc(key, d.fmt, b"", d.label, d.package, d.origin, "", d.code, meta))
            self.pairs.append({"original": d.key, "duplicate": key, "kind": "near", "jaccard": None, "edit_rate": rate})
        # cross-format: a page kept as HTML also appears as DOCX or Markdown
        cands = [d for d in self.docs if d.label == "good" and d.fmt == "html" and "copy_of" not in d.meta
                 and len(d.text.split()) >= 150]
        for i, d in enumerate(rng.sample(cands, self.n["cross"])):
            fmt = ["docx", "md", "pptx"][i % 3] if i % 3 != 2 or len(d.text.split()) > 300 else "docx"
            later = self.later_drop(d.key)
            key = f"{later}/converted/{d.key.split('/', 1)[1].rsplit('.', 1)[0]}.{fmt}"
            # made at write time from the original as written (with its planted paragraphs)
            meta = {k: v for k, v in d.meta.items() if k != "insert"} | {"copy_of": d.key, "html": True}
            self.docs.append(Doc(key, fmt, b"", d.label, d.package, d.origin, d.text, d.code, meta))
            self.pairs.append({"original": d.key, "duplicate": key, "kind": "cross_format", "jaccard": None})

    # ---- output
    def write(self, out: Path):
        raw = out / "raw"
        shutil.rmtree(raw, ignore_errors=True)
        by_key = {d.key: d for d in self.docs}
        vocab = sorted({w for d in self.good() for w in d.text.split() if w.isalpha() and 3 < len(w) < 12})
        final_html: dict[str, bytes] = {}
        final_text: dict[str, str] = {}
        jsonl: dict[str, list[str]] = {}
        payloads: dict[str, bytes] = {}
        # originals first (copies are made from what the original became)
        for d in sorted(self.docs, key=lambda d: "copy_of" in d.meta):
            src = by_key.get(d.meta.get("copy_of", ""))
            edit = d.meta.get("edit_rate")
            inserts = d.meta.get("insert", [])
            if src is not None and edit is None and src.fmt == d.fmt:  # exact copy: the same bytes
                payload, d.text = payloads[src.key], src.text
            elif d.meta.get("html"):
                if src is not None:
                    data = near_copy_html(final_html[src.key], edit, self.rng, vocab) if edit else final_html[src.key]
                else:
                    data = insert_html_paragraphs(d.data, inserts, self.rng) if inserts else d.data
                final_html[d.key] = data
                d.text = html_body_text(html_tree(data))
                payload = data if d.fmt == "html" else pandoc(data, d.fmt)
                if d.fmt in ("md", "txt"):
                    d.text = payload.decode()
            elif d.fmt in ("text", "md", "jsonl"):
                if src is not None:
                    text = near_copy_text(final_text[src.key], edit, self.rng, vocab)
                else:
                    text = insert_text_paragraphs(d.text, inserts, self.rng) if inserts else d.text
                d.text = final_text[d.key] = text
                payload = text.encode()
            else:  # pdf, xlsx: written as made
                payload = d.data
            if d.fmt in ("docx", "pptx") and d.label == "good" and converted_words(payload, d.fmt) < NAV_WORDS:
                d.label = "empty_navigation"  # pandoc carried nothing of the page over (see RULES)
            payloads[d.key] = payload
            if d.fmt == "jsonl":
                jsonl.setdefault(d.meta["jsonl_file"], []).append(json.dumps({"text": d.text}, ensure_ascii=False))
                continue
            path = raw / d.key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        # JSONL files: ids become <key>#<line> (1-based line numbers)
        order = sorted(self.docs, key=lambda d: "copy_of" in d.meta)  # the order lines were appended in
        for key, lines in jsonl.items():
            path = raw / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
            for line, d in enumerate([d for d in order if d.meta.get("jsonl_file") == key], 1):
                d.key = f"{key}#{line}"
        texts = {d.key: d.text for d in self.docs}
        for p in self.pairs:
            if p["kind"] == "near":
                p["jaccard"] = round(jaccard(shingles(texts[p["original"]]), shingles(texts[p["duplicate"]])), 4)
        self.write_truth(out)

    def write_truth(self, out: Path):
        docs = {}
        planted_values = {v["value"] for d in self.docs for v in d.meta.get("pii", [])}
        for d in sorted(self.docs, key=lambda d: d.key):
            real = [r for r in census(d.text) if r["value"] not in planted_values] if d.label != "spam" else []
            flat = " ".join(d.text.split())
            planted = [v for v in d.meta.get("pii", []) if v["value"] in flat]  # a near copy's edits may hit one
            docs[d.key] = {
                "file": d.key.split("#")[0], "format": {"text": "text", "txt": "text"}.get(d.fmt, d.fmt),
                "drop": d.key.split("/")[0], "label": d.label, "package": d.package, "origin": d.origin,
                "synthetic": bool(d.meta.get("synthetic")), "spam_kind": d.meta.get("spam_kind"),
                "words": len(d.text.split()), "code_lines": d.code, "pii": planted, "real_pii": real,
                "clean": not planted and not any(r["label"] == "pii" for r in real),
                "boilerplate": " ".join(BOILERPLATE.split()) in flat, "copy_of": d.meta.get("copy_of"),
            }
        used = {d.package for d in self.docs if d.package}
        packages = {p: {"version": v["version"], "licences": v["licences"], "deb": v["deb"]}
                    for p, v in self.pkgs.items() if p in used}
        truth = {"version": 1, "seed": SEED, "size": self.size, "drops": self.drops, "rules": RULES,
                 "boilerplate": BOILERPLATE, "packages": packages, "pairs": self.pairs, "documents": docs}
        (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
        lic = out / "LICENSES"
        shutil.rmtree(lic, ignore_errors=True)
        lic.mkdir()
        used = {d.package for d in self.docs if d.package}
        for p, v in self.pkgs.items():
            if p in used:
                shutil.copy(v["copyright"], lic / f"{p}.copyright")
        for name in ("GPL-2", "GPL-3", "GFDL-1.3"):  # referenced by the copyright files, not copied there
            if (common := Path("/usr/share/common-licenses") / name).exists():
                shutil.copy(common, lic / name)


def summary(truth: dict) -> str:
    from collections import Counter

    c = Counter((d["format"], d["label"]) for d in truth["documents"].values())
    fmts = sorted({f for f, _ in c})
    labels = sorted({lab for _, lab in c})
    lines = [f"{'format':<8}" + "".join(f"{lab:>22}" for lab in labels)]
    lines += [f"{f:<8}" + "".join(f"{c[(f, lab)]:>22}" for lab in labels) for f in fmts]
    kinds = Counter(p["kind"] for p in truth["pairs"])
    pii = Counter(v["kind"] for d in truth["documents"].values() for v in d["pii"])
    real = Counter((v["kind"], v["label"]) for d in truth["documents"].values() for v in d["real_pii"])
    lines.append(f"documents: {len(truth['documents'])}; pairs: {dict(kinds)}; planted PII: {dict(pii)}")
    lines.append(f"real PII census: {dict(real)}; boilerplate copies planted: "
                 f"{sum(d['boilerplate'] for d in truth['documents'].values())}")
    return "\n".join(lines)


def write_readme(out: Path, truth: dict) -> None:
    pkgs = "\n".join(f"| {p} | {v['version']} | {', '.join(v['licences'])} |" for p, v in truth["packages"].items())
    rules = "\n".join(f"- **{k}**: {v}" for k, v in truth["rules"].items())
    (out / "README.md").write_text(f"""# Real-document benchmark ({truth['size']})

Generated by `bench/realdocs_build.py --size {truth['size']}` (seed {truth['seed']}); do not edit by hand, rebuild.
Scored by `bench/quality.py --bench <this folder>` and `tests/test_realdocs.py` (metrics: `bench/realdocs_metrics.py`).

Documents come from Debian bookworm documentation packages (`apt-get download` + `dpkg-deb -x`, nothing
installed). HTML pages are written as shipped or converted with pandoc (DOCX, PPTX, Markdown, plain text);
XLSX holds the tables of real pages (openpyxl); JSONL records hold pages as plain text; PDFs are page ranges
of the shipped manuals (pypdf); `.txt` files are git's asciidoc sources. Spam is written by the builder
(`synthetic: true` in truth.json) and so are the planted PII sentences, the planted boilerplate paragraph and
the near-duplicate edits; everything else is the packages' own text.

`raw/<drop>/...` is the flow's raw root (drops {', '.join(truth['drops'])}); `truth.json` has one entry per
document id (`<key>` or `<key>#<line>` for JSONL) and the planted duplicate pairs.

## Sources and licences

Each package's `copyright` file is in `LICENSES/`, with the GPL-2, GPL-3 and GFDL-1.3 texts it refers to.
All allow redistribution of (modified) copies with the licence: GPL-2/GPL-3+ (git, octave, debian-reference),
GFDL-1.3 without invariant sections (the bash manual PDFs: verbatim page ranges),
public domain (sqlite). gnuplot-doc (its licence allows modified copies only as patches) is used by the full
build but never in the committed slice.

| package | version | licences (copyright file) |
|---|---|---|
{pkgs}

## Composition

```
{summary(truth)}
```

## Labelling rules (fixed before the flow was run)

{rules}
""")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "bench/out/realdocs"))
    ap.add_argument("--size", choices=list(SIZES), default="full")
    ap.add_argument("--cache", default=str(REPO / "bench/.cache/realdocs"))
    args = ap.parse_args(argv)
    ensure_pandoc()
    t0 = time.perf_counter()
    pkgs = fetch(Path(args.cache))
    b = Builder(pkgs, args.size)
    b.build()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    b.write(out)
    truth = json.loads((out / "truth.json").read_text())
    write_readme(out, truth)
    print(summary(truth))
    print(f"built {args.size} benchmark in {out} in {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
