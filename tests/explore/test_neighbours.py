"""`refinery neighbours`: exact cosine over the cached vectors. A record comes back first, a near copy planted
beside it next; --query finds a document by its meaning; the search itself agrees with brute force."""
from __future__ import annotations

import gzip
import json

import numpy as np

from orchestration.cli import main
from refinery.explore.vectors import nearest, neighbour_graph
from tests.explore.conftest import DROP


def _neighbours(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["neighbours", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _documents(root):
    docs = []
    for path in sorted((root / "corpus" / DROP / "deduplicated").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            docs += [json.loads(line) for line in f if line.strip()]
    return docs


def test_a_record_comes_first_and_its_planted_near_copy_next(root_copy, capsys):
    docs = _documents(root_copy)
    original = max(docs, key=lambda d: len(d["text"]) if len(d["text"]) < 3000 else 0)
    words = original["text"].split(" ")
    words[len(words) // 2] = "changed"  # one word edited: what a near-duplicate that dedup missed looks like
    copy = {"id": "planted-near-copy", "text": " ".join(words), "metadata": {**original["metadata"], "source": "x"}}
    with gzip.open(root_copy / "corpus" / DROP / "deduplicated" / "999_00000.jsonl.gz", "wt") as f:
        f.write(json.dumps(copy) + "\n")
    out = _neighbours(capsys, original["id"], "--root", str(root_copy), "-k", "5")  # found without --target
    hits = out["neighbours"]
    assert out["target"] == f"corpus:{DROP}" and len(hits) == 6  # itself + k
    assert hits[0]["id"] == original["id"] and hits[0]["similarity"] > 0.999
    assert hits[1]["id"] == "planted-near-copy" and hits[1]["similarity"] > 0.95
    assert hits[2]["similarity"] < hits[1]["similarity"]
    # the text form: one line per neighbour, rank, similarity, id, format and source, first line of text
    capsys.readouterr()
    assert main(["neighbours", "planted-near-copy", "--root", str(root_copy), "--target", DROP, "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["1", "1.000", "planted-near-copy"]
    assert lines[2].split()[2] == original["id"] and len(lines) == 4


def test_an_sft_record_and_a_query(explore_root, capsys):
    records = [json.loads(line) for line in (explore_root / "sft" / "dataset" / "records.jsonl").read_text().splitlines()]
    hits = _neighbours(capsys, records[0]["id"], "--root", str(explore_root), "-k", "3")["neighbours"]
    assert hits[0]["id"] == records[0]["id"] and hits[0]["label"].startswith(records[0]["method"])
    # semantic search: most of a one-window document (the corpus semantic dedup's vectors: mean of ~1,200-character
    # windows) brings it back first among every drop's documents
    doc = max((d for d in _documents(explore_root) if len(d["text"]) < 1100), key=lambda d: len(d["text"]))
    query = doc["text"][:int(len(doc["text"]) * 0.8)]
    out = _neighbours(capsys, "--query", query, "--target", "corpus", "--root", str(explore_root))
    assert out["neighbours"][0]["id"] == doc["id"] and len(out["neighbours"]) == 10


def test_exact_search_agrees_with_brute_force_and_puts_each_record_first():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors[7] = vectors[3]  # an exact duplicate: both must still list themselves first
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    idx, sims = nearest(vectors, vectors[:50], 6)
    brute = np.argsort(-(vectors[:50] @ vectors.T), axis=1, kind="stable")[:, :6]
    assert np.allclose(sims, np.take_along_axis(vectors[:50] @ vectors.T, brute, axis=1), atol=1e-6)
    graph, graph_sims = neighbour_graph(vectors, 5)
    assert (graph[:, 0] == np.arange(300)).all() and np.allclose(graph_sims[:, 0], 1, atol=1e-6)
    assert graph[3, 1] == 7 and graph[7, 1] == 3
