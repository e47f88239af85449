"""How bench/realdocs_metrics.py judges a MinHash drop (NEAR_DUP_RULE): on synthetic truth entries and a tiny
hand-made run, a drop whose source page is >= 0.8 alike (builder Jaccard) to a kept document's is justified even
when the extracted texts differ, one whose source pages are < 0.8 alike stays a false positive, and a document
whose source page is not in the cache is judged on its extracted text only. With the builder's package cache at
hand (REALDOCS_CACHE, or bench/.cache/realdocs), also on the real SQLite release notes."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from bench.realdocs_metrics import NEAR_J, REPO, SourcePages, evaluate

PKG, DEB = "sqlite3-doc", "sqlite3-doc_3.0-1_all.deb"


def _words(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    names = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split()
    return [rng.choice(names) + str(rng.randrange(50)) for _ in range(n)]


def _page(words: list[str]) -> str:
    return f"<html><head><title>t</title></head><body><p>{' '.join(words)}</p></body></html>"


def _doc(origin: str | None, fmt: str, package: str | None = PKG) -> dict:
    return {"file": "", "format": fmt, "label": "good", "package": package, "origin": origin, "copy_of": None,
            "synthetic": False, "spam_kind": None, "code_lines": [], "pii": [], "real_pii": [], "clean": True}


@pytest.fixture
def case(tmp_path):
    base = _words(1, 300)
    pages = {"kept.html": base,
             "near.html": base + _words(2, 12),                   # the previous release's list plus a line: J ~0.96
             "far.html": _words(3, 150) + base[150:],             # half the page differs: J ~0.33
             }
    cache = tmp_path / "cache"
    (cache / "debs").mkdir(parents=True)
    (cache / "debs" / DEB).write_bytes(b"")
    root = cache / "pkgs" / PKG
    (root / "usr/share/doc/sqlite3").mkdir(parents=True)
    (root / ".done").touch()
    for name, words in pages.items():
        (root / "usr/share/doc/sqlite3" / name).write_text(_page(words))
    drop = "d1"
    docs = {f"{drop}/kept.html": _doc("usr/share/doc/sqlite3/kept.html", "html"),
            f"{drop}/near.md": _doc("usr/share/doc/sqlite3/near.html", "md"),
            f"{drop}/far.md": _doc("usr/share/doc/sqlite3/far.html", "md"),
            f"{drop}/gone.md": _doc("usr/share/doc/other/gone.html", "md", package="other-doc"),  # not in the cache
            }
    for i, d in docs.items():
        d["file"] = i
    truth = {"drops": [drop], "pairs": [], "boilerplate": "NOTICE", "documents": docs,
             "packages": {PKG: {"deb": DEB}, "other-doc": {"deb": "other-doc_1_all.deb"}}}
    # the run: extracted texts differ word for word (conversion artefacts), so only the source pages can tell
    texts = {f"{drop}/kept.html": " ".join(base),
             f"{drop}/near.md": " ".join(f"{w}\\" for w in pages["near.html"]),
             f"{drop}/far.md": " ".join(f"{w}\\" for w in pages["far.html"]),
             f"{drop}/gone.md": " ".join(_words(4, 200))}
    run = tmp_path / "run" / "corpus" / drop
    for stage, ids in (("extracted", texts), ("filtered", texts), ("deduplicated", [f"{drop}/kept.html"]),
                       ("_dropped/dedup/minhash", [i for i in texts if i != f"{drop}/kept.html"])):
        (run / stage).mkdir(parents=True)
        (run / stage / "part.jsonl").write_text("".join(json.dumps({"id": i, "text": texts[i]}) + "\n" for i in ids))
    return truth, tmp_path / "run", cache


def test_source_pages_decide_both_ways(case):
    truth, _, cache = case
    src = SourcePages(truth, [cache])
    near, partner = src.best_match("d1/near.md", ["d1/kept.html"])
    far, _ = src.best_match("d1/far.md", ["d1/kept.html"])
    assert near >= NEAR_J and partner == "d1/kept.html"
    assert far < NEAR_J
    assert src.best_match("d1/gone.md", ["d1/kept.html"]) is None  # package not in the cache
    assert SourcePages(truth, [cache / "elsewhere"]).best_match("d1/near.md", ["d1/kept.html"]) is None


def test_a_drop_is_justified_only_by_source_pages_at_least_0_8_alike(case):
    truth, run, cache = case
    out = evaluate(truth, run, caches=[cache])
    prec, old = out["dedup"]["near_dup_precision"], out["dedup"]["near_dup_precision_extracted_text"]
    assert (old["n"], old["d"]) == (0, 3)  # raw words of the extracted texts: nothing is >= 0.8 alike
    assert (prec["n"], prec["d"]) == (1, 3)
    assert prec["false_positives"] == ["d1/far.md", "d1/gone.md"]
    rule = out["dedup"]["near_dup_source_rule"]
    assert list(rule["justified_by_source_pages"]) == ["d1/near.md"]
    assert list(rule["source_page_below_threshold"]) == ["d1/far.md"]
    assert rule["source_page_unknown"] == ["d1/gone.md"] and rule["packages_not_in_cache"] == ["other-doc"]
    md = out["per_format"]["md"]
    assert (md["good_kept"]["n"], md["good_kept_extracted_text"]["n"], md["good_kept"]["d"]) == (1, 0, 3)
    # without the cache the old rule is all there is
    out = evaluate(truth, run, caches=[])
    assert out["dedup"]["near_dup_precision"]["n"] == 0
    assert out["dedup"]["near_dup_source_rule"]["source_page_unknown"] == ["d1/far.md", "d1/gone.md", "d1/near.md"]


def test_real_sqlite_release_notes():
    cache = Path(os.environ.get("REALDOCS_CACHE", REPO / "bench/.cache/realdocs"))
    debs = sorted((cache / "debs").glob(f"{PKG}_*.deb"))
    if not debs or not (cache / "pkgs" / PKG / ".done").exists():
        pytest.skip("the builder's package cache is not here (set REALDOCS_CACHE)")
    rel = "usr/share/doc/sqlite3/releaselog"
    docs = {n: _doc(f"{rel}/{n}.html", "md") for n in ("3_38_2", "3_38_3", "3_19_1", "3_19_2")}
    src = SourcePages({"documents": docs, "pairs": [], "packages": {PKG: {"deb": debs[-1].name}}}, [cache])
    assert src.best_match("3_38_3", ["3_38_2"])[0] >= NEAR_J  # a patch release repeats its predecessor's notes
    assert src.best_match("3_19_2", ["3_19_1"])[0] >= NEAR_J
    assert src.best_match("3_38_3", ["3_19_1"])[0] < NEAR_J  # unrelated releases stay apart
