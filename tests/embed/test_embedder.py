"""Embeddings: the bundled model loads with no network and tells paraphrases from different questions; the
cache keys by text and survives a new process and a torn shard; the endpoint backends speak their APIs
(a local OpenAI-compatible server, moto's sagemaker-runtime)."""
import json
import urllib.request

import numpy as np
import pytest

from refinery.embed.backends import SageMakerEmbeddingBackend
from refinery.embed.embedder import open_embedder
from refinery.embed.options import EmbeddingOptions
from refinery.storage import Layout
from tests.fakes.openai_server import FakeOpenAIServer

# real questions about Debian tools, each with a rewording and an unrelated question on the same tool
PAIRS = [
    ("How do I configure apt to use an HTTP proxy?", "What is the way to make apt go through an HTTP proxy?",
     "How can I list the packages installed on a Debian system?"),
    ("What does git rebase --onto do?", "Explain what the --onto option of git rebase is for.",
     "How does git merge resolve conflicting changes?"),
    ("Which SQLite pragma enables foreign key constraints?", "How do you turn on foreign key enforcement in SQLite?",
     "Which SQLite pragma sets the journal mode?"),
]


@pytest.fixture(scope="module")
def bundled():
    return open_embedder(EmbeddingOptions(), None)


def test_bundled_model_separates_paraphrases(bundled):
    for question, reworded, other in PAIRS:
        v = bundled.embed([question, reworded, other])
        assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
        assert v[0] @ v[1] > 0.7 and v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_cache_reuses_vectors_across_processes(tmp_path, bundled):
    layout = Layout(str(tmp_path))
    first = open_embedder(EmbeddingOptions(), layout)
    first.backend._model = bundled.backend.model  # one load per test session
    texts = [q for pair in PAIRS for q in pair]
    vectors = first.embed(texts + texts[:2])
    assert first.stats.computed == len(texts)
    again = open_embedder(EmbeddingOptions(), layout)
    again.backend._model = None  # must not be needed: everything is cached
    assert np.array_equal(again.embed(texts), vectors[:len(texts)]) and again.stats.computed == 0
    assert again.backend._model is None


def test_torn_shard_is_embedded_again(tmp_path, bundled):
    layout = Layout(str(tmp_path))
    e = open_embedder(EmbeddingOptions(), layout)
    e.backend._model = bundled.backend.model
    e.embed(["first text"])
    cache_dir = tmp_path / "embedding_cache" / e.model_id
    (shard,) = cache_dir.glob("*.npz")
    shard.write_bytes(shard.read_bytes()[:40])  # a run killed mid-write on a store without atomic rename
    e2 = open_embedder(EmbeddingOptions(), layout)
    e2.backend._model = bundled.backend.model
    e2.embed(["first text"])
    assert e2.stats.computed == 1


def test_openai_compatible_backend():
    with FakeOpenAIServer() as server:
        options = EmbeddingOptions(backend="openai", base_url=server.base_url + "/v1", model="bge-m3", batch_size=2)
        e = open_embedder(options, None, api_key="sk-test")
        v = e.embed(["apt proxy settings", "apt proxy", "sqlite journal mode"])
        assert v.shape == (3, 64) and v[0] @ v[1] > v[0] @ v[2]
        sent = server.requests("/v1/embeddings")
        assert [len(r["input"]) for r in sent] == [2, 1] and sent[0]["model"] == "bge-m3"
        assert "sk-test" not in repr(e.backend)


def test_sagemaker_backend_pools_token_vectors(moto_server):
    # a feature-extraction container answers per token ([[tokens x dim]] per input): mean-pooled here
    replies = [[[[1.0, 0.0], [0.0, 1.0]]], [[[3.0, 4.0]]]]
    data = json.dumps({"region": "us-east-1", "results": [
        {"Body": json.dumps(r), "ContentType": "application/json"} for r in replies]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/static/sagemaker/endpoint-results",
                                                  data=data, method="POST"))
    backend = SageMakerEmbeddingBackend("embed-endpoint", region_name="us-east-1", endpoint_url=moto_server,
                                        batch_size=1)
    v = backend.embed(["first text for the endpoint", "second text for the endpoint"])
    assert np.allclose(v, [[0.7071068, 0.7071068], [0.6, 0.8]])


def test_incomplete_endpoint_settings_are_refused():
    with pytest.raises(ValueError, match="base_url"):
        EmbeddingOptions(backend="openai")
    with pytest.raises(ValueError, match="endpoint_name"):
        EmbeddingOptions(backend="sagemaker")
