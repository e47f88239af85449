"""`refinery` command line. Every run goes through Dagster (a persistent instance under DAGSTER_HOME), so
what the CLI materialises shows up in `dagster dev` with its lineage, metadata and checks."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"
# exit codes: 0 done, 1 a run failed, 2 bad configuration or arguments (nothing ran), 130 interrupted
BUSY = 75  # EX_TEMPFAIL: another run holds the storage lock; try again later


def prepare_env(args: argparse.Namespace) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray hub lookup must fail in a second, not hang
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if REPO_DAGSTER_YAML.is_file() and not (home / "dagster.yaml").exists():
        shutil.copy(REPO_DAGSTER_YAML, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    for flag, var in (("raw", "REFINERY_RAW"), ("root", "REFINERY_ROOT"), ("config", "REFINERY_CONFIG"),
                      ("s3_endpoint", "REFINERY_S3_ENDPOINT"), ("workers", "REFINERY_WORKERS"),
                      ("llm", "REFINERY_LLM"), ("model", "REFINERY_LLM_MODEL"), ("llm_base_url", "REFINERY_LLM_BASE_URL")):
        value = getattr(args, flag, None)
        if value is not None:
            os.environ[var] = str(value)
    if getattr(args, "retry_failed", False):
        os.environ["REFINERY_RETRY_FAILED"] = "1"


def check_args(args: argparse.Namespace, command: str) -> bool:
    """Validates the configuration and the arguments before anything heavy is imported or any run starts;
    prints one line per problem. `refinery run` checks once, for all three flows."""
    from refinery.config_check import run_problems

    if getattr(args, "checked", False):
        return True
    problems = run_problems(command, config=args.config, raw=getattr(args, "raw", None),
                            workers=getattr(args, "workers", None), llm=getattr(args, "llm", None),
                            model=getattr(args, "model", None), llm_base_url=getattr(args, "llm_base_url", None))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    args.checked = not problems
    return not problems


# errors that mean "the storage cannot be reached", wherever they surface (botocore, aiohttp, the OS)
UNREACHABLE = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionRefusedError", "ClientConnectorError",
               "ServerDisconnectedError", "ConnectionError", "NoCredentialsError", "ReadTimeoutError"}


def storage_error(e: Exception, uri: str, endpoint: str | None) -> str:
    """One line for a storage call that failed before any run (S3 endpoint gone, no credentials, ...)."""
    message = " ".join(str(e).split())[:300]
    chain = [type(c).__name__ for c in (e, e.__cause__, e.__context__) if c is not None]
    state = f" unreachable{f' at {endpoint}' if endpoint else ''}" if UNREACHABLE & set(chain) else ""
    return f"storage {uri}{state}: {type(e).__name__}: {message}"


def take_locks(runner, layout, uris: list[str]) -> list[str] | int:
    """The run id of each lock taken (one per storage folder), or the exit code after a one-line error when a
    lock is held by another run (BUSY) or the storage cannot be reached (1)."""
    from refinery.run_lock import LockHeld

    try:
        return [runner.lock(uri, layout.endpoint_url) for uri in uris]
    except LockHeld as e:
        print(f"error: {e}", file=sys.stderr)
        return BUSY
    except Exception as e:  # noqa: BLE001
        print(f"error: {storage_error(e, layout.root, layout.endpoint_url)}", file=sys.stderr)
        return 1


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
    if not check_args(args, "corpus"):
        return 2
    try:
        _flat_folder_as_one_drop(args)
    except Exception as e:  # noqa: BLE001 - one line instead of a storage client's traceback
        print(f"error: {storage_error(e, args.raw, args.s3_endpoint)}", file=sys.stderr)
        return 1
    prepare_env(args)
    import dagster as dg

    from assets.corpus.partitions import drops as drops_def
    from orchestration.definitions import build_definitions
    from orchestration.run_control import Runner

    defs = build_definitions()
    storage = defs.resources["storage"]
    try:
        available = storage.list_drops()
    except Exception as e:  # noqa: BLE001
        print(f"error: {storage_error(e, storage.raw_uri(), storage.endpoint_url)}", file=sys.stderr)
        return 1
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
    layout = storage.layout()
    report = {"root": layout.root, "raw": storage.raw_uri(), "dagster_home": os.environ["DAGSTER_HOME"],
              "drops": {}}
    ok = True
    with Runner(instance, "refinery corpus", args.verbose) as runner:
        # every selected drop at once: a second run on one of them fails now, not half-way
        locked = take_locks(runner, layout, [layout.drop(drop) for drop in selected])
        if isinstance(locked, int):
            return locked
        run_ids = dict(zip(selected, locked))
        for drop in sorted(selected):  # oldest first: later drops dedup against earlier ones
            result = runner(job, partition_key=drop, run_id=run_ids[drop])
            ok &= result.success
            report["drops"][drop] = run_report(result, layout.root, layout.endpoint_url)
    _print_report(report)
    write_report(args, report, "corpus")
    return 0 if ok else 1


def run_report(result, root: str = "", endpoint: str | None = None) -> dict:
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


def status_lines(r: dict) -> list[str]:
    """A failed run's reason (its checks never ran, so "0/0 passed" would say nothing), else its checks."""
    if r.get("error"):
        return [f"  FAILED: {r['error']}"] + ([checks_line(r["checks"])] if r["checks"] else [])
    return [checks_line(r["checks"])] if r["checks"] else []


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
        print("\n".join(status_lines(r) or [checks_line(r["checks"])]))
    print(f"\nOpen the UI: DAGSTER_HOME={report['dagster_home']} refinery ui   (or: dagster dev)")


