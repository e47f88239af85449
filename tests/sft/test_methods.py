import re

import pytest
from pydantic import ValidationError

from refinery.llm.cache import ResponseCache
from refinery.llm.client import LLMClient
from refinery.llm.types import LLMCallError
from refinery.llmdata.records import Chunk
from refinery.sft.methods import METHODS, run
from refinery.sft.methods.base import parse_fields, parse_list, seed_tasks
from refinery.sft.methods.conversation import _clean_user
from refinery.storage import data_folder
from tests.fakes.plausible import plausible
from tests.fakes.scripted import ScriptedBackend

MODEL = "test-model"
CHUNKS = [
    Chunk(id="c1", doc_id="d1", source="hr/leave-policy.md", index=0,
          text="Leave policy\n\nEmployees give four weeks' notice before taking more than ten days of leave."),
    Chunk(id="c2", doc_id="d1", source="hr/leave-policy.md", index=1,
          text="Unused leave of up to five days carries over and expires on 31 March."),
    Chunk(id="c3", doc_id="d2", source="finance/expenses.md", index=0,
          text="Expense claims\n\nReceipts are required for every expense above 25 EUR."),
]
@pytest.fixture
def cache(tmp_path):
    return ResponseCache(data_folder(str(tmp_path / "cache")))


def go(method, cache, options=None, chunks=CHUNKS, responder=plausible, seed=0):
    backend = ScriptedBackend(responder)
    return run(method, chunks, LLMClient(backend, cache), options or {}, default_model=MODEL, seed=seed), backend


def roles(record):
    return [t.role for t in record.messages]


def assert_alternating(record):
    turns = [t.role for t in record.messages if t.role != "system"]
    assert turns and turns[0] == "user" and turns[-1] == "assistant"
    assert all(a != b for a, b in zip(turns, turns[1:]))


# -- contract ----------------------------------------------------------------------------------------
def test_registry_options_are_strict_and_small():
    assert set(METHODS) == {"grounded_qa", "self_instruct", "evol_instruct", "topic_tree", "conversation"}
    for name, (options_class, _) in METHODS.items():
        defaults = options_class()
        assert defaults.model is None and defaults.max_tokens <= 256
        with pytest.raises(ValidationError):
            options_class(no_such_option=1)
    with pytest.raises(ValueError, match="unknown generation method"):
        run("nope", [], None)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_makes_wellformed_records_and_reruns_for_free(method, cache):
    result, backend = go(method, cache)
    assert result.records, result.dropped
    calls = len(backend.calls)
    for rec in result.records:
        assert rec.method == method and rec.model == MODEL and rec.id
        assert_alternating(rec)
        assert rec.templates and all(ref.startswith(f"{name}@v1:") for name, ref in rec.templates.items())
        assert rec.params == {"temperature": 0.7, "top_p": 0.95}
    assert all(r.seed is not None for r in backend.calls)  # explicit seeds make reruns identical requests
    assert len({r.id for r in result.records}) == len(result.records)
    # a new client over the same cache: identical requests, every one answered from the cache
    again, backend2 = go(method, cache)
    assert len(backend2.calls) == 0 and len(backend.calls) == calls
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in result.records]
    assert [d.model_dump() for d in again.dropped] == [d.model_dump() for d in result.dropped]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_failed_calls_become_dropped_with_reason(method, cache):
    result, backend = go(method, cache, responder=lambda r: LLMCallError("rate_limited", "429"))
    assert backend.calls and not result.records
    assert result.dropped and {d.reason for d in result.dropped} == {"rate_limited"}
    assert all(d.stage == "generate" and d.request["model"] == MODEL and d.request["template"] for d in result.dropped)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_garbage_outputs_become_dropped_with_reason(method, cache):
    result, _ = go(method, cache, responder=lambda r: "" if r.prefill is None else " ...")
    assert not result.records
    assert result.dropped and {d.reason for d in result.dropped} <= {"invalid_output", "empty"}


def test_model_override_and_per_method_sampling(cache):
    result, backend = go("grounded_qa", cache, {"model": "other", "temperature": 0.2, "top_p": None, "max_chunks": 1})
    assert {r.model for r in backend.calls} == {"other"} and result.records[0].model == "other"
    assert backend.calls[0].temperature == 0.2 and backend.calls[0].top_p is None
    assert result.records[0].params == {"temperature": 0.2, "top_p": None}


# -- grounded QA --------------------------------------------------------------------------------------
def test_grounded_qa_keeps_chunk_and_drops_unsupported(cache):
    result, backend = go("grounded_qa", cache)
    assert sorted(r.context for r in backend.calls) == sorted(c.text for c in CHUNKS)
    assert {r.chunk_id for r in result.records} == {"c1", "c3"}
    assert {r.source for r in result.records} == {"hr/leave-policy.md", "finance/expenses.md"}
    for rec in result.records:
        assert roles(rec) == ["user", "assistant"] and rec.messages[0].content.startswith("What does the")
        assert "grounded_qa" in rec.templates
    [unsupported] = result.dropped
    assert unsupported.reason == "unsupported" and unsupported.request["chunk_id"] == "c2"


