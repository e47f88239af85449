"""Issue 16: every LLM stage reports its progress (requests done/total, cache hits, failures, tokens/s,
cost, ETA): a bar on a terminal, a logged line once a minute and at the end otherwise, in Dagster's run log
too. The real SFT generation stage against the fake OpenAI-compatible server."""
import io
import logging
import shutil
from pathlib import Path

import dagster as dg

from orchestration.cli import run_sft_jobs
from refinery.llm.limits import reset_spend
from refinery.llm.progress import Progress
from refinery.sft import flow
from refinery.storage import Layout
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.test_llm_failures import _chunks, _openai, _sft, answer
from tests.test_sft_flow import _defs, _write_deduplicated

PRICING = {"models": {"local-model": {"input": 100.0, "output": 200.0}}}
REPO = Path(__file__).resolve().parents[2]


def test_progress_counters_reach_their_totals(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="refinery.progress")
    layout = Layout(str(tmp_path))
    _chunks(layout, 12)
    config = {"generation": {"grounded_qa": {"max_chunks": 12}}, "pricing": PRICING, "llm": {"max_failure_share": 0.5}}
    reset_spend()
    with FakeOpenAIServer(responder=answer) as server:
        server.inject("400", times=2)  # two terminal failures (cached as such)
        first = flow.generate(_sft(layout, _openai(server.base_url, max_concurrency=1), config), "grounded_qa")
        p = first["llm_progress"]
        assert (p["stage"], p["done"], p["total"], p["cache_hits"], p["failures"]) == ("grounded_qa", 12, 12, 0, 2)
        assert p["output_tokens"] == first["llm"]["grounded_qa"]["output_tokens"] > 0 and p["tokens_per_s"] > 0
        assert p["cost_usd"] == first["llm"]["grounded_qa"]["cost_usd"] > 0 and p["eta_s"] == 0
        # the stage's last line, logged (the CLI prints it on stderr, Dagster keeps it in the run's log)
        [line] = [r.getMessage() for r in caplog.records if r.name == "refinery.progress"]
        assert line.startswith("grounded_qa: 12/12 requests, 0 cached, 2 failed, ") and ", took " in line

        layout.remove(layout.sft("generated"))
        layout.remove(layout.sft("_state"))
        again = flow.generate(_sft(layout, _openai(server.base_url), config), "grounded_qa")["llm_progress"]
        assert (again["done"], again["total"], again["cache_hits"], again["failures"]) == (12, 12, 12, 2)
        assert server.calls == 12


def test_a_line_a_minute_without_a_terminal_and_a_bar_on_one(caplog):
    caplog.set_level(logging.INFO, logger="refinery.progress")
    quiet = Progress("judge", interval=0.0, stream=io.StringIO())  # not a TTY: no bar, logged lines
    quiet.add(3)
    quiet.update(output_tokens=10, cost_usd=0.5)
    quiet.update(cache_hit=True)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("judge: 1/3 requests, 0 cached, 0 failed, ") and "$0.5000" in lines[0]
    assert lines[1].startswith("judge: 2/3 requests, 1 cached") and "ETA" in lines[1]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    bar = Progress("grounded_qa", stream=term)
    bar.add(2)
    bar.update(output_tokens=5)
    bar.update(failed=True)
    bar.close()
    assert "grounded_qa" in term.getvalue() and "2/2" in term.getvalue() and "1 failed" in term.getvalue()


def test_the_dagster_run_log_has_the_progress_line(tmp_path, dagster_home):
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")  # python_logs: refinery.progress
    root = tmp_path / "data"
    _write_deduplicated(root)
    reset_spend()
    with FakeOpenAIServer(responder=answer) as server:
        runs = run_sft_jobs(_defs(root, _openai(server.base_url)), dg.DagsterInstance.get(), methods=["grounded_qa"])
    run = runs["grounded_qa"]
    assert run.success
    messages = [e.user_message for e in dg.DagsterInstance.get().all_logs(run.run_id)]
    done = [m for m in messages if m.startswith("grounded_qa: ") and " requests, " in m]
    assert done and "took" in done[-1], messages[-20:]
