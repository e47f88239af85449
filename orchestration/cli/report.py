"""The one report printer of every command: per run, its assets' counts (whichever of `SHOWN` the asset's
metadata has), what it dropped or quarantined and why, where its outputs are, and its checks or its failure."""
from __future__ import annotations

SHOWN = (  # metadata shown on an asset's line, in this order, when present
    "files_in", "documents_in", "documents_out", "tokens", "quarantined_files",  # corpus
    "chunks", "records_in", "records", "dropped", "train", "test",  # SFT
    "prompts", "candidates", "eval_answers", "prompts_scored", "annotations", "pairs", "kto_rows",  # preference
    "trained_on_pairs", "training_job", "endpoint", "local_trainer", "win_rate", "compared", "failed",
    "llm_calls", "llm_cache_hits", "llm_cost_usd",
)
BY_REASON = (("quarantine_by_reason", "quarantined"), ("drops_by_reason", "drops by reason"),
             ("dropped_by_reason", "dropped"))


def run_report(result, root: str = "", endpoint: str | None = None) -> dict:
    """A Dagster run's result as the JSON report keeps it: materialised assets' metadata, checks, the failure."""
    from orchestration.run_control import failure_line

    assets, checks = {}, {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        assets[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        checks[evaluation.check_name] = evaluation.passed
    report = {"run_id": result.run_id, "success": result.success, "assets": assets, "checks": checks}
    if not result.success:
        report["error"] = failure_line(result, root, endpoint)
    return report


def checks_line(checks: dict[str, bool]) -> str:
    failed = [c for c, passed in checks.items() if not passed]
    return f"  checks: {len(checks) - len(failed)}/{len(checks)} passed" + \
        (f"; FAILED: {', '.join(failed)}" if failed else "")


def status_lines(r: dict) -> list[str]:
    """A failed run's reason (its checks never ran, so "0/0 passed" would say nothing), else its checks."""
    if r.get("error"):
        return [f"  FAILED: {r['error']}"] + ([checks_line(r["checks"])] if r["checks"] else [])
    return [checks_line(r["checks"])] if r["checks"] else []


def _where(asset: str, md: dict) -> list[str]:
    """Where to look next: output paths, how to load a dataset, where annotations go back."""
    lines = [f"{key[5:]}: {path}" for key, path in md.items() if key.startswith("path_")]
    path = md.get("path")
    if asset == "sft_dataset" and path:
        lines.append(f"dataset: {path}  (datasets.load_dataset(\"{path}\"); card: README.md there)")
    if asset == "preference_dataset" and path:
        lines.append(f"dataset: {path}  (load_dataset(path, \"dpo\") / (path, \"kto\"))")
    if asset == "preference_feedback" and path:
        base = path.rsplit("/", 1)[0]
        lines.append(f"annotate: {base}/annotation/export  ->  return files to {base}/annotation/returned/")
    return lines


def print_report(title: str, header: dict[str, str], runs: dict[str, dict], footer: str = "") -> None:
    """`runs`: label ([drop], [method], [round-001 data]) -> run_report."""
    print(f"\n{title}" + "".join(f"\n  {k + ':':<6} {v}" for k, v in header.items()))
    for label, r in runs.items():
        print(f"\n[{label}] {'ok' if r['success'] else 'FAILED'} (run {r['run_id'][:8]})")
        width = max([24] + [len(a) + 1 for a in r["assets"]])
        for asset, md in r["assets"].items():
            shown = ", ".join(f"{k}={md[k]}" for k in SHOWN if k in md)
            print(f"  {asset:<{width}} {shown}{'  (unchanged, reused)' if md.get('reused_previous_output') else ''}")
            for key, name in BY_REASON:
                if md.get(key):
                    print(f"  {'':<{width}} {name}: {', '.join(f'{k}={v}' for k, v in sorted(md[key].items()))}")
            for line in _where(asset, md):
                print(f"  {'':<{width}} {line}")
        print("\n".join(status_lines(r) or [checks_line(r["checks"])]))
    if footer:
        print(f"\n{footer}")