def test_grounded_qa_chunk_cap_spreads_documents_and_context_option(cache):
    result, backend = go("grounded_qa", cache, {"max_chunks": 2, "include_context_in_prompt": True})
    assert {r.chunk_id for r in result.records} == {"c1", "c3"}  # one per document before a second of d1
    rec = next(r for r in result.records if r.chunk_id == "c3")
    assert rec.messages[0].content.startswith("Reference text:\nExpense claims") and rec.meta["include_context"]


def test_grounded_qa_several_questions_and_truncation(cache):
    class Truncating(ScriptedBackend):
        def complete(self, request):
            return super().complete(request).model_copy(update={"stop_reason": "max_tokens"})

    answer = " Q one?\nAnswer: A one.\n\nQuestion: Q two?\nAnswer: A two, cut"
    backend = Truncating(lambda r: answer)
    result = run("grounded_qa", CHUNKS[:1], LLMClient(backend, cache), {"questions_per_chunk": 2}, MODEL)
    assert backend.calls[0].max_tokens == 512
    assert [r.messages[0].content for r in result.records] == ["Q one?"]
    assert [d.reason for d in result.dropped] == ["truncated"]


# -- Self-Instruct -------------------------------------------------------------------------------------
def test_self_instruct_filters_classifies_and_grows_the_pool(cache):
    opts = {"rounds": 2, "instructions_per_round": 2, "instructions_per_prompt": 4}
    result, backend = go("self_instruct", cache, opts)
    reasons = {d.reason: d for d in result.dropped}
    assert "rouge_similar" in reasons and "Summarise the following email" in reasons["rouge_similar"].detail
    assert reasons["keyword"].request["instruction"].startswith("Draw a diagram")
    by_round = {r: [rec for rec in result.records if rec.meta["round"] == r] for r in (1, 2)}
    assert len(by_round[1]) == 2 and len(by_round[2]) == 2
    # round 2's prompt shows round 1's machine tasks: the pool grew
    assert any((r.prefill or "").startswith("Task ") and "kickoff" in r.messages[0].content for r in backend.calls)
    assert all(any(i.startswith("machine-") for i in rec.meta["seed_ids"]) for rec in by_round[2])
    assert not any(i.startswith("machine-") for rec in by_round[1] for i in rec.meta["seed_ids"])
    for rec in result.records:
        clf = rec.meta["is_classification"]
        assert rec.meta["generation"] == ("output-first" if clf else "input-first")
        expected = {"self_instruct_instructions", "self_instruct_classify",
                    "self_instruct_output_first" if clf else "self_instruct_input_first"}
        assert set(rec.templates) == expected
    urgency = next(r for r in result.records if "urgency" in r.instruction())
    assert urgency.meta["is_classification"] and urgency.output() == "high"
    assert urgency.instruction().endswith(
        "\n\nOur whole team has been locked out of the billing system since this morning.")
    agenda = next(r for r in result.records if "agenda" in r.instruction())
    assert not agenda.meta["is_classification"] and agenda.output().startswith("1. Welcome")
    instance_calls = {r.prefill for r in backend.calls if r.prefill in ("Input:", "Class label:")}
    assert instance_calls == {"Input:", "Class label:"}


def test_self_instruct_seed_file_is_sound():
    tasks = seed_tasks()
    assert len(tasks) >= 40 and len({t["id"] for t in tasks}) == len(tasks)
    assert 5 <= sum(t["is_classification"] for t in tasks) <= 12
    assert all(t["instruction"] and t["instances"] and t["instances"][0]["output"] for t in tasks)


# -- Evol-Instruct -------------------------------------------------------------------------------------
def test_evol_instruct_eliminates_and_evolves_quality(cache):
    given = ["Plan a team offsite for twelve people.", "LEAK: describe the onboarding process.",
             "SAME: list three meeting rules.", "SHORT: explain budgets.", "SORRY: write a limerick about audits."]
    opts = {"num_seed_instructions": 1, "instructions": given, "operations": {"deepening": 1}}
    result, _ = go("evol_instruct", cache, opts)
    reasons = sorted(d.reason for d in result.dropped)
    assert reasons == ["prompt_leak", "response_sorry", "too_short", "unchanged"]
    assert len(result.records) == 2
    rec = next(r for r in result.records if r.meta["root_id"] == "given-0")
    assert rec.instruction() == f"{given[0]} Explain each step and give one concrete example."
    assert rec.output().startswith("Improved: A careful answer to:")  # EvolQuality's rewrite kept
    assert rec.meta["evolution"] == ["deepening"] and len(rec.meta["quality"]) == 1
    assert rec.meta["root_instruction"] == given[0] and rec.meta["generation"] == 1
    assert set(rec.templates) == {"evol_in_depth", "respond", "evol_quality"}