def sft(args: argparse.Namespace) -> int:
    """Chunks of every deduplicated drop, each configured method's generated/filtered/judged records, then
    the dataset. Each is a Dagster run on the persistent instance, so the UI shows them."""
    if not check_args(args, "sft"):
        return 2
    prepare_env(args)
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.run_control import Runner

    defs = build_definitions()
    layout = defs.resources["storage"].layout()
    with Runner(dg.DagsterInstance.get(), "refinery sft", args.verbose) as runner:
        if isinstance(locked := take_locks(runner, layout, [layout.sft()]), int):
            return locked
        runs = run_sft_jobs(defs, runner.instance, args.method, execute=runner)
    report = {"root": layout.root, "dagster_home": os.environ["DAGSTER_HOME"],
              "llm": os.environ.get("REFINERY_LLM", "embedded"),
              "runs": {k: run_report(r, layout.root, layout.endpoint_url) for k, r in runs.items()}}
    _print_sft_report(report)
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


def _print_sft_report(report: dict) -> None:
    print(f"\nllm-refinery SFT run (LLM backend: {report['llm']})\n  root:  {report['root']}")
    for name, r in report["runs"].items():
        print(f"\n[{name}] {'ok' if r['success'] else 'FAILED'} (run {r['run_id'][:8]})")
        for asset, md in r["assets"].items():
            counts = ", ".join(f"{k}={md[k]}" for k in ("chunks", "records_in", "records", "dropped", "train", "test",
                                                          "llm_calls", "llm_cache_hits", "llm_cost_usd") if k in md)
            print(f"  {asset:<16} {counts}{'  (unchanged, reused)' if md.get('reused_previous_output') else ''}")
            if md.get("dropped_by_reason"):
                print(f"  {'':<16} dropped: {', '.join(f'{k}={v}' for k, v in sorted(md['dropped_by_reason'].items()))}")
            if asset == "sft_dataset" and md.get("path"):
                print(f"  {'':<16} dataset: {md['path']}  (datasets.load_dataset(\"{md['path']}\"); "
                      "card: README.md there)")
        for line in status_lines(r):
            print(line)


def preference(args: argparse.Namespace) -> int:
    from orchestration.preference_cli import preference as run_preference
    return run_preference(args)


def checks_line(checks: dict[str, bool]) -> str:
    failed = [c for c, passed in checks.items() if not passed]
    return f"  checks: {len(checks) - len(failed)}/{len(checks)} passed" + \
        (f"; FAILED: {', '.join(failed)}" if failed else "")


def write_report(args: argparse.Namespace, report: dict, section: str) -> None:
    """--json: the run summary; under `refinery run`, as `section` beside the corpus report in the same file."""
    if not args.json:
        return
    path = Path(args.json)
    if getattr(args, "json_append", False):
        report = {**json.loads(path.read_text()), section: report}
    path.write_text(json.dumps(report, indent=2, default=str))


def run_all(args: argparse.Namespace) -> int:
    """The main job: the corpus flow on every drop, the SFT flow on what it produced, then one preference round."""
    if not check_args(args, "run"):
        return 2
    code = corpus(args)
    if code != 0:
        print("error: the corpus flow failed; the SFT flow was not started", file=sys.stderr)
        return code
    args.json_append = bool(args.json)
    code = sft(args)
    if code != 0:
        print("error: the SFT flow failed; the preference round was not started", file=sys.stderr)
        return code
    args.rounds, args.next = 0, False
    return preference(args)


def show_config(args: argparse.Namespace) -> int:
    """Prints the effective configuration (defaults merged with --config) as YAML: the full reference."""
    import yaml

    from refinery.config import load_config
    from refinery.config_check import ConfigError

    try:
        effective = load_config(args.config).model_dump(mode="json")
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(effective, sort_keys=False), end="")
    return 0


def explain(args: argparse.Namespace) -> int:
    """Why a document is (or is not) in the output: its path through the corpus stages."""
    if not check_args(args, "explain"):
        return 2
    prepare_env(args)
    from orchestration.definitions import build_definitions
    from refinery.corpus.explain import explain as explain_document, format_explanation
    from refinery.corpus.flow import Corpus

    resources = build_definitions().resources
    storage, settings = resources["storage"], resources["settings"]
    corpus = Corpus(storage.layout(), settings.config().corpus, runner=None, raw_root=storage.raw_uri(),
                    raw_endpoint_url=storage.endpoint_url)
    found = 0
    for key in args.key:
        result = explain_document(corpus, key.strip("/"))
        found += bool(result["documents"] or result["quarantine"])
        print(json.dumps(result, indent=2, default=str) if args.json_out else format_explanation(result))
    return 0 if found == len(args.key) else 1


