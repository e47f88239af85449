"""Issue 16 for the preference loop: the estimate of a round's candidates and AI feedback equals what the
stages then send, and a budget stops a round's stage in one line, a rerun with more sending only the rest.
The real round stages on local storage against the fake OpenAI-compatible server."""
import json

import pytest

from refinery.config import RefineryConfig
from refinery.llm.limits import BudgetExceededError, reset_spend
from refinery.llmdata.records import SFTRecord, Turn
from refinery.preference import flow
from refinery.preference.estimate import estimate_round
from refinery.stage import run_once
from refinery.storage import Layout
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.test_llm_failures import _openai

PRICING = {"models": {"local-model": {"input": 100.0, "output": 200.0}}}


def responder(body: dict) -> str:
    last = body["messages"][-1]
    if last["role"] == "assistant" and last["content"] == "Rating:":
        return " 4\nRationale: fine."
    return f"An answer to {json.dumps(last['content'])[:40]} (seed {body.get('seed')})"


def _round(layout: Layout, llm, preference: dict | None = None) -> flow.Round:
    config = RefineryConfig.model_validate({"sft": {"pricing": PRICING}, "preference": {
        "prompts": {"per_round": 6, "eval_prompts": 2},
        "candidates": {"policy": {"name": "policy", "samples": 2, "max_tokens": 64}},
        "ai_feedback": {"mode": "ratings", "ratings": {"aspects": ["helpfulness", "honesty"]}},
        **(preference or {})}})
    return flow.Round(layout, config.preference, config.sft.export, "round-001", llm, config.sft.pricing)


def _sft_dataset(layout: Layout) -> None:
    records = [SFTRecord(id=f"sft-{i}", method="grounded_qa", messages=[
        Turn(role="user", content=f"How much notice does policy {i} require?"),
        Turn(role="assistant", content=f"Policy {i} requires {i + 1} weeks of notice.")]) for i in range(40)]

    def write() -> dict:
        with layout.at(layout.sft("dataset")).open("records.jsonl", "wt") as f:
            f.writelines(r.model_dump_json() + "\n" for r in records)
        return {"records": len(records)}

    run_once(layout, "dataset", "sft-fp", write)


def test_round_estimate_is_what_the_stages_send(tmp_path):
    layout = Layout(str(tmp_path))
    _sft_dataset(layout)
    reset_spend()
    with FakeOpenAIServer(responder=responder) as server:
        llm = _openai(server.base_url)
        r = _round(layout, llm)
        assert estimate_round(r)["note"].startswith("round-001 has no prompts yet")
        prompts = flow.build_prompts(r)["prompts"]
        est = estimate_round(r)
        cand = est["stages"]["round-001 candidates"]["local-model"]
        assert server.calls == 0 and cand["exact"]
        generated = flow.generate(_round(layout, llm))
        assert server.calls == cand["calls"] == prompts * 2 + 2  # 2 samples a prompt + held-out answers
        judge_guess = est["stages"]["round-001 ai_feedback"]["local-model"]
        assert not judge_guess["exact"] and judge_guess["calls"] == generated["candidates"] * 2

        est = estimate_round(_round(layout, llm))
        assert est["stages"]["round-001 candidates"]["local-model"]["cache_hits"] == cand["calls"]
        judge_est = est["stages"]["round-001 ai_feedback"]["local-model"]
        assert judge_est["exact"]
        sent = server.calls
        flow.ai_feedback(_round(layout, llm))
        assert server.calls - sent == judge_est["calls"] == generated["candidates"] * 2


def test_a_budget_stops_a_round_stage_and_more_sends_only_the_rest(tmp_path):
    layout = Layout(str(tmp_path))
    _sft_dataset(layout)
    with FakeOpenAIServer(responder=responder) as server:
        r = _round(layout, _openai(server.base_url, max_concurrency=1), {"llm": {"budget_usd": 0.01}})
        total = flow.build_prompts(r)["prompts"] * 2 + 2  # 2 samples a prompt + the held-out answers
        reset_spend()
        with pytest.raises(BudgetExceededError, match=r"^round-001 candidates: LLM budget reached: spent \$0\.01\d\d "
                                                      r"of \$0\.0100 \(preference\); \d+ requests left undone"):
            flow.generate(r)
        first = server.calls
        assert 0 < first < total
        reset_spend()
        summary = flow.generate(_round(layout, _openai(server.base_url, budget_usd=5.0)))
        assert server.calls == total and summary["llm_budget"]["skipped"] == 0
        assert sum(v["cache_hits"] for v in summary["llm"].values()) == first
