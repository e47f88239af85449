"""`refinery sft`: chunks of every deduplicated drop, each configured method's generated/filtered/judged
records, then the dataset. Each is a Dagster run on the persistent instance, so the UI shows them."""
from __future__ import annotations

import argparse
import os

from orchestration.cli.report import print_report, run_report
from orchestration.cli.session import check_args, definitions, prepare_env, take_locks, write_report


def sft(args: argparse.Namespace) -> int:
    if not check_args(args, "sft"):
        return 2
    if not prepare_env(args):
        return 2
    import dagster as dg

    from orchestration.run_control import Runner

    from refinery.llm.limits import reset_spend

    reset_spend("sft")  # --budget / llm.budget_usd count this command's calls
    defs = definitions(args)
    layout = defs.resources["storage"].layout()
    if getattr(args, "estimate", False):
        return estimate(args, defs)
    with Runner(dg.DagsterInstance.get(), "refinery sft", args.verbose) as runner:
        if isinstance(locked := take_locks(runner, layout, [layout.sft()]), int):
            return locked
        runs = run_sft_jobs(defs, runner.instance, args.method, execute=runner)
    report = {"root": layout.root, "dagster_home": os.environ["DAGSTER_HOME"], "llm": defs.resources["llm"].backend,
              "runs": {k: run_report(r, layout.root, layout.endpoint_url) for k, r in runs.items()}}
    print_report(f"llm-refinery SFT run (LLM backend: {report['llm']})", {"root": report["root"]}, report["runs"])
    write_report(args, report, "sft")
    return 0 if all(r.success for r in runs.values()) else 1


def run_sft_jobs(defs, instance, methods: list[str] | None = None, run_config: dict | None = None,
                 execute=None) -> dict:
    """chunks, then each method's partition (generated -> filtered -> judged), then the dataset. `execute`
    (job, partition_key) runs one job, the CLI's Runner; by default plain execute_in_process."""
    methods = methods or defs.resources["settings"].config().sft.methods
    execute = execute or (lambda job, partition_key=None: job.execute_in_process(
        partition_key=partition_key, instance=instance, raise_on_error=False, run_config=run_config))
    runs = {"chunks": execute(defs.resolve_job_def("sft_chunks_job"))}
    if runs["chunks"].success:
        for method in methods:
            runs[method] = execute(defs.resolve_job_def("sft_method_job"), partition_key=method)
        runs["dataset"] = execute(defs.resolve_job_def("sft_dataset_job"))
    return runs


def estimate(args: argparse.Namespace, defs) -> int:
    """--estimate: each stage's calls, tokens and USD per model, from the config, the chunks and the cache; no
    request is sent and no run is started."""
    from refinery.llm.estimate import estimate_lines
    from refinery.sft import flow
    from refinery.sft.estimate import estimate_sft

    storage, llm = defs.resources["storage"], defs.resources["llm"]
    sft = flow.SFT(storage.layout(), defs.resources["settings"].config().sft, llm)
    documents = flow.deduplicated_drops(sft.layout, storage.list_drops())
    batch = llm.backend == "anthropic" and llm.use_batches
    result = estimate_sft(sft, documents, args.method, batch=batch)
    title = (f"llm-refinery SFT estimate (LLM backend: {llm.backend}, {result['chunks']} chunks"
             f"{', Message Batches' if batch else ''})")
    print("\n".join(estimate_lines(title, result)))
    write_report(args, {"root": sft.layout.root, "llm": llm.backend, "estimate": result}, "sft_estimate")
    return 0