def ui(args: argparse.Namespace) -> int:
    if not check_args(args, "ui"):
        return 2
    prepare_env(args)
    # this interpreter's dagster, so it works without an activated venv
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions", "--port", str(args.port)]
    os.execv(cmd[0], cmd)


def _llm_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", choices=["embedded", "anthropic", "openai", "sagemaker"],
                   help="LLM backend (default embedded: offline SmolLM2-135M; anthropic reads ANTHROPIC_API_KEY)")
    p.add_argument("--model", help="default model of generation and judging (per-method overrides in the YAML)")
    p.add_argument("--llm-base-url", dest="llm_base_url", help="OpenAI-compatible server / Anthropic-compatible proxy")
    p.add_argument("--retry-failed", dest="retry_failed", action="store_true",
                   help="re-send requests whose failure an earlier run cached as final (refusals, invalid output); "
                        "transient failures are never cached and are always retried")


def _corpus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--raw", help="raw root: a folder or s3://bucket/prefix with one sub-folder per drop")
    p.add_argument("--drop", action="append", help="only this drop (repeatable); default: all drops")
    p.add_argument("--s3-endpoint", dest="s3_endpoint", help="S3-compatible endpoint URL (MinIO, moto, ...)")
    p.add_argument("--workers", type=int, help="datatrove tasks run at once (default 2)")


def _common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help="storage root for all outputs: a folder, s3://bucket/prefix or a mount")
    p.add_argument("--config", help="YAML configuration (see README, 'Configuration')")
    p.add_argument("--json", help="also write the run summary as JSON to this file")
    p.add_argument("--verbose", action="store_true", help="Dagster debug events on stderr (the UI has them all)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refinery", description="Raw documents to LLM training data.")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="the main job: the corpus flow on every drop, the SFT flow on its output, then "
                                   "one preference round")
    c = sub.add_parser("corpus", help="extract, filter, deduplicate and tokenize every drop of a raw root")
    s = sub.add_parser("sft", help="synthetic SFT dataset from the deduplicated corpus: generate, filter, judge, export")
    pr = sub.add_parser("preference", help="a preference round: candidates, AI/human feedback, DPO/KTO data, "
                                           "training, deployment, win rate (default: finish the latest round)")
    for p in (r, c, s, pr):
        _common_args(p)
    for p in (r, c):
        _corpus_args(p)
    for p in (r, s):
        _llm_args(p)
        p.add_argument("--method", action="append", help="only this generation method (repeatable)")
    s.add_argument("--raw", help="raw root the corpus drops came from (default samples/raw)")
    _llm_args(pr)
    pr.add_argument("--next", action="store_true", help="open the next round after the latest finished one")
    pr.add_argument("--rounds", type=int, default=0, help="run this many new rounds, one after the other")
    pr.add_argument("--raw", help="raw root the corpus drops came from (default samples/raw)")
    pr.set_defaults(func=preference)
    r.set_defaults(func=run_all)
    c.set_defaults(func=corpus)
    s.set_defaults(func=sft)
    k = sub.add_parser("config", help="print the effective configuration (defaults + --config) as YAML")
    k.add_argument("--config")
    k.set_defaults(func=show_config)
    e = sub.add_parser("explain", help="why a document is or is not in the output: its path through extraction, "
                                       "each filter (scores and verdicts), dedup and tokenization")
    e.add_argument("key", nargs="+", help="a source key relative to the raw root (2026-11-01/reports/q3.pdf) or a "
                                         "document id (<source>#<n> for a record of a JSONL file)")
    e.add_argument("--root")
    e.add_argument("--raw")
    e.add_argument("--config")
    e.add_argument("--json", dest="json_out", action="store_true", help="print JSON instead of text")
    e.set_defaults(func=explain)
    u = sub.add_parser("ui", help="open the Dagster UI on this project (dagster dev)")
    u.add_argument("--raw")
    u.add_argument("--root")
    u.add_argument("--config")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=ui)
    args = parser.parse_args(argv)
    return _interruptible(args)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (main() also runs in-process, under pytest's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_logging() -> None:
    """The CLI's own notices (pool waits, runs freed, locks taken over) on stderr at INFO."""
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(levelname)s refinery: %(message)s"))
    for name in ("refinery.cli", "refinery.run_lock"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def _interruptible(args: argparse.Namespace) -> int:
    """SIGTERM stops a run like Ctrl-C: Dagster marks it failed, the locks are released, exit code 130."""
    _setup_logging()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if in_main else None
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted: the run was stopped (Ctrl-C/SIGTERM); run the same command again to resume",
              file=sys.stderr)
        return 130
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
