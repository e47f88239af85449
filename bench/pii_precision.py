"""PII redaction precision and recall on real technical text nobody here wrote: Debian documentation packages.

Detectors on the same documents, in one run:
  old                   refinery/filters/pii.py at BASELINE_REV (before the precision work), via `git show`;
  new                   refinery/filters/pii.py in the work tree, default options;
  new+keep_private_ips  the same with private addresses kept;
  presidio              presidio-analyzer's recognisers for the same five kinds through AnalyzerEngine (so its
                        context words count) on a blank spaCy English pipeline: the en_core_web_* models are
                        downloaded from GitHub, which this machine cannot reach; presidio>=0.5 drops results
                        scoring under 0.5 (phones without a context word). Only if presidio-analyzer imports:
                        `uv pip install --target DIR --no-deps presidio-analyzer==2.2.366 phonenumbers` and pass
                        `--presidio-path DIR` (it pins preshed<3.0.14, below what the venv has; its code runs).

Documents: the HTML pages of git-doc, sqlite3-doc, debian-reference-en, gnuplot-doc, bash-doc and octave-doc
(Debian bookworm), fetched with `apt-get download`, unpacked with `dpkg-deb -x`, extracted with the repo's HTML
extractor and cached in bench/.cache/pii/ (bench/.cache/.gitignore, written here, keeps it out of git).

Precision: every span any detector finds in the documents is labelled by `label()` (hand-checked lists for these
pinned packages): real (personal data or a real contact point), policy (a genuine network address, redacted by
the default policy but nobody's personal data) or not_pii (a false positive: versions, section numbers, figures,
reserved documentation values, placeholders). A clean document holds neither real nor policy items; the
clean-document placeholder rate is the share of those that a detector would put a placeholder in.
Recall: real-looking values planted in real sentences from the same documents, per kind and shape, n/d.
Times: best of 3 over all documents (presidio: one run).

    python bench/pii_precision.py [--presidio-path DIR] [--limit N] [--show-fp 25] [--per-kind 300]
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import time
import types
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "pii"
PACKAGES = ["git-doc", "sqlite3-doc", "debian-reference-en", "gnuplot-doc", "bash-doc", "octave-doc"]
BASELINE_REV = "7883027"  # last commit before the precision work on refinery/filters/pii.py
KINDS = ("email", "phone", "ip_address", "credit_card", "us_ssn")


# ---------------------------------------------------------------------------------------------- documents

def _fetch_packages() -> Path:
    debs, root = CACHE / "debs", CACHE / "root"
    if root.exists():
        return root
    debs.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / ".gitignore").write_text("*\n")
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    tmp = CACHE / "root.tmp"
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
    tmp.rename(root)
    return root


def _package_of(path: Path) -> str:
    s = str(path)
    for p in ("git-doc", "sqlite3", "debian-reference", "gnuplot", "bash", "octave"):
        if f"/{p}" in s:
            return p
    return "other"


def _extract(path: str) -> dict | None:
    from refinery.extract.base import ExtractionError
    from refinery.extract.html import extract_html
    from refinery.extract.options import ExtractOptions

    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    try:
        text = extract_html(data, ExtractOptions()).text
    except ExtractionError:
        return None
    return {"id": path.split("/x/", 1)[-1] if "/x/" in path else path, "text": text}


def load_docs() -> list[dict]:
    cached = CACHE / "docs.jsonl"
    if not cached.exists():
        root = _fetch_packages()
        paths = sorted(str(p) for p in root.rglob("*") if p.is_file() and p.name.endswith((".html", ".html.gz")))
        t0 = time.perf_counter()
        with ProcessPoolExecutor(2) as ex:
            docs = [d for d in ex.map(_extract, paths, chunksize=16) if d]
        for d in docs:
            d["id"] = d["id"].split("/root/", 1)[-1]
            d["package"] = _package_of(Path(d["id"]))
        print(f"extracted {len(docs)} of {len(paths)} HTML pages in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        tmp = cached.with_suffix(".tmp")
        with tmp.open("w") as f:
            for d in docs:
                f.write(json.dumps(d) + "\n")
        tmp.rename(cached)
    with cached.open() as f:
        return [json.loads(line) for line in f]



# ---------------------------------------------------------------------------------------------- detectors

def old_detector(rev: str):
    """find_pii of refinery/filters/pii.py at `rev`, loaded as its own module."""
    source = subprocess.run(["git", "show", f"{rev}:refinery/filters/pii.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("pii_baseline")
    exec(compile(source, f"pii.py@{rev}", "exec"), module.__dict__)
    return module.find_pii


def presidio_detector(min_score: float = 0.0):
    """presidio-analyzer's predefined recognisers for our five kinds, through AnalyzerEngine so that its context
    words count, with a blank spaCy English pipeline (tokens, lower-case lemmas) instead of a model: the
    en_core_web_* packages are downloaded from GitHub, which this machine cannot reach. None if not installed."""
    try:
        import tldextract
        import tldextract.tldextract as tx

        tx.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())  # the bundled suffix list, no download
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError:
        return None

    class BlankSpacyEngine(SpacyNlpEngine):
        def load(self):
            nlp = spacy.blank("en")
            nlp.max_length = 2_000_000
            if "pii_lower_lemma" not in spacy.Language.factories:
                spacy.Language.component("pii_lower_lemma", func=_lower_lemma)
            nlp.add_pipe("pii_lower_lemma")
            self.nlp = {"en": nlp}

    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    kinds = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "IP_ADDRESS": "ip_address",
             "CREDIT_CARD": "credit_card", "US_SSN": "us_ssn"}

    def find(text: str) -> list[tuple[str, int, int]]:
        results = analyzer.analyze(text, language="en", entities=list(kinds), score_threshold=min_score)
        spans, last_end = [], 0  # overlaps: the longest, then the highest score (what the anonymizer keeps)
        for r in sorted(results, key=lambda r: (r.start, -(r.end - r.start), -r.score)):
            if r.start >= last_end:
                spans.append((kinds[r.entity_type], r.start, r.end))
                last_end = r.end
        return spans

    return find


def _lower_lemma(doc):
    for token in doc:
        token.lemma_ = token.lower_
    return doc


# ---------------------------------------------------------------------------------------------- labels
# Every detection in the documents is labelled here, by hand-checked lists for this pinned set of packages:
#   real    personal data or a real contact point (authors' and lists' addresses, Message-IDs that carry one,
#           phone numbers in press contacts);
#   policy  genuine network addresses, not personal: private ones used as examples and public servers in
#           ping output; redacting them is the default policy (keep_private_ips=False), not a mistake;
#   not_pii everything else: versions, section numbers, figures, example phone numbers in SQL examples,
#           reserved documentation values, placeholder addresses, systemd units.

REAL_PHONES = {"14153454754", "442071541707", "17049484565", "7049484565"}
POLICY_IPS = {"192.168.11.1", "192.168.0.15", "192.168.0.1", "192.168.1.200", "10.10.220.23", "149.20.4.15",
              "130.89.148.77", "2603:400a:ffff:bb8::801f:3e"}
_PLACEHOLDER_MAIL = re.compile(
    r"@(?:[\w.-]+\.)?(?:example\.(?:com|net|org)|[\w-]+\.(?:example|test|invalid|localhost|dom|xx|ext|domain|"
    r"tld|address|host|timer|service))$", re.IGNORECASE)
NOT_REAL_EMAILS = {"yourname@gmail.com", "user@gmail.com", "passwd-on-proxy@proxy-host.com", "foo@svn.bar.com",
                   "joe@foo.com"}


def key(kind: str, value: str) -> str:
    """One spelling per item, whatever span a detector took (presidio includes a URL's path before an address)."""
    if kind == "email":
        return re.sub(r"^.*[/=]", "", value).strip("*<>").lower()
    if kind in ("phone", "credit_card", "us_ssn"):
        return re.sub(r"\D", "", value)
    return value.strip("()[]").lower()


def label(kind: str, value: str) -> str:
    if kind == "email":
        v = key(kind, value)
        return "not_pii" if "@" not in v or _PLACEHOLDER_MAIL.search(v) or v in NOT_REAL_EMAILS else "real"
    if kind == "phone":
        return "real" if re.sub(r"\D", "", value) in REAL_PHONES else "not_pii"
    if kind == "ip_address":
        return "policy" if key(kind, value) in POLICY_IPS else "not_pii"
    return "not_pii"  # no card number or SSN occurs in these manuals


# ---------------------------------------------------------------------------------------------- planted PII

def _carriers(docs: list[dict], rng: random.Random, n: int) -> list[str]:
    """Real prose sentences from the documents, free of digits and '@' so that they hold nothing to find."""
    lines = []
    for d in docs:
        for line in d["text"].split("\n"):
            line = line.strip()
            if 60 <= len(line) <= 220 and line[0].isupper() and line.endswith(".") and not re.search(r"[\d@|#`]", line):
                lines.append(line)
    lines = sorted(set(lines))
    return [rng.choice(lines) for _ in range(n)]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + check)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return body + check
    raise AssertionError


