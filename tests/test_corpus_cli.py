"""The whole corpus flow through Dagster, as a user runs it: `refinery corpus` on the sample corpus."""
import json

import numpy as np
import polars as pl
from datatrove.io import get_datafolder
from tokenizers import Tokenizer

from orchestration.cli import main
from refinery.corpus.report import iter_jsonl
from refinery.filters.pii import find_pii
from refinery.tokenize import DEFAULT_TOKENIZER

DROPS = ["2026-11-01", "2026-11-08"]
ASSETS = ["extracted_documents", "filtered_documents", "deduplicated_documents", "tokenized_shards"]


def _run(raw, root, tmp_path, *extra):
    out = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.json"
    rc = main(["corpus", "--raw", str(raw), "--root", str(root), "--json", str(out), *extra])
    return rc, json.loads(out.read_text())


def _docs(root, drop, stage):
    return list(iter_jsonl(get_datafolder(str(root / "corpus" / drop / stage))))


def _explain(raw, root, capsys, key):
    capsys.readouterr()
    rc = main(["explain", key, "--raw", str(raw), "--root", str(root), "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_corpus_end_to_end_then_unchanged_rerun(sample_raw, dagster_home, tmp_path, capsys):
    root = tmp_path / "out"
    rc, summary = _run(sample_raw, root, tmp_path)
    assert rc == 0
    assert list(summary["drops"]) == DROPS
    for drop in DROPS:
        report = summary["drops"][drop]
        assert report["success"] and set(report["assets"]) == set(ASSETS)
        assert report["checks"] and all(report["checks"].values()), report["checks"]

    # every stage keeps id and metadata.source
    for drop in DROPS:
        for stage in ("extracted", "filtered", "deduplicated"):
            docs = _docs(root, drop, stage)
            assert docs and all(d["id"] and d["metadata"]["source"].startswith(f"{drop}/") for d in docs)

    # bad files are quarantined with a reason, the good ones are extracted
    md = summary["drops"]["2026-11-01"]["assets"]["extracted_documents"]
    assert md["quarantined_files"] >= 1
    quarantined = list(iter_jsonl(get_datafolder(str(root / "corpus" / "2026-11-01" / "_quarantine"))))
    assert all(q["reason"] and q["source"] for q in quarantined)

    # PII redacted, filter drops written with their reasons
    for drop in DROPS:
        assert not any(find_pii(d["text"]) for d in _docs(root, drop, "filtered"))
    dropped = list(iter_jsonl(get_datafolder(str(root / "corpus" / "2026-11-01" / "_dropped" / "filter"))))
    assert dropped and all(d["metadata"].get("filter_reason") for d in dropped)
    filter_md = summary["drops"]["2026-11-01"]["assets"]["filtered_documents"]
    assert filter_md["filter_profile"] == "documents"
    assert filter_md["drops_by_filter"]["gopher_quality"] >= 1 and filter_md["drops_by_filter"]["c4_quality"] == 0
    assert "gopher_short_doc" in filter_md["dropped_samples"]  # markdown: three per filter, with the reason

    # no exact duplicate across both drops after dedup; the earlier drop keeps the shared document
    texts = [d["text"].strip() for drop in DROPS for d in _docs(root, drop, "deduplicated")]
    assert len(texts) == len(set(texts))
    dedup_md = summary["drops"]["2026-11-08"]["assets"]["deduplicated_documents"]
    assert sum(dedup_md["drops_by_reason"].values()) >= 1
    clusters = pl.read_parquet(root / "corpus" / "2026-11-08" / "minhash_clusters" / "clusters.parquet")
    assert clusters.columns == ["id", "source", "cluster", "kept", "earlier_drop"]

    # token shards decode back to the deduplicated text
    tok_md = summary["drops"]["2026-11-01"]["assets"]["tokenized_shards"]
    assert tok_md["tokens"] > 100
    shards = sorted((root / "corpus" / "2026-11-01" / "tokenized").glob("*.ds"))
    tokens = np.concatenate([np.fromfile(s, dtype=np.uint16) for s in shards])
    assert len(tokens) == tok_md["tokens"]
    decoded = Tokenizer.from_file(str(DEFAULT_TOKENIZER)).decode(tokens.tolist())
    assert _docs(root, "2026-11-01", "deduplicated")[0]["text"][:80] in decoded

    # `refinery explain`: why a document is missing, or where it went
    rc, short = _explain(sample_raw, root, capsys, "2026-11-01/misc/scratch.txt")
    [doc] = short["documents"]
    assert rc == 0 and doc["outcome"] == {"stage": "filter", "filter": "gopher_quality", "reason": "gopher_short_doc"}
    assert {f["filter"]: f["verdict"] for f in doc["filters"]}["gopher_quality"] == "drop"
    assert next(f for f in doc["filters"] if f["filter"] == "gopher_quality")["scores"]["words"] < 20
    rc, copy = _explain(sample_raw, root, capsys, "2026-11-08/handbook/onboarding.md")
    outcome = copy["documents"][0]["outcome"]
    assert outcome["stage"] == "dedup" and outcome["reason"] == "exact_duplicate"
    assert outcome["duplicate_of"]["drop"] == "2026-11-01"
    rc, scan = _explain(sample_raw, root, capsys, "2026-11-01/incoming/scan-2026-10-30.pdf")
    assert scan["documents"] == [] and scan["quarantine"][0]["reason"]
    kept_id = _docs(root, "2026-11-01", "deduplicated")[0]["id"]
    rc, kept = _explain(sample_raw, root, capsys, kept_id)
    outcome = kept["documents"][0]["outcome"]
    assert outcome["kept"] and outcome["shards"] and all(f["verdict"] == "pass" for f in kept["documents"][0]["filters"])
    assert _explain(sample_raw, root, capsys, "2026-11-01/no/such.txt")[0] == 1

    # re-running an unchanged corpus does no heavy work
    rc, again = _run(sample_raw, root, tmp_path)
    assert rc == 0
    for drop in DROPS:
        for asset in ASSETS:
            assert again["drops"][drop]["assets"][asset]["reused_previous_output"] is True


def _dry_run(capsys, raw, root, *extra) -> dict[str, str]:
    capsys.readouterr()
    assert main(["corpus", "--raw", str(raw), "--root", str(root), "--dry-run", *extra]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if " — " in line]
    assert not (root / "corpus" / "2026-11-08").exists()  # nothing ran
    return {line.split(":")[0]: line.split(" — ")[1] for line in lines}


def test_changed_filter_config_recomputes_from_filter_on(sample_raw, dagster_home, tmp_path, capsys):
    root = tmp_path / "out"
    assert _run(sample_raw, root, tmp_path, "--drop", "2026-11-01")[0] == 0
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("filters:\n  pii:\n    enabled: false\n")
    # --dry-run says so first, from the stages' own fingerprints, and runs nothing
    plan = _dry_run(capsys, sample_raw, root, "--drop", "2026-11-01", "--drop", "2026-11-08")
    assert plan["2026-11-01"] == "extract reuse, filter reuse, dedup reuse, tokenize reuse"
    assert plan["2026-11-08"] == "extract run, filter run, dedup run, tokenize run"
    plan = _dry_run(capsys, sample_raw, root, "--drop", "2026-11-01", "--config", str(cfg))
    assert plan["2026-11-01"] == "extract reuse, filter run, dedup run, tokenize run"
    rc, summary = _run(sample_raw, root, tmp_path, "--drop", "2026-11-01", "--config", str(cfg))
    assert rc == 0
    assets = summary["drops"]["2026-11-01"]["assets"]
    assert assets["extracted_documents"]["reused_previous_output"] is True
    for asset in ASSETS[1:]:
        assert assets[asset]["reused_previous_output"] is False


def test_later_drop_refuses_to_dedup_before_earlier_one(sample_raw, dagster_home, tmp_path):
    rc, summary = _run(sample_raw, tmp_path / "out", tmp_path, "--drop", "2026-11-08")
    assert rc == 1
    report = summary["drops"]["2026-11-08"]
    assert "filtered_documents" in report["assets"] and "deduplicated_documents" not in report["assets"]


def test_a_flat_folder_is_one_drop(sample_raw, dagster_home, tmp_path):
    flat = tmp_path / "exports" / "handbook"
    flat.mkdir(parents=True)
    for src in (sample_raw / "2026-11-01").rglob("*.md"):
        (flat / src.name).write_bytes(src.read_bytes())
    (tmp_path / "exports" / "unrelated").mkdir()  # a sibling folder must not become a drop
    (tmp_path / "exports" / "unrelated" / "x.txt").write_text("not part of this run")
    # the instance already knows a drop of another raw root, which must not count as an earlier drop here
    import dagster as dg

    dg.DagsterInstance.get().add_dynamic_partitions("drops", ["2000-01-01"])
    rc, summary = _run(flat, tmp_path / "out", tmp_path)
    assert rc == 0 and list(summary["drops"]) == ["handbook"]
    docs = _docs(tmp_path / "out", "handbook", "extracted")
    assert docs and all(d["metadata"]["source"].startswith("handbook/") for d in docs)
