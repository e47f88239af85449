"""Every generation method once on the real embedded SmolLM2-135M with tiny counts: the prompts, parsers
and drop paths hold up against a weak model's actual output. Only structure is asserted."""
import pytest

from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.llmdata.records import Chunk
from refinery.sft.methods import METHODS, run
from refinery.storage import data_folder

embedded = pytest.importorskip("refinery.llm.embedded_backend")

TINY = {
    "grounded_qa": {"max_chunks": 2},
    "self_instruct": {"instructions_per_round": 2, "instructions_per_prompt": 2, "seed_examples_per_prompt": 4},
    "evol_instruct": {"num_seed_instructions": 2},
    "topic_tree": {"depth": 1, "branching": 2, "max_leaves": 2},
    "conversation": {"num_conversations": 2, "turns": {"min": 1, "max": 2}},
}
CHUNKS = [
    Chunk(id="c1", doc_id="d1", source="hr/leave.md",
          text="Annual leave\n\nEmployees have 25 days of paid leave per year. Requests for more than ten "
               "consecutive days need four weeks' notice and the manager's approval."),
    Chunk(id="c2", doc_id="d2", source="finance/expenses.md",
          text="Expense claims\n\nReceipts are required for every expense above 25 EUR. Claims must be "
               "submitted within 30 days through the finance portal."),
]


def test_every_method_runs_on_the_embedded_model(tmp_path):
    try:
        backend = embedded.EmbeddedBackend(max_concurrency=1, batch_size=8, workers=1)
    except FileNotFoundError as err:
        pytest.skip(str(err))
    client = LLMClient(backend, ResponseCache(data_folder(str(tmp_path / "cache"))))
    total = 0
    for name in METHODS:
        options = {**TINY[name], "max_tokens": 128}
        result = run(name, CHUNKS, client, options, default_model=embedded.MODEL_NAME, seed=1)
        assert result.records or result.dropped, name
        assert all(d.reason and d.stage == "generate" for d in result.dropped)
        for rec in result.records:
            assert rec.method == name and rec.messages[-1].role == "assistant" and rec.output().strip()
        total += len(result.records)
    assert total > 0
