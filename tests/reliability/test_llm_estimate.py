"""Issue 16: `--estimate` counts the requests each SFT stage will send, with none sent: the estimate equals
what the run then sends (the fake server counts them), its input tokens are within 30% of the fake's usage
(counted here with the bundled SmolLM2 BPE tokenizer, not the fakes' usual whitespace words, which undercount
real tokens by 1.4-1.75x on the prompt templates), and cached answers are subtracted."""
from tokenizers import Tokenizer

from refinery.llm.limits import reset_spend
from refinery.sft import flow
from refinery.sft.estimate import estimate_sft
from refinery.storage import Layout
from refinery.tokenize import DEFAULT_TOKENIZER
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reliability.test_llm_failures import _chunks, _openai, _sft, answer

PRICING = {"models": {"local-model": {"input": 100.0, "output": 200.0}}}


def judge_or_answer(body: dict) -> str:
    last = body["messages"][-1]
    if last["role"] == "assistant" and last["content"] == "Rating:":
        return " 4\nRationale: The answer follows the instruction and is supported by the reference."
    return answer(body)


def _input_tokens(summary: dict) -> int:
    return sum(v["input_tokens"] for v in summary["llm"].values())


def test_the_estimate_is_what_the_run_sends(tmp_path):
    layout = Layout(str(tmp_path))
    _chunks(layout, 12)
    config = {"generation": {"grounded_qa": {"max_chunks": 10}}, "pricing": PRICING,
              "judge": {"aspects": ["helpfulness", "honesty"], "threshold": 1.0},
              "filters": {"near_duplicate": {"enabled": False}}}
    reset_spend()
    tokenizer = Tokenizer.from_file(str(DEFAULT_TOKENIZER))
    with FakeOpenAIServer(responder=judge_or_answer) as server:
        server.count_tokens = lambda text: len(tokenizer.encode(text).ids)  # a real BPE count, not words
        sft = _sft(layout, _openai(server.base_url), config)
        before = estimate_sft(sft, {})
        assert server.calls == 0  # nothing sent
        gen = before["stages"]["grounded_qa generate"]["local-model"]
        assert gen["calls"] == 10 and gen["cache_hits"] == 0 and gen["exact"]
        assert gen["output_tokens_max"] == 10 * 256 and gen["usd_max"] > 0
        # the judge before any record exists: a formula (aspects x records), marked approximate
        judge_guess = before["stages"]["grounded_qa judge"]["local-model"]
        assert judge_guess["calls"] == 10 * 2 and not judge_guess["exact"]

        generated = flow.generate(sft, "grounded_qa")
        assert server.calls == gen["calls"] == generated["llm"]["grounded_qa"]["calls"]
        assert abs(gen["input_tokens"] - _input_tokens(generated)) <= 0.3 * _input_tokens(generated)

        flow.filter_records_of(sft, "grounded_qa")
        after = estimate_sft(sft, {})
        assert after["stages"]["grounded_qa generate"]["local-model"]["calls"] == 0  # all cached now
        assert after["stages"]["grounded_qa generate"]["local-model"]["cache_hits"] == 10
        judge_est = after["stages"]["grounded_qa judge"]["local-model"]
        assert judge_est["exact"]
        sent = server.calls
        judged = flow.judge(sft, "grounded_qa")
        assert server.calls - sent == judge_est["calls"] == judged["llm"]["judge:local-model"]["calls"] > 0
        assert abs(judge_est["input_tokens"] - _input_tokens(judged)) <= 0.3 * _input_tokens(judged)
        assert after["total"]["calls"] == judge_est["calls"]


def test_cli_estimate_sends_nothing_and_starts_no_run(tmp_path, dagster_home, capsys):
    import dagster as dg

    from orchestration.cli import main
    from tests.test_sft_flow import _write_deduplicated

    root = tmp_path / "data"
    _write_deduplicated(root)
    with FakeOpenAIServer(responder=judge_or_answer) as server:
        common = ["--root", str(root), "--raw", str(tmp_path / "raw"), "--llm", "openai", "--model", "local-model",
                  "--llm-base-url", f"{server.base_url}/v1"]
        assert main(["sft", "--estimate", "--method", "grounded_qa", *common]) == 0
        out = capsys.readouterr().out
        assert "llm-refinery SFT estimate (LLM backend: openai" in out
        assert "grounded_qa generate" in out and "grounded_qa judge" in out and "no request was sent" in out
        assert main(["preference", "--estimate", *common]) == 0
        assert "round-001 has no prompts yet" in capsys.readouterr().out
        assert server.calls == 0
    assert not dg.DagsterInstance.get().get_runs()