def _num(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _public_ipv4(rng: random.Random, small: bool = False) -> str:
    import ipaddress

    while True:
        octets = [rng.randint(1, 40 if small else 254) for _ in range(4)]
        a = ipaddress.IPv4Address(".".join(map(str, octets)))
        if a.is_global and not a.is_multicast:
            return str(a)


def planted_cases(docs: list[dict], per_kind: int = 300, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """(kind, variant, text, value): a value planted into a real sentence, in a phrase of its kind."""
    rng = random.Random(seed)
    first = ["james", "maria", "wei", "olga", "ahmed", "sofia", "lars", "priya", "tom", "yuki", "jean", "ana"]
    last = ["miller", "schmidt", "nguyen", "kowalski", "garcia", "okafor", "johansson", "tanaka", "dubois", "rossi"]
    domains = ["gmail.com", "outlook.com", "pobox.com", "web.de", "acme-logistics.com", "uni-hamburg.de",
               "mail.example-bank.co.uk", "corp.acme.local", "fastmail.fm", "t-online.de"]

    def email():
        f, l = rng.choice(first), rng.choice(last)
        local = rng.choice([f"{f}.{l}", f"{f[0]}{l}", f"{f}_{l}{rng.randint(1, 99)}", f"{l}+lists", f])
        return "email", "address", local + "@" + rng.choice(domains), rng.choice(
            ["{v}", "write to {v}", "maintained by {n} <{v}>", "Reported-by: {n} <{v}>", "(contact: {v})"])

    def phone():
        a, x = _num(rng, 3, "23456789"), _num(rng, 3, "23456789")
        s = _num(rng, 4, "0123456789")
        shapes = [
            ("intl", f"+44 20 {_num(rng, 4)} {_num(rng, 4)}", False), ("intl", f"+1 ({a}) {x}-{s}", False),
            ("intl", f"+49 30 {_num(rng, 8)}", False), ("intl", f"+33 1 {_num(rng, 2)} {_num(rng, 2)} "
                                                               f"{_num(rng, 2)} {_num(rng, 2)}", False),
            ("intl", f"+1-{a}-{x}-{s}", False), ("intl", f"+61 2 {_num(rng, 4)} {_num(rng, 4)}", False),
            ("intl", f"+91 98{_num(rng, 3)} {_num(rng, 5)}", False), ("intl", f"+1{a}{x}{s}", False),
            ("us", f"({a}) {x}-{s}", False), ("us", f"{a}-{x}-{s}", False), ("us", f"{a}.{x}.{s}", False),
            ("us_spaces+word", f"{a} {x} {s}", True), ("national+word", f"0{_num(rng, 2)} {_num(rng, 7)}", True),
            ("national+word", f"0{_num(rng, 3)} {_num(rng, 3)} {_num(rng, 4)}", True),
            ("national+word", f"06 {_num(rng, 2)} {_num(rng, 2)} {_num(rng, 2)} {_num(rng, 2)}", True),
        ]
        variant, v, needs_word = rng.choice(shapes)
        phrase = rng.choice(["call {v}", "Tel: {v}", "phone: {v}", "mobile {v}", "Fax {v}"] if needs_word else
                            ["{v}", "or {v}", "{n}, {v}", "({v})", "call {v}"])
        return "phone", variant, v, phrase

    def ip():
        variant = rng.choice(["public", "public", "private", "small+context", "ipv6"])
        if variant == "public":
            v = _public_ipv4(rng)
        elif variant == "private":
            v = rng.choice([f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                            f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                            f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"])
        elif variant == "small+context":
            v = _public_ipv4(rng, small=True)
        else:
            v = ":".join(["2a02", *(f"{rng.randint(1, 0xffff):x}" for _ in range(2))]) + "::" + f"{rng.randint(1, 0xffff):x}"
        phrases = ["connect to {v}", "from {v} port 51234", "ping {v}", "nameserver {v}", "the host {v}",
                   "IP address {v}", "http://{v}:8080/"]
        if variant != "small+context":
            phrases += ["{v}", "({v})", "at {v}"]
        return "ip_address", variant, v, rng.choice(phrases)

    def card():
        network, prefix, length = rng.choice([("visa", "4", 16), ("mastercard", "5" + rng.choice("12345"), 16),
                                              ("mastercard2", "22", 16), ("discover", "6011", 16),
                                              ("amex", "3" + rng.choice("47"), 15)])
        d = _luhn_complete(prefix, length, rng)
        layout = rng.choice(["grouped", "grouped", "contiguous+word"])
        if layout == "contiguous+word":
            return "credit_card", layout, d, rng.choice(["card number {v}", "Visa {v}", "paid with card {v}",
                                                         "credit card: {v}"])
        sep = rng.choice(" -")
        v = (sep.join([d[:4], d[4:10], d[10:]]) if length == 15 else sep.join(d[i:i + 4] for i in range(0, 16, 4)))
        return "credit_card", layout, v, rng.choice(["{v}", "card {v}", "({v})", "{n} {v}"])

    def ssn():
        while True:
            area = rng.randint(1, 899)
            if area != 666:
                break
        v = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        return "us_ssn", "ssn", v, rng.choice(["SSN {v}", "{v}", "social security number {v}", "({v})"])

    cases = []
    for make in (email, phone, ip, card, ssn):
        carriers = _carriers(docs, rng, per_kind)
        for sentence in carriers:
            kind, variant, value, phrase = make()
            name = f"{rng.choice(first).title()} {rng.choice(last).title()}"
            words = sentence.split(" ")
            at = rng.randint(1, len(words) - 1)
            text = " ".join(words[:at] + [phrase.format(v=value, n=name)] + words[at:])
            cases.append((kind, variant, text, value))
    return cases


def found_value(spans, text: str, kind: str, value: str) -> bool:
    start = text.index(value)
    end = start + len(value)
    digits = re.sub(r"\D", "", value)
    for k, s, e in spans:
        if k == kind and s < end and e > start:
            covered = text[max(s, start):min(e, end)]
            if kind in ("phone", "credit_card", "us_ssn"):
                if re.sub(r"\D", "", covered) == digits:
                    return True
            elif covered == value:
                return True
    return False


# ---------------------------------------------------------------------------------------------- report

def ratio(n: int, d: int) -> str:
    return f"{n}/{d} = {n / d:.3f}" if d else f"{n}/0"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="first N documents only")
    ap.add_argument("--presidio-path", default="", help="a directory presidio-analyzer was installed into")
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--show-fp", type=int, default=25, help="print this many false positives per detector")
    ap.add_argument("--per-kind", type=int, default=300, help="planted values per kind")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.presidio_path:
        sys.path.append(args.presidio_path)
    from refinery.filters.pii import find_pii

    docs = load_docs()
    if args.limit:
        docs = docs[:args.limit]
    megabytes = sum(len(d["text"].encode()) for d in docs) / 1e6
    print(f"{len(docs)} documents, {megabytes:.1f} MB of text: {dict(Counter(d['package'] for d in docs))}")

    detectors = {"old": old_detector(args.baseline_rev), "new": find_pii,
                 "new+keep_private_ips": lambda t: find_pii(t, keep_private_ips=True)}
    presidio = presidio_detector()
    if presidio:
        detectors["presidio"] = presidio
        detectors["presidio>=0.5"] = presidio_detector(0.5)  # drops phones (0.4) without a context word
    else:
        print("presidio-analyzer not importable: pass --presidio-path (see the docstring)")

    # --- real documents: detections, labels, time
    spans_by, seconds = {}, {}
    for name, find in detectors.items():
        repeats = 1 if name.startswith("presidio") else 3
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            spans = [find(d["text"]) for d in docs]
            best = min(best, time.perf_counter() - t0)
        spans_by[name], seconds[name] = spans, best
    truth_real, truth_policy = defaultdict(set), defaultdict(set)
    for name, per_doc in spans_by.items():
        for i, spans in enumerate(per_doc):
            for kind, s, e in spans:
                lab = label(kind, docs[i]["text"][s:e])
                if lab == "real":
                    truth_real[i].add((kind, key(kind, docs[i]["text"][s:e])))
                elif lab == "policy":
                    truth_policy[i].add((kind, key(kind, docs[i]["text"][s:e])))
    clean = [i for i in range(len(docs)) if not truth_real[i] and not truth_policy[i]]
    no_real = [i for i in range(len(docs)) if not truth_real[i]]
    n_real = sum(len(v) for v in truth_real.values())
    n_policy = sum(len(v) for v in truth_policy.values())
    print(f"labelled: {len(no_real)} documents without personal data, {len(clean)} without any address either; "
          f"{n_real} distinct (document, value) personal-data items, {n_policy} genuine network addresses\n")

    print("== Real documents (every detection labelled; a false positive is a placeholder where no PII was) ==")
    header = f"{'detector':22} {'detections':>10} {'false pos.':>10} {'FP/1000 docs':>12}  " \
             f"{'clean docs with a placeholder':32} {'personal data found':22} {'addresses found':18} time"
    print(header)
    fp_values = {}
    for name, per_doc in spans_by.items():
        total = fp = 0
        fp_docs, real_found, policy_found = set(), 0, 0
        fp_by_kind, fp_list = Counter(), []
        for i, spans in enumerate(per_doc):
            text = docs[i]["text"]
            found_real, found_policy = set(), set()
            for kind, s, e in spans:
                total += 1
                lab = label(kind, text[s:e])
                if lab == "not_pii":
                    fp += 1
                    fp_docs.add(i)
                    fp_by_kind[kind] += 1
                    fp_list.append((kind, text[s:e], docs[i]["id"], text[max(0, s - 50):e + 30]))
                elif lab == "real":
                    found_real.add((kind, key(kind, text[s:e])))
                else:
                    found_policy.add((kind, key(kind, text[s:e])))
            real_found += len(found_real & truth_real[i])
            policy_found += len(found_policy & truth_policy[i])
        fp_values[name] = (fp_by_kind, fp_list)
        clean_hit = sum(1 for i in clean if per_doc[i])
        t = seconds[name]
        print(f"{name:22} {total:>10} {fp:>10} {1000 * fp / len(docs):>12.1f}  {ratio(clean_hit, len(clean)):32} "
              f"{ratio(real_found, n_real):22} {ratio(policy_found, n_policy):18} {t:.2f} s "
              f"({megabytes / t:.1f} MB/s)")
    if "old" in seconds:
        print(f"time new/old: {seconds['new']:.2f}/{seconds['old']:.2f} s = x{seconds['new'] / seconds['old']:.2f}"
              + (f"; presidio/new: x{seconds['presidio'] / seconds['new']:.1f}" if presidio else ""))
    print("\nclean documents with a placeholder, per package:")
    packages = sorted({d["package"] for d in docs})
    print(f"  {'detector':22} " + " ".join(f"{p:>22}" for p in packages))
    for name, per_doc in spans_by.items():
        cells = []
        for p in packages:
            ids = [i for i in clean if docs[i]["package"] == p]
            cells.append(ratio(sum(1 for i in ids if per_doc[i]), len(ids)))
        print(f"  {name:22} " + " ".join(f"{c:>22}" for c in cells))
    print("\nfalse positives by kind:")
    for name, (by_kind, _) in fp_values.items():
        print(f"  {name:22} " + ", ".join(f"{k} {by_kind[k]}" for k in KINDS))
    for name, (_, fp_list) in fp_values.items():
        values = Counter((k, v) for k, v, _, _ in fp_list)
        print(f"\n{name}: {len(values)} distinct false-positive values; most frequent {args.show_fp}:")
        for (k, v), c in values.most_common(args.show_fp):
            ctx = next(ctx for kk, vv, _, ctx in fp_list if (kk, vv) == (k, v))
            print(f"  {c:4} {k:12} {v!r:40} …{ctx.replace(chr(10), ' ')[:100]}…")

    # --- planted PII: recall per kind
    cases = planted_cases(docs, args.per_kind)
    print(f"\n== Planted PII: {len(cases)} real-looking values in real sentences from the documents ==")
    groups = sorted({(k, v) for k, v, _, _ in cases}, key=lambda kv: (KINDS.index(kv[0]), kv[1]))
    names = list(spans_by)
    print(f"{'kind':12} {'variant':18} " + " ".join(f"{n:>22}" for n in names))
    hits = {n: Counter() for n in names}
    for n in names:
        find = detectors[n]
        for kind, variant, text, value in cases:
            hits[n][(kind, variant)] += found_value(find(text), text, kind, value)
    total = Counter((k, v) for k, v, _, _ in cases)
    for kind in KINDS:
        for k, v in groups:
            if k == kind:
                print(f"{'':12} {v:18} " + " ".join(f"{ratio(hits[n][(k, v)], total[(k, v)]):>22}" for n in names))
        d = sum(c for (k, _), c in total.items() if k == kind)
        print(f"{kind:12} {'ALL':18} " + " ".join(
            f"{ratio(sum(c for (k, _), c in hits[n].items() if k == kind), d):>22}" for n in names))
    print("\n(private addresses count as PII to find, the default; new+keep_private_ips keeps them by design)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--prepare"]:
        sys.path.insert(0, str(ROOT))
        docs = load_docs()
        print(len(docs), Counter(d["package"] for d in docs))
    else:
        main()
