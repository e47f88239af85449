"""Scores one corpus-flow run against the real-document benchmark's truth.json (built by
bench/realdocs_build.py). Shared by bench/quality.py and tests/test_realdocs.py, so both measure alike.

Every metric is {"n", "d", "value", "goal_op", "ok"}: n/d is the raw count, value = n/d, ok says whether the
goal holds (None when the benchmark has no case for it, d == 0).

Whether a dedup drop was right is judged by NEAR_DUP_RULE (below): a planted copy survives, or the extracted
texts are >= 0.8 alike, or the source pages are by the builder's own Jaccard rule; near_dup_precision_extracted_text
keeps the figure without the source pages.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from bench.realdocs_build import html_body_text, html_tree, jaccard, shingles

REPO = Path(__file__).resolve().parent.parent
FORMATS = ["html", "pdf", "docx", "pptx", "xlsx", "jsonl", "md", "text"]
DEFAULT_PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip_address": "<IP_ADDRESS>",
                        "credit_card": "<CREDIT_CARD>", "us_ssn": "<US_SSN>"}
NEAR_J = 0.8  # the near-duplicate threshold of the goals
NEAR_DUP_RULE = (
    "A MinHash drop (near_dup_precision) is justified when (a) a planted copy of the dropped document survives "
    "the filters, or (b) its filtered extracted text has raw-word 5-gram Jaccard >= 0.8 with another document's "
    "(the extracted-text rule, reported alone as near_dup_precision_extracted_text), or (c) the ground truth's own "
    "rule holds on the source pages: the builder's shingles/jaccard (bench/realdocs_build.py RULES['jaccard'], "
    "word 5-grams of the lower-cased page text: HTML <body> text_content(), .txt/.md the text) give >= 0.8 between "
    "the dropped document's source page (its truth `origin`, read from the builder's package cache) and the "
    "source page of a document of the same package that reached the deduplicated output. (c) needs the source "
    "page of both; a document without one (spam, PDF page ranges, XLSX tables, planted near copies whose text is "
    "an edited page, a package not in the cache) is judged by (a) and (b) only, and the output lists it. "
    "Source pages < 0.8 alike leave the drop a false positive. The same rule decides whether a dedup-dropped "
    "good page counts as kept (good_kept; good_kept_extracted_text without (c)). Why: the same page converted to "
    "Markdown, DOCX or PPTX differs in raw words (Markdown's backslash escapes, list numbers Word lists do not "
    "store, slide headings) by conversion, not by content; (c) was added 2026-12-02."
)

# name -> (comparison, target); the `value` of the metric is compared with the target
GOALS = {
    "good_kept": (">=", 0.97), "spam_dropped": (">=", 0.95), "non_target_dropped": (">=", 0.95),
    "code_lines_lost": ("==", 0), "repeated_lines_lost": ("==", 0), "boilerplate_copies_left": ("<=", 1),
    "exact_dup_recall": (">=", 1.0), "exact_dup_precision": (">=", 0.99),
    "near_dup_recall": (">=", 0.95), "near_dup_precision": (">=", 0.99), "cross_format_caught": (">=", 0.9),
    "pii_recall": (">=", 0.99), "false_redaction_rate": ("<=", 0.01),
}


# ---------------------------------------------------------------------------------------------- running

def run_flow(raw: Path, root: Path, config: str | None = None, in_process: bool = False) -> dict:
    """`refinery corpus` on the benchmark's raw root; the run summary. A private DAGSTER_HOME under `root`
    keeps runs apart. In-process (for the tests) the caller owns the environment."""
    root.mkdir(parents=True, exist_ok=True)
    summary = root / "run_summary.json"
    args = ["corpus", "--raw", str(raw), "--root", str(root), "--json", str(summary)]
    if config:
        args += ["--config", str(config)]
    if in_process:
        from orchestration.cli import main

        rc = main(args)
    else:
        env = {**os.environ, "DAGSTER_HOME": str(root / "dagster_home")}
        for var in ("REFINERY_CONFIG", "REFINERY_RAW", "REFINERY_ROOT"):
            env.pop(var, None)
        log = root / "run.log"
        with log.open("w") as f:
            rc = subprocess.run([str(Path(sys.executable).parent / "refinery"), *args], env=env, stdout=f,
                                stderr=subprocess.STDOUT).returncode
    result = json.loads(summary.read_text()) if summary.exists() else {}
    result["returncode"] = rc
    return result


def _jsonl(folder: Path):
    if not folder.exists():
        return
    for f in sorted(folder.rglob("*.jsonl*")):
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield f, json.loads(line)


class Run:
    """What one run wrote, for every drop: texts per stage and where each dropped document went."""

    def __init__(self, root: Path, drops: list[str]):
        self.extracted, self.filtered, self.dedup = {}, {}, {}
        self.status: dict[str, str] = {}  # id -> kept | filter:<name> | dedup:<pass> | quarantined
        self.filter_reason: dict[str, str] = {}
        self.quarantined: dict[str, str] = {}
        self.clusters: list[dict] = []
        for drop in drops:
            base = root / "corpus" / drop
            for _, d in _jsonl(base / "extracted"):
                self.extracted[d["id"]] = d["text"]
            for _, d in _jsonl(base / "filtered"):
                self.filtered[d["id"]] = d["text"]
            for _, d in _jsonl(base / "deduplicated"):
                self.dedup[d["id"]] = d["text"]
                self.status[d["id"]] = "kept"
            for f, d in _jsonl(base / "_dropped" / "filter"):
                name = f.relative_to(base / "_dropped" / "filter").parts[0]
                self.status.setdefault(d["id"], f"filter:{name}")
                self.filter_reason[d["id"]] = str((d.get("metadata") or {}).get("filter_reason", name))
            for f, d in _jsonl(base / "_dropped" / "dedup"):
                self.status.setdefault(d["id"], f"dedup:{f.relative_to(base / '_dropped' / 'dedup').parts[0]}")
            for _, q in _jsonl(base / "_quarantine"):
                self.quarantined[q["source"]] = q.get("reason", "?")
            clusters = base / "minhash_clusters" / "clusters.parquet"
            if clusters.exists():
                import polars as pl

                self.clusters += pl.read_parquet(clusters).to_dicts()
        self.tokenized = {drop: any((root / "corpus" / drop / "tokenized").glob("*.ds")) for drop in drops}

    def where(self, doc_id: str, file: str) -> str:
        if doc_id in self.status:
            return self.status[doc_id]
        if file in self.quarantined or doc_id not in self.extracted:
            return "quarantined"
        return "missing"  # extracted but neither kept nor dropped anywhere: a flow bug


# ---------------------------------------------------------------------------------------------- source pages

def default_caches(bench: Path | None = None) -> list[Path]:
    """Where the builder may have unpacked the packages: its --cache default in this checkout, and the
    default of the checkout the benchmark was built in (<repo>/bench/out/realdocs -> <repo>/bench/.cache)."""
    caches = [REPO / "bench/.cache/realdocs"]
    if bench is not None:
        caches.append(Path(bench).resolve().parent.parent / ".cache/realdocs")
    return list(dict.fromkeys(caches))


class SourcePages:
    """The source text of a document's page, by the builder's rule (bench/realdocs_build.py RULES["jaccard"]):
    HTML: lxml text_content() of <body>; .txt/.md: the file's text. Read from the builder's package cache
    (`<cache>/pkgs/<package>/<origin>`), and only from a cache holding the very .deb the truth names, so the
    text is the page the benchmark was built from. Cached per page.

    No source text (None) for: documents without origin/package (spam), a PDF page range or an XLSX (its text is
    the page's tables only, not the page), a planted near copy (its text is the page with word edits, not the
    page), and any page the cache does not have. The caller then falls back to the extracted-text rule."""

    def __init__(self, truth: dict, caches: list[Path] | None = None):
        self.docs = truth["documents"]
        self.roots: dict[str, Path] = {}
        for pkg, info in (truth.get("packages") or {}).items():
            for cache in caches or []:
                cache = Path(cache)
                if (cache / "debs" / info.get("deb", "")).is_file() and (cache / "pkgs" / pkg / ".done").exists():
                    self.roots[pkg] = cache / "pkgs" / pkg
                    break
        self.missing_packages = sorted(set(truth.get("packages") or {}) - set(self.roots))
        self.edited = {p["duplicate"] for p in truth["pairs"] if p["kind"] == "near"}
        self._sh: dict[tuple, frozenset | None] = {}

    def shingles(self, doc_id: str) -> frozenset | None:
        d = self.docs.get(doc_id) or {}
        pkg, origin = d.get("package"), d.get("origin")
        if not pkg or not origin or pkg not in self.roots or d.get("synthetic") or doc_id in self.edited \
                or d.get("format") in ("pdf", "xlsx"):
            return None
        key = (pkg, origin)
        if key not in self._sh:
            path = self.roots[pkg] / origin
            if not path.is_file():
                self._sh[key] = None
            else:
                text = html_body_text(html_tree(path.read_bytes())) if path.suffix in (".html", ".htm") \
                    else path.read_text(errors="replace")
                self._sh[key] = shingles(text)
        return self._sh[key]

    def best_match(self, doc_id: str, pool) -> tuple[float, str | None] | None:
        """(the highest builder-rule Jaccard between this document's source page and the source page of a
        document in `pool` from the same package, that document); None when this document's source page is
        unknown."""
        mine = self.shingles(doc_id)
        if mine is None:
            return None
        pkg = self.docs[doc_id]["package"]
        best: tuple[float, str | None] = (0.0, None)
        for j in sorted(pool):
            if j != doc_id and (self.docs.get(j) or {}).get("package") == pkg:
                other = self.shingles(j)
                if other is not None and (jj := jaccard(mine, other)) > best[0]:
                    best = (jj, j)
        return best


# ---------------------------------------------------------------------------------------------- helpers

def flat(text: str) -> str:
    return " ".join(text.split())


def leaks(kind: str, value: str, text: str) -> bool:
    """The value, or the part that identifies it, is still in the text: for numbers the last two digit
    groups with their separator (a redaction that leaves "7946 0958" behind did not redact), for emails
    the local part with its @."""
    if value in text:
        return True
    if kind == "email":
        return value.split("@")[0] + "@" in text
    if kind in ("phone", "credit_card", "us_ssn"):
        m = re.search(r"\d+\D+\d+$", value)
        return bool(m) and m.group() in text
    return False


def metric(name: str, n: int, d: int, **extra) -> dict:
    op, target = GOALS.get(name, (None, None))
    value = (n / d if d else None) if name not in ("code_lines_lost", "repeated_lines_lost",
                                                   "boilerplate_copies_left") else n
    ok = None
    if op and value is not None and (d or name in ("boilerplate_copies_left",)):
        ok = {">=": value >= target, "<=": value <= target, "==": value == target}[op]
    return {"n": n, "d": d, "value": value, "goal_op": f"{op} {target}" if op else None, "ok": ok, **extra}


def placeholders(config: str | None) -> dict:
    try:
        from refinery.corpus.config import CorpusConfig

        return {**DEFAULT_PLACEHOLDERS, **dict(CorpusConfig.load(config).filters.pii.placeholders)}
    except Exception:  # the filters' options are being changed: the defaults still measure something
        return dict(DEFAULT_PLACEHOLDERS)


# ---------------------------------------------------------------------------------------------- scoring

def planted_groups(pairs: list[dict]) -> dict[str, set]:
    """An original and all its planted copies form one family (copies of one page are copies of each other)."""
    family: dict[str, set] = {}
    for p in pairs:
        members = family.get(p["original"], {p["original"]}) | family.get(p["duplicate"], {p["duplicate"]})
        for m in members:
            family[m] = members
    return defaultdict(set, {i: members - {i} for i, members in family.items()})


def evaluate(truth: dict, root: Path, config: str | None = None, caches: list[Path] | None = None) -> dict:
    """`caches`: where the builder's unpacked packages may be (default: default_caches()), for the source-page
    rule of the near-duplicate justification (NEAR_DUP_RULE)."""
    run = Run(Path(root), truth["drops"])
    docs = truth["documents"]
    where = {i: run.where(i, d["file"]) for i, d in docs.items()}
    kept = {i for i, w in where.items() if w == "kept"}
    groups = planted_groups(truth["pairs"])  # id -> the other members of its original's family of copies
    sh = {i: shingles(t) for i, t in run.filtered.items()}
    kept_sh = [(i, sh[i]) for i in kept if i in sh]

    def best_match(i: str, pool) -> float:
        return max((jaccard(sh[i], s) for j, s in pool if j != i), default=0.0)

    sources = SourcePages(truth, default_caches() if caches is None else caches)
    kept_by_source: dict[str, tuple[float, str | None] | None] = {}

    def source_match(i: str) -> tuple[float, str | None] | None:  # dropped documents only, against kept ones
        if i not in kept_by_source:
            kept_by_source[i] = sources.best_match(i, kept)
        return kept_by_source[i]

    # a dedup drop is justified when a planted copy survives, or a kept document has >= NEAR_J of its shingles
    # (extracted text), or a kept document's source page has builder-rule Jaccard >= NEAR_J with its source page
    # (NEAR_DUP_RULE); `justified_extracted` is the rule without the source pages, reported next to it
    justified, justified_extracted = {}, {}
    for i, w in where.items():
        if w.startswith("dedup:") and i in sh:
            planted = any(g in kept for g in groups[i])
            justified_extracted[i] = planted or best_match(i, kept_sh) >= NEAR_J
            justified[i] = justified_extracted[i] or (source_match(i) or (0.0,))[0] >= NEAR_J

    out = {"per_format": {}, "dedup": {}, "pii": {}, "paragraphs": {}, "filters": {}}
    # ---- retention per format
    for fmt in FORMATS + ["all"]:
        sel = {i: d for i, d in docs.items() if fmt in ("all", d["format"])}
        originals = [i for i, d in sel.items() if d["label"] == "good" and not d["copy_of"]]
        good_kept = [i for i in originals if i in kept or justified.get(i)]  # a filter drop is a loss, copies or not
        row = {"good_kept": metric("good_kept", len(good_kept), len(originals))}
        old = [i for i in originals if i in kept or justified_extracted.get(i)]
        row["good_kept_extracted_text"] = metric("good_kept_extracted_text", len(old), len(originals))
        for label, name in (("spam", "spam_dropped"), ("non_target_language", "non_target_dropped")):
            ids = [i for i, d in sel.items() if d["label"] == label]
            row[name] = metric(name, sum(i not in kept for i in ids), len(ids))
        nav = [i for i, d in sel.items() if d["label"] == "empty_navigation"]
        row["empty_navigation_kept"] = metric("empty_navigation_kept", sum(i in kept for i in nav), len(nav))
        row["quarantined"] = sum(where[i] == "quarantined" for i in sel)
        out["per_format"][fmt] = row
    # ---- why good documents were lost (originals and copies)
    lost = Counter()
    for i, d in docs.items():
        if d["label"] == "good" and where[i] != "kept" and not justified.get(i):
            reason = where[i]
            if reason.startswith("filter:"):
                reason = f"{reason} ({run.filter_reason.get(i, '?')})"
            lost[(d["format"], reason)] += 1
    out["filters"]["good_lost_by_reason"] = {f"{f} {r}": n for (f, r), n in sorted(lost.items())}
    by_filter = Counter(where[i] for i, d in docs.items() if d["label"] == "good" and where[i].startswith("filter:"))
    out["filters"]["good_dropped_by_filter"] = dict(sorted(by_filter.items()))
    out["filters"]["spam_dropped_by"] = dict(Counter(where[i] for i, d in docs.items() if d["label"] == "spam"))
    out["filters"]["spam_kept_by_kind"] = dict(Counter(d["spam_kind"] for i, d in docs.items()
                                                       if d["label"] == "spam" and i in kept))
    out["filters"]["non_target_dropped_by"] = dict(Counter(where[i] for i, d in docs.items()
                                                         if d["label"] == "non_target_language"))
    out["filters"]["missing"] = [i for i, w in where.items() if w == "missing"]
    # ---- duplicates: a pair is caught when not both copies survive (pairs where a filter took one are left out)
    for kind, name in (("exact", "exact_dup_recall"), ("near", "near_dup_recall"),
                       ("cross_format", "cross_format_caught")):
        pairs = [p for p in truth["pairs"] if p["kind"] == kind and (kind != "near" or p["jaccard"] >= NEAR_J)]
        live = [p for p in pairs if p["original"] in run.filtered and p["duplicate"] in run.filtered]
        caught = [p for p in live if not (p["original"] in kept and p["duplicate"] in kept)]
        extra = {"pairs_planted": len(pairs)}
        if kind == "cross_format":
            js = [round(jaccard(sh[p["original"]], sh[p["duplicate"]]), 3) for p in live]
            extra["measured_jaccard"] = sorted(js)
        out["dedup"][name] = metric(name, len(caught), len(live), **extra)
    bands = defaultdict(lambda: [0, 0])
    for p in truth["pairs"]:
        if p["kind"] == "near" and p["original"] in run.filtered and p["duplicate"] in run.filtered:
            band = "≥0.9" if p["jaccard"] >= 0.9 else "0.8-0.9" if p["jaccard"] >= 0.8 else "0.5-0.8" \
                if p["jaccard"] >= 0.5 else "<0.5"
            bands[band][1] += 1
            bands[band][0] += not (p["original"] in kept and p["duplicate"] in kept)
    out["dedup"]["near_dup_caught_by_jaccard"] = {b: f"{n}/{d}" for b, (n, d) in sorted(bands.items())}
    flat_filtered = {i: flat(t) for i, t in run.filtered.items()}
    texts = Counter(flat_filtered.values())
    for passname, name in (("exact", "exact_dup_precision"), ("minhash", "near_dup_precision")):
        dropped = [i for i, w in where.items() if w == f"dedup:{passname}"]
        if passname == "exact":  # right when a planted copy exists or the text really is identical
            good = [i for i in dropped if any(g in run.filtered for g in groups[i]) or texts[flat_filtered.get(i)] > 1]
        else:  # NEAR_DUP_RULE
            good_extracted = [i for i in dropped if any(g in run.filtered for g in groups[i])
                              or best_match(i, list(sh.items())) >= NEAR_J]
            wrong_extracted = sorted(set(dropped) - set(good_extracted))
            by_source = {i: source_match(i) for i in wrong_extracted}
            good = good_extracted + [i for i, m in by_source.items() if m is not None and m[0] >= NEAR_J]
            out["dedup"]["near_dup_precision_extracted_text"] = metric(
                "near_dup_precision_extracted_text", len(good_extracted), len(dropped),
                false_positives=wrong_extracted[:20])
            out["dedup"]["near_dup_source_rule"] = {
                "rule": NEAR_DUP_RULE,
                "justified_by_source_pages": {i: f"{m[0]:.3f} with {m[1]}" for i, m in by_source.items()
                                              if m is not None and m[0] >= NEAR_J},
                "source_page_below_threshold": {i: f"{m[0]:.3f} with {m[1]}" for i, m in by_source.items()
                                                if m is not None and m[0] < NEAR_J},
                "source_page_unknown": sorted(i for i, m in by_source.items() if m is None),
                "packages_not_in_cache": sources.missing_packages,
            }
        wrong = sorted(set(dropped) - set(good))
        out["dedup"][name] = metric(name, len(good), len(dropped), false_positives=wrong[:20])
    out["dedup"]["paragraph_pass_dropped_whole"] = sum(w == "dedup:paragraphs" for w in where.values())
    # ---- paragraph dedup damage inside surviving documents
    code_in = code_lost = rep_in = rep_lost = 0
    code_examples, rep_examples = [], []
    bp = flat(truth["boilerplate"])
    # a repeated line that other documents also have can go with a paragraph CCNet removed because another
    # document had it first (menus, footers, shared option descriptions), which is not the loss of a
    # within-document repeat; only lines no other document contains are counted, compared after CCNet's own
    # normalisation ("../docs.html" and "docs.html" are one line) and as words inside the other document's
    # text, not only as a whole line of it: a hard-wrapped text file's line is a piece of the paragraph an
    # HTML page has on one line (until 2026-12-02 only whole lines were compared, and pretty-formats.txt's
    # wrapped "`glob(7)` pattern, excluding the refs/tags/ prefix." counted as a lost repeat although
    # git-show.docx had both paragraphs it belongs to first)
    from datatrove.utils.text import simplify_text

    simple = {i: f" {' '.join(simplify_text(t).split())} " for i, t in run.filtered.items()}
    everything = "\n".join(simple.values())

    def elsewhere(line: str, i: str) -> bool:
        words = f" {' '.join(simplify_text(line).split())} "
        # a line of punctuation only (a fence, a table rule) is in every document after normalisation
        return not words.strip() or everything.count(words) > simple[i].count(words)
    for i in kept:
        if i not in run.filtered or i not in docs:
            continue
        f_lines = Counter(ln.strip() for ln in run.filtered[i].splitlines() if ln.strip())
        d_lines = Counter(ln.strip() for ln in run.dedup[i].splitlines() if ln.strip())
        for line, c in Counter(docs[i]["code_lines"] or []).items():
            code_in += min(c, f_lines[line])
            if lost := max(0, min(c, f_lines[line]) - min(c, d_lines[line])):
                code_lost += lost
                code_examples.append(f"{i}: {line[:80]}")
        for line, c in f_lines.items():
            if c >= 2 and flat(line) != bp and not elsewhere(line, i):
                rep_in += c - 1
                if lost := max(0, (c - 1) - max(d_lines[line] - 1, 0)):
                    rep_lost += lost
                    rep_examples.append(f"{i}: {line[:80]}")
    par = out["paragraphs"]
    par["code_lines_lost"] = metric("code_lines_lost", code_lost, code_in, examples=code_examples[:10])
    par["repeated_lines_lost"] = metric("repeated_lines_lost", rep_lost, rep_in, examples=rep_examples[:10])
    left = sum(bp in flat(t) for t in run.dedup.values())
    reached = sum(bp in flat(t) for t in run.filtered.values())
    out["paragraphs"]["boilerplate_copies_left"] = metric("boilerplate_copies_left", left, reached)
    # ---- PII, measured where redaction happens: the filtered output
    per_kind = defaultdict(lambda: [0, 0])
    leaked, not_extracted = [], 0
    for i, d in docs.items():
        if i not in run.filtered:
            continue
        t, before = flat(run.filtered[i]), flat(run.extracted.get(i, ""))
        for v in d["pii"]:
            if v["value"] not in before:  # the extractor dropped the planted sentence: nothing to redact
                not_extracted += 1
                continue
            per_kind[v["kind"]][1] += 1
            if leaks(v["kind"], v["value"], t):
                leaked.append(f"{v['kind']}: {v['value']}")
            else:
                per_kind[v["kind"]][0] += 1
    for kind in DEFAULT_PLACEHOLDERS:
        n, d = per_kind[kind]
        out["pii"][f"recall_{kind}"] = metric("pii_recall", n, d)
    out["pii"]["leaked_examples"] = leaked[:15]
    out["pii"]["planted_not_extracted"] = not_extracted
    real = {"pii": [0, 0], "not_pii": [0, 0]}
    for i, d in docs.items():
        if i in run.filtered:
            t, before = flat(run.filtered[i]), flat(run.extracted.get(i, ""))
            for v in d["real_pii"]:
                if v["value"] not in before:
                    continue
                real[v["label"]][1] += 1
                ok = not leaks(v["kind"], v["value"], t) if v["label"] == "pii" else v["value"] in t
                real[v["label"]][0] += ok
    out["pii"]["real_pii_redacted"] = metric("real_pii_redacted", *real["pii"])
    out["pii"]["real_not_pii_kept"] = metric("real_not_pii_kept", *real["not_pii"])
    marks = list(placeholders(config).values())
    clean = [i for i, d in docs.items() if d["clean"] and d["label"] != "spam" and i in run.filtered]
    # a placeholder counts only if redaction added it (the extracted text did not have it already)
    flagged = [i for i in clean if any(run.filtered[i].count(m) > run.extracted.get(i, "").count(m) for m in marks)]
    out["pii"]["false_redaction_rate"] = metric("false_redaction_rate", len(flagged), len(clean), examples=flagged[:10])
    out["run"] = {"tokenized": run.tokenized, "documents": len(docs), "extracted": len(run.extracted),
                  "filtered": len(run.filtered), "deduplicated": len(run.dedup),
                  "quarantined_files": len(run.quarantined)}
    out["goals"] = goal_table(out)
    return out


def goal_table(out: dict) -> list[dict]:
    """One row per goal: the worst format for the per-format goals, every kind for PII."""
    rows = []
    for fmt, row in out["per_format"].items():
        if fmt == "all":
            continue
        for name in ("good_kept", "spam_dropped", "non_target_dropped"):
            if row[name]["d"]:
                rows.append({"goal": f"{name}[{fmt}]", **row[name]})
    for name, m in out["dedup"].items():
        if isinstance(m, dict) and m.get("goal_op"):
            rows.append({"goal": name, **m})
    for name, m in out["paragraphs"].items():
        rows.append({"goal": name, **m})
    for name, m in out["pii"].items():
        if isinstance(m, dict) and m.get("goal_op"):
            rows.append({"goal": name, **m})
    return rows


def _fmt(m: dict) -> str:
    if m["value"] is None:
        return f"{m['n']}/{m['d']}  (no case)"
    if isinstance(m["value"], float):
        return f"{m['n']}/{m['d']} = {100 * m['value']:.1f}%"
    return f"{m['n']} (of {m['d']})"


def report(out: dict) -> str:
    lines = ["per format (good kept = reached the deduplicated output, or removed as a true duplicate):",
             f"  {'format':<7} {'good kept':>22} {'spam dropped':>16} {'non-target dropped':>19} {'nav kept':>9} "
             f"{'quar.':>6}"]
    for fmt, r in out["per_format"].items():
        g = r["good_kept"]
        pct = f"{g['n']}/{g['d']} {100 * g['value']:.1f}%" if g["d"] else "-"
        lines.append(f"  {fmt:<7} {pct:>22} {_nd(r['spam_dropped']):>16} {_nd(r['non_target_dropped']):>19} "
                     f"{_nd(r['empty_navigation_kept']):>9} {r['quarantined']:>6}")
    changed = [f"{fmt} {_nd(r['good_kept_extracted_text'])}" for fmt, r in out["per_format"].items()
               if r["good_kept_extracted_text"]["n"] != r["good_kept"]["n"]]
    if changed:
        lines.append(f"  good kept with dedup drops judged on extracted text only (before source pages): "
                     f"{', '.join(changed)}")
    lines.append("\ngoals:")
    for row in out["goals"]:
        mark = {True: "ok  ", False: "FAIL", None: "n/a "}[row["ok"]]
        lines.append(f"  [{mark}] {row['goal']:<34} {_fmt(row):<26} goal {row['goal_op']}")
    dedup = out["dedup"]
    lines.append(f"\nnear-dup pairs caught by true Jaccard band: {json.dumps(dedup['near_dup_caught_by_jaccard'])}")
    lines.append(f"cross-format measured Jaccard (filtered text): {dedup['cross_format_caught'].get('measured_jaccard')}")
    lines.append(f"documents the paragraph pass emptied: {out['dedup']['paragraph_pass_dropped_whole']}")
    lines.append(f"planted PII values the extractor dropped (not counted): {out['pii']['planted_not_extracted']}")
    lines.append(f"real PII in the docs redacted: {_fmt(out['pii']['real_pii_redacted'])}; "
                 f"documentation examples left intact: {_fmt(out['pii']['real_not_pii_kept'])}")
    for name in ("code_lines_lost", "repeated_lines_lost"):
        if ex := out["paragraphs"][name]["examples"]:
            lines.append(f"{name.replace('_', ' ')} (first): {ex[:5]}")
    if out["pii"]["false_redaction_rate"]["examples"]:
        lines.append(f"clean documents with a placeholder: {out['pii']['false_redaction_rate']['examples']}")
    if "near_dup_precision_extracted_text" in dedup:
        src, old = dedup["near_dup_source_rule"], dedup["near_dup_precision_extracted_text"]
        lines.append(f"near-dup precision on extracted text only (the rule before source pages): {_fmt(old)}")
        if src["justified_by_source_pages"]:
            lines.append(f"MinHash drops justified by their source pages (builder Jaccard): "
                         f"{src['justified_by_source_pages']}")
        if src["source_page_below_threshold"]:
            lines.append(f"MinHash drops whose source pages are < {NEAR_J} alike: {src['source_page_below_threshold']}")
        if src["source_page_unknown"]:
            lines.append(f"MinHash drops with no source page (judged on extracted text only): "
                         f"{src['source_page_unknown']}")
        if src["packages_not_in_cache"]:
            lines.append(f"packages not found in the builder's cache (source-page rule not applied to them): "
                         f"{src['packages_not_in_cache']}")
    if out["dedup"]["near_dup_precision"]["false_positives"]:
        lines.append(f"MinHash drops with no copy at J >= {NEAR_J}: {dedup['near_dup_precision']['false_positives']}")
    if out["pii"]["leaked_examples"]:
        lines.append(f"planted PII left (first): {out['pii']['leaked_examples'][:8]}")
    lines.append("\ngood documents lost, by format and where:")
    lines += [f"  {k}: {n}" for k, n in out["filters"]["good_lost_by_reason"].items()] or ["  none"]
    lines.append(f"good documents dropped, per filter: {out['filters']['good_dropped_by_filter']}")
    lines.append(f"spam removed by: {out['filters']['spam_dropped_by']}; spam kept, by kind: "
                 f"{out['filters']['spam_kept_by_kind'] or 'none'}")
    lines.append(f"non-target removed by: {out['filters']['non_target_dropped_by']}")
    if out["filters"]["missing"]:
        lines.append(f"extracted but never seen again (flow bug?): {out['filters']['missing'][:10]}")
    lines.append(f"run: {out['run']}")
    return "\n".join(lines)


def _nd(m: dict) -> str:
    return f"{m['n']}/{m['d']}" if m["d"] else "-"
