"""The corpus flow on one sample drop, once per session with the local runner: the reference every cluster
runner's outputs must equal."""
import hashlib

import numpy as np
import polars as pl
import pytest
from datatrove.io import get_datafolder

from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.dedup_stage import dedup
from refinery.corpus.report import iter_jsonl
from refinery.runners import local_runner
from refinery.storage import Layout
from tests.conftest import SAMPLES

DROP = "2026-11-01"
# two tasks per stage (so ranks are split) and two MinHash buckets: every stage kind runs, on few tasks
CONFIG = {"execution": {"tasks": 2}, "dedup": {"minhash": {"num_buckets": 2}}}


def run_flow(runner, root) -> dict:
    """Every corpus stage on DROP; returns its stage summaries and `outputs`."""
    corpus = flow.Corpus(Layout(str(root)), CorpusConfig.model_validate(CONFIG), runner, str(SAMPLES))
    results = [flow.extract(corpus, DROP), flow.filter_documents(corpus, DROP), dedup(corpus, DROP, []),
               flow.tokenize(corpus, DROP)]
    return {"summaries": [(r.stage, r.summary.get("documents_out"), r.summary.get("tokens")) for r in results],
            **outputs(root)}


def outputs(root) -> dict:
    """What the corpus flow produced for DROP under `root`: per stage the (id, sha256 of text) of each
    document, the MinHash clusters, and each tokenized shard's per-document token counts and bytes' hash."""
    drop = root / "corpus" / DROP
    digest = {}
    for stage in ("extracted", "filtered", "deduplicated"):
        docs = iter_jsonl(get_datafolder(str(drop / stage)))
        digest[stage] = sorted((d["id"], hashlib.sha256(d["text"].encode()).hexdigest()) for d in docs)
    digest["clusters"] = pl.read_parquet(drop / "minhash_clusters" / "clusters.parquet").sort("id").rows()
    for shard in sorted((drop / "tokenized").glob("*.ds")):
        ends = np.fromfile(f"{shard}.index", dtype=np.uint64).astype(np.int64)  # end offset (in tokens) of each document
        digest[shard.name] = (np.diff(ends, prepend=0).tolist(), hashlib.sha256(shard.read_bytes()).hexdigest())
    return digest


@pytest.fixture(scope="session")
def local_outputs(tmp_path_factory) -> dict:
    digest = run_flow(local_runner(2), tmp_path_factory.mktemp("local"))
    assert digest["deduplicated"] and any(name.endswith(".ds") for name in digest)  # the reference is not empty
    return digest
