"""`refinery preference`: preference rounds run in-process on the persistent Dagster instance, as the loop
sensor would run them: the round's data job, then (with enough pairs) the training and evaluation job."""
from __future__ import annotations

import argparse
import os

from orchestration.cli.report import print_report, run_report
from orchestration.cli.session import check_args, definitions, prepare_env, take_locks, write_report


def rounds_to_run(instance, layout, new_rounds: int) -> list[str]:
    """Without --next/--rounds: finish the latest round (or open round-001). Else open that many new ones."""
    from assets.preference.assets import rounds
    from refinery.preference import flow

    keys = sorted(instance.get_dynamic_partitions(rounds.name), key=flow.round_number)
    last = keys[-1] if keys else None
    if not new_rounds:
        return [last or flow.round_key(1)]
    start = flow.round_number(last) + 1 if last and flow.status(layout, last)["eval"] else \
        flow.round_number(last) if last else 1
    return [flow.round_key(n) for n in range(start, start + new_rounds)]


def run_round(defs, instance, key: str, execute) -> dict:
    """The round's data job, then training + evaluation when the round has enough pairs. `execute` (job,
    partition_key) runs one job: the CLI's Runner."""
    from assets.preference.assets import rounds
    from refinery.preference.policy import training_gate

    if key not in instance.get_dynamic_partitions(rounds.name):
        instance.add_dynamic_partitions(rounds.name, [key])
    runs = {"data": execute(defs.resolve_job_def("preference_round_job"), partition_key=key)}
    if not runs["data"].success:
        return runs
    layout = defs.resources["storage"].layout()
    _, why_not = training_gate(layout, key, defs.resources["settings"].config().preference.training.min_pairs)
    if why_not:
        print(f"note: {why_not}: not trained; annotate more, or lower the margin, then run `refinery preference` "
              "again")
    else:
        runs["train"] = execute(defs.resolve_job_def("preference_train_job"), partition_key=key)
    return runs


def preference(args: argparse.Namespace) -> int:
    if not check_args(args, "preference"):
        return 2
    if not prepare_env(args):
        return 2
    import dagster as dg

    from orchestration.run_control import Runner

    from refinery.llm.limits import reset_spend

    reset_spend("preference")  # --budget / llm.budget_usd count this command's calls
    defs = definitions(args)
    instance = dg.DagsterInstance.get()
    layout = defs.resources["storage"].layout()
    new_rounds = args.rounds or (1 if args.next else 0)
    if getattr(args, "estimate", False):
        return estimate(args, defs, instance, layout, new_rounds)
    report = {"root": layout.root, "dagster_home": os.environ["DAGSTER_HOME"], "rounds": {}}
    ok = True
    with Runner(instance, "refinery preference", args.verbose) as runner:
        if isinstance(locked := take_locks(runner, layout, [layout.preference()]), int):
            return locked
        for key in rounds_to_run(instance, layout, new_rounds):
            runs = run_round(defs, instance, key, runner)
            report["rounds"][key] = {name: run_report(result, layout.root, layout.endpoint_url)
                                     for name, result in runs.items()}
            ok &= all(result.success for result in runs.values())
            if not ok:
                break
    runs = {f"{key} {name}": r for key, round_runs in report["rounds"].items() for name, r in round_runs.items()}
    print_report("llm-refinery preference loop", {"root": report["root"]}, runs)
    write_report(args, report, "preference")
    return 0 if ok else 1


def estimate(args: argparse.Namespace, defs, instance, layout, new_rounds: int) -> int:
    """--estimate: the rounds this command would run, each stage's calls, tokens and USD per model; nothing is
    sent and no run starts."""
    from assets.preference.assets import make_round
    from refinery.llm.estimate import estimate_lines
    from refinery.preference.estimate import estimate_round

    llm = defs.resources["llm"]
    batch = llm.backend == "anthropic" and llm.use_batches
    report = {}
    for key in rounds_to_run(instance, layout, new_rounds):
        r = make_round(key, defs.resources["storage"], llm, defs.resources["settings"])
        result = report[key] = estimate_round(r, batch=batch)
        print("\n".join(estimate_lines(f"llm-refinery preference estimate, {key} (LLM backend: {llm.backend})",
                                        result)))
        if result.get("note"):
            print(f"  note: {result['note']}")
    write_report(args, {"root": layout.root, "estimate": report}, "preference_estimate")
    return 0
