"""`refinery preference`: preference rounds run in-process on the persistent Dagster instance, as the loop
sensor would run them: the round's data job, then (with enough pairs) the training and evaluation job."""
from __future__ import annotations

import argparse
import os
import sys

from orchestration.cli import check_args, prepare_env, run_report, status_lines, take_locks, write_report


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
    prepare_env(args)
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.run_control import Runner

    defs = build_definitions()
    instance = dg.DagsterInstance.get()
    layout = defs.resources["storage"].layout()
    new_rounds = args.rounds or (1 if args.next else 0)
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
    _print(report)
    write_report(args, report, "preference")
    return 0 if ok else 1


_SHOWN = ("prompts", "candidates", "eval_answers", "prompts_scored", "annotations", "pairs", "kto_rows",
          "trained_on_pairs", "training_job", "endpoint", "local_trainer", "win_rate", "compared", "failed", "llm_calls", "llm_cache_hits", "llm_cost_usd")


def _print(report: dict) -> None:
    print(f"\nllm-refinery preference loop\n  root:  {report['root']}")
    for key, runs in report["rounds"].items():
        for name, r in runs.items():
            print(f"\n[{key} {name}] {'ok' if r['success'] else 'FAILED'} (run {r['run_id'][:8]})")
            for asset, md in r["assets"].items():
                shown = ", ".join(f"{k}={md[k]}" for k in _SHOWN if k in md)
                print(f"  {asset:<24} {shown}{'  (unchanged, reused)' if md.get('reused_previous_output') else ''}")
                if asset == "preference_dataset" and md.get("path"):
                    print(f"  {'':<24} dataset: {md['path']}  (load_dataset(path, \"dpo\") / (path, \"kto\"))")
                if asset == "preference_feedback" and md.get("path"):
                    base = md["path"].rsplit("/", 1)[0]
                    print(f"  {'':<24} annotate: {base}/annotation/export  ->  return files to "
                          f"{base}/annotation/returned/")
            for line in status_lines(r):
                print(line)
