"""`refinery` command line. Every run goes through Dagster (a persistent instance under DAGSTER_HOME), so
what the CLI materialises shows up in `dagster dev` with its lineage, metadata and checks."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def _prepare_env(args: argparse.Namespace) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray hub lookup must fail in a second, not hang
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if REPO_DAGSTER_YAML.is_file() and not (home / "dagster.yaml").exists():
        shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    for flag, var in (("raw", "REFINERY_RAW"), ("root", "REFINERY_ROOT"), ("config", "REFINERY_CONFIG"),
                      ("s3_endpoint", "REFINERY_S3_ENDPOINT"), ("workers", "REFINERY_WORKERS")):
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[var] = str(value)


def _flat_folder_as_one_drop(args: argparse.Namespace) -> None:
    """`--raw some/folder` holding files but no drop sub-folders is one drop named after the folder: the
    raw root becomes its parent, so `metadata.source` is still `<drop>/<file>`."""
    from resources import StorageResource

    if not args.raw:
        return
    storage = StorageResource(raw_root=args.raw, endpoint_url=args.s3_endpoint)
    if storage.list_drops() or not storage.loose_files():
        return
    uri = storage.raw_uri().rstrip("/")
    parent, name = uri.rsplit("/", 1)
    if not parent or parent.endswith(":/"):
        return  # a bucket root has no parent to stand in as raw root
    print(f"note: {uri} has files but no drop sub-folders: processing it as drop '{name}' of raw root {parent}",
          file=sys.stderr)
    args.raw, args.drop, args.register_only_selected = parent, [name], True  # siblings are not drops


def corpus(args: argparse.Namespace) -> int:
    _flat_folder_as_one_drop(args)
    _prepare_env(args)
    import dagster as dg

    from assets.partitions import drops as drops_def
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    storage = defs.resources["storage"]
    available = storage.list_drops()
    selected = args.drop or available
    unknown = sorted(set(selected) - set(available))
    if unknown:
        print(f"error: no such drop under {storage.raw_uri()}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not selected:
        print(f"error: {storage.raw_uri()} has no drops (sub-folders with files)", file=sys.stderr)
        return 2
    if loose := storage.loose_files():
        print(f"warning: {len(loose)} file(s) directly under {storage.raw_uri()} belong to no drop and are "
              "not processed; move them into a drop sub-folder", file=sys.stderr)
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(drops_def.name))
    register = selected if getattr(args, "register_only_selected", False) else available
    instance.add_dynamic_partitions(drops_def.name, [d for d in register if d not in known])

    job = defs.resolve_job_def("corpus_job")
    report = {"root": storage.layout().root, "raw": storage.raw_uri(), "dagster_home": os.environ["DAGSTER_HOME"],
              "drops": {}}
    ok = True
    for drop in sorted(selected):  # oldest first: later drops dedup against earlier ones
        result = job.execute_in_process(
            partition_key=drop, instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if args.verbose else "INFO"}}}},
        )
        ok &= result.success
        report["drops"][drop] = _drop_report(result)
    _print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0 if ok else 1


def _drop_report(result) -> dict:
    assets, checks = {}, {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        assets[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        checks[evaluation.check_name] = evaluation.passed
    return {"run_id": result.run_id, "success": result.success, "assets": assets, "checks": checks}


def _print_report(report: dict) -> None:
    print(f"\nllm-refinery corpus run\n  raw:   {report['raw']}\n  root:  {report['root']}")
    for drop, r in report["drops"].items():
        print(f"\n[{drop}] {'ok' if r['success'] else 'FAILED'} (run {r['run_id'][:8]})")
        for asset, md in r["assets"].items():
            counts = ", ".join(f"{k}={md[k]}" for k in ("files_in", "documents_in", "documents_out", "tokens",
                                                          "quarantined_files") if k in md)
            print(f"  {asset:<24} {counts}{'  (unchanged, reused)' if md.get('reused_previous_output') else ''}")
            quarantined = md.get("quarantine_by_reason") or {}
            if quarantined:
                print(f"  {'':<24} quarantined: {', '.join(f'{k}={v}' for k, v in sorted(quarantined.items()))}")
            drops = md.get("drops_by_reason") or {}
            if drops:
                print(f"  {'':<24} drops by reason: {', '.join(f'{k}={v}' for k, v in sorted(drops.items()))}")
            for key, path in md.items():
                if key.startswith("path_"):
                    print(f"  {'':<24} {key[5:]}: {path}")
        failed = [c for c, passed in r["checks"].items() if not passed]
        print(f"  checks: {len(r['checks']) - len(failed)}/{len(r['checks'])} passed" +
              (f"; FAILED: {', '.join(failed)}" if failed else ""))
    print(f"\nOpen the UI: DAGSTER_HOME={report['dagster_home']} refinery ui   (or: dagster dev)")


def show_config(args: argparse.Namespace) -> int:
    """Prints the effective configuration (defaults merged with --config) as YAML: the full reference."""
    import yaml

    from refinery.corpus.config import CorpusConfig

    print(yaml.safe_dump(CorpusConfig.load(args.config).model_dump(mode="json"), sort_keys=False), end="")
    return 0


def ui(args: argparse.Namespace) -> int:
    _prepare_env(args)
    # this interpreter's dagster, so it works without an activated venv
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions", "--port", str(args.port)]
    os.execv(cmd[0], cmd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refinery", description="Raw documents to LLM training data.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="extract, filter, deduplicate and tokenize every drop of a raw root")
    c.add_argument("--raw", help="raw root: a folder or s3://bucket/prefix with one sub-folder per drop")
    c.add_argument("--root", help="storage root for all outputs: a folder, s3://bucket/prefix or a mount")
    c.add_argument("--config", help="YAML configuration (see README, 'Configuration')")
    c.add_argument("--drop", action="append", help="only this drop (repeatable); default: all drops")
    c.add_argument("--s3-endpoint", dest="s3_endpoint", help="S3-compatible endpoint URL (MinIO, moto, ...)")
    c.add_argument("--workers", type=int, help="datatrove tasks run at once (default 2)")
    c.add_argument("--json", help="also write the run summary as JSON to this file")
    c.add_argument("--verbose", action="store_true", help="Dagster debug events on stderr (the UI has them all)")
    c.set_defaults(func=corpus)
    k = sub.add_parser("config", help="print the effective configuration (defaults + --config) as YAML")
    k.add_argument("--config")
    k.set_defaults(func=show_config)
    u = sub.add_parser("ui", help="open the Dagster UI on this project (dagster dev)")
    u.add_argument("--raw")
    u.add_argument("--root")
    u.add_argument("--config")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=ui)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
