"""Issue 16: a hard LLM budget. A stage stops sending requests once its flow's fresh calls cost the budget,
writes what it got, fails in one line (spent, budget, requests left undone); a rerun with a higher budget
sends only the requests left. The real SFT generation stage against the fake OpenAI-compatible server, with a
non-zero price for its model."""
import argparse
import json
import re

import pytest

from orchestration.cli.session import overrides
from orchestration.profiles import resources_for
from refinery.llm.limits import BudgetExceededError, reset_spend
from refinery.llmdata.io import read_records
from refinery.llmdata.records import Dropped
from refinery.sft import flow
from refinery.storage import Layout
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.test_llm_failures import _cache_files, _chunks, _openai, _sft, answer

PRICING = {"models": {"local-model": {"input": 100.0, "output": 200.0}}}  # USD per Mtok: ~1 cent a request


def _bodies(records: list[dict]) -> list[str]:
    return [json.dumps(r["json"], sort_keys=True) for r in records if r["path"] == "/v1/chat/completions"]


def test_a_budget_stops_the_stage_and_a_higher_one_sends_only_the_rest(tmp_path):
    layout = Layout(str(tmp_path))
    _chunks(layout, 16)
    config = {"generation": {"grounded_qa": {"max_chunks": 16}}, "pricing": PRICING, "llm": {"budget_usd": 0.03}}
    with FakeOpenAIServer(responder=answer) as server:
        reset_spend()
        with pytest.raises(BudgetExceededError) as err:
            flow.generate(_sft(layout, _openai(server.base_url, max_concurrency=1), config), "grounded_qa")
        sent = server.calls
        message = str(err.value)
        match = re.fullmatch(r"grounded_qa: LLM budget reached: spent \$(\d+\.\d{4}) of \$0\.0300 \(sft\); "
                             r"(\d+) requests left undone \u2014 answers so far are cached: raise llm\.budget_usd "
                             r"or --budget and rerun to send only those", message)
        assert match, message
        assert 0 < sent < 16 and int(match[2]) == 16 - sent
        summary = layout.read_json(layout.sft("_state", "markers", "generated-grounded_qa.json"))["summary"]
        ledger = summary["llm"]["grounded_qa"]
        per_request = ledger["cost_usd"] / sent
        # stopped at the first request that reached the budget (one request in flight at a time)
        assert ledger["cost_usd"] >= 0.03 > ledger["cost_usd"] - 1.5 * per_request
        assert summary["llm_budget"] == {"budget_usd": 0.03, "spent_usd": ledger["cost_usd"], "scope": "sft",
                                         "skipped": 16 - sent}
        assert ledger["budget_skipped"] == 16 - sent and ledger["failures"] == {}
        # what it got is written; the rest is listed as dropped by the budget; answers are cached
        assert summary["records"] == sent and len(_cache_files(tmp_path)) == sent
        dropped = list(read_records(layout.at(layout.sft("generated", "grounded_qa")), flow.DROPPED, Dropped))
        assert [d.reason for d in dropped] == ["budget_exhausted"] * (16 - sent)

        # `--budget 1` (the LLM resource's budget_usd) overrides llm.budget_usd: only the rest is sent
        reset_spend()
        second = flow.generate(_sft(layout, _openai(server.base_url, budget_usd=1.0), config), "grounded_qa")
        resent = _bodies(server.records[sent:])
        assert len(resent) == 16 - sent and not set(resent) & set(_bodies(server.records[:sent]))
        assert second["records"] == 16 and second["llm"]["grounded_qa"]["cache_hits"] == sent
        assert second["llm_budget"]["skipped"] == 0 and second["llm_budget"]["budget_usd"] == 1.0
        third = flow.generate(_sft(layout, _openai(server.base_url, budget_usd=1.0), config), "grounded_qa")
        assert third["reused_previous_output"] and server.calls == 16


def test_a_budget_of_zero_sends_nothing(tmp_path):
    layout = Layout(str(tmp_path))
    _chunks(layout, 4)
    with FakeOpenAIServer(responder=answer) as server:
        reset_spend()
        with pytest.raises(BudgetExceededError, match=r"spent \$0\.0000 of \$0\.0000 \(sft\); 4 requests left"):
            flow.generate(_sft(layout, _openai(server.base_url, budget_usd=0.0), {"pricing": PRICING}),
                          "grounded_qa")
        assert server.calls == 0


def test_budget_flag_reaches_the_llm_resource():
    args = argparse.Namespace(budget=2.5, root=None, raw=None, config=None, llm=None)
    assert resources_for("local", overrides(args))["llm"].budget_usd == 2.5
    assert resources_for("local", overrides(argparse.Namespace()))["llm"].budget_usd is None