def test_evol_instruct_generations_breadth_and_no_quality(cache):
    opts = {"num_seed_instructions": 2, "generations": 2, "operations": {"in_breadth": 1}, "evol_quality_steps": 0}
    result, _ = go("evol_instruct", cache, opts)
    assert not result.dropped
    assert sorted(r.meta["generation"] for r in result.records) == [1, 1, 2, 2]  # every generation is kept
    assert all(r.meta["evolution"] == ["in_breadth"] * r.meta["generation"] for r in result.records)
    assert all(r.meta["quality"] == [] and set(r.templates) == {"evol_in_breadth", "respond"} for r in result.records)
    gen2 = next(r for r in result.records if r.meta["generation"] == 2)
    assert gen2.instruction().startswith("Draft a checklist for a task like this one: Draft a checklist")
    with pytest.raises(ValidationError):
        go("evol_instruct", cache, {"operations": {"teleport": 1}})


# -- topic tree ----------------------------------------------------------------------------------------
def test_topic_tree_expands_to_capped_leaves(cache):
    result, backend = go("topic_tree", cache, {"root_topics": ["Expenses"]})
    paths = [r.meta["topic_path"] for r in result.records]
    assert len(paths) == 4 and all(len(p) == 3 and p[0] == "Expenses" for p in paths)
    assert {p[1] for p in paths} == {"Expenses basics", "Expenses in practice"}  # branching 2 of 3 offered
    assert len(backend.calls) == 1 + 2 + 4 + 4  # root, two subtopics, four leaves' prompts, four answers
    for rec in result.records:
        assert roles(rec) == ["user", "assistant"] and rec.chunk_id is None
        assert set(rec.templates) == {"topic_tree_expand", "topic_tree_prompts", "respond"}
        assert rec.instruction() == f"How should I handle {rec.meta['topic_path'][-1]} for a new client?"


def test_topic_tree_roots_come_from_documents(cache):
    _, backend = go("topic_tree", cache, {"depth": 1, "max_leaves": 4, "branching": 2})
    roots = {re.search(r'subtopics of "(.+?)"', r.messages[0].content).group(1)
             for r in backend.calls if "subtopics of" in r.messages[0].content}
    assert roots == {"Leave policy", "Expense claims"}
    _, backend = go("topic_tree", cache, {"depth": 0, "max_leaves": 2}, chunks=[])
    assert len([r for r in backend.calls if r.prefill == "1."]) == 2  # generic roots, no expansion


def test_list_parsing_is_robust():
    text = "Here are the topics:\n1. Alpha\n2) Beta\n- Gamma\n* **Delta**\nTask 7: Epsilon\n\n3. alpha\n"
    assert parse_list(text) == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    assert parse_list("Budget planning for 2025\nQ3 review") == ["Budget planning for 2025", "Q3 review"]
    assert parse_list("1. Alpha\n2. Beta\nI hope these help!") == ["Alpha", "Beta"]
    with pytest.raises(ValueError):
        parse_list("\n - \n")
    blocks = parse_fields("Question: A?\nAnswer: line one\nline two\nQuestion: B?\n", ("Question", "Answer"))
    assert blocks == [{"Question": "A?", "Answer": "line one\nline two"}]


# -- conversation -------------------------------------------------------------------------------------
def test_conversation_attributes_follow_configured_weights(cache):
    opts = {"num_conversations": 8, "personas": {"an auditor": 1.0}, "emotions": {"calm": 1, "angry": 0},
            "turns": {"min": 2, "max": 3}}
    result, backend = go("conversation", cache, opts)
    assert len(result.records) == 8
    assert {r.meta["persona"] for r in result.records} == {"an auditor"}
    assert {r.meta["emotion"] for r in result.records} == {"calm"}
    assert {r.meta["turns"] for r in result.records} == {2, 3}
    assert len({r.meta["knowledge_level"] for r in result.records}) > 1
    for rec in result.records:
        assert_alternating(rec)
        assert len(rec.user_turns()) == rec.meta["turns"] and roles(rec)[0] == "user"
        assert not rec.messages[0].content.startswith("User:")  # the simulator's label is stripped
        assert rec.chunk_id in {"c1", "c2", "c3"} and rec.meta["grounded"]
        assert set(rec.templates) == {"conversation_user", "conversation_assistant"}
    # the assistant sees the conversation so far as real messages, grounded on its chunk
    deep = [r for r in backend.calls if r.system.startswith("You are a helpful assistant") and len(r.messages) == 5]
    assert deep and all(r.context in {c.text for c in CHUNKS} for r in deep)
    assert [m.role for m in deep[0].messages] == ["user", "assistant", "user", "assistant", "user"]


def test_conversation_empty_turn_drops_the_conversation_with_reason(cache):
    opts = {"num_conversations": 4, "personas": {"EMPTY speaker": 1, "a manager": 1}, "include_context_in_prompt": True}
    result, _ = go("conversation", cache, opts)
    empties = result.dropped
    assert empties and {d.reason for d in empties} == {"empty"}
    assert all(d.request["role"] == "user" and d.request["turn"] == 0 for d in empties)
    assert len(result.records) + len(empties) == 4
    assert all(r.meta["persona"] == "a manager" and roles(r)[0] == "system" for r in result.records)
    assert all(r.messages[0].content.startswith("Reference text:\n") for r in result.records)


def test_clean_user_message():
    assert _clean_user('User: "How many days?"\nAssistant: Ten.') == "How many days?"
    assert _clean_user("**You:** hello") == "hello"
