"""`refinery` command line. Every run goes through Dagster (a persistent instance under DAGSTER_HOME), so
what the CLI materialises shows up in `dagster dev` with its lineage, metadata and checks. One module per
command; `session` holds what they share, `report` prints every summary."""
from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading

from orchestration.cli.corpus import corpus, explain
from orchestration.cli.explore import add_parsers as add_explore_parsers
from orchestration.cli.preference import preference
from orchestration.cli.report import status_lines
from orchestration.cli.session import check_args, overrides, prepare_env
from orchestration.cli.sft import run_sft_jobs, sft

__all__ = ["main", "run_sft_jobs", "status_lines"]


def run_all(args: argparse.Namespace) -> int:
    """The main job: the corpus flow on every drop, the SFT flow on what it produced, then one preference round."""
    if not check_args(args, "run"):
        return 2
    if args.estimate or args.dry_run:  # what would run and what the LLM half would cost; nothing runs
        if args.dry_run and (code := corpus(args)):
            return code
        print("note: the LLM estimate covers the drops already deduplicated (a corpus stage that would run "
              "changes the chunks)")
        args.estimate = True
        code = sft(args)
        args.json_append = bool(args.json)
        args.rounds, args.next = 0, False
        return code or preference(args)
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


def ui(args: argparse.Namespace) -> int:
    if not check_args(args, "ui"):
        return 2
    if not prepare_env(args):
        return 2
    # `dagster dev` loads the code location in processes of its own: there the settings come from the
    # environment, as in a deployment
    from orchestration.profiles import ENV_VARS

    for name, value in overrides(args).items():
        if value is not None:
            os.environ[ENV_VARS[name]] = "1" if value is True else str(value)
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
    p.add_argument("--estimate", action="store_true",
                   help="print each LLM stage's requests, tokens and USD per model (cache hits subtracted) and "
                        "exit: nothing is sent, no run starts")
    p.add_argument("--budget", type=float, metavar="USD",
                   help="stop sending LLM requests once this command's fresh calls cost this much, per flow (SFT, "
                        "preference); overrides llm.budget_usd. Answers so far stay cached: rerun with a higher budget")


def _corpus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--raw", help="raw root: a folder or s3://bucket/prefix with one sub-folder per drop")
    p.add_argument("--drop", action="append", help="only this drop (repeatable); default: all drops")
    p.add_argument("--s3-endpoint", dest="s3_endpoint", help="S3-compatible endpoint URL (MinIO, moto, ...)")
    p.add_argument("--workers", type=int, help="datatrove tasks run at once by the local runner (default 2)")
    p.add_argument("--runner", choices=["local", "ray", "slurm", "sagemaker"],
                   help="where datatrove tasks run: local processes (default), a Ray cluster, Slurm job arrays or SageMaker "
                        "Processing jobs; their settings: REFINERY_RAY_* / REFINERY_SLURM_* / REFINERY_PROCESSING_* "
                        "(README, 'Compute runners')")
    p.add_argument("--ray-address", dest="ray_address",
                   help="Ray cluster to use (host:6379, ray://host:10001, auto); default: the local instance")
    p.add_argument("--slurm-partition", dest="slurm_partition", help="Slurm partition the job arrays go to")
    p.add_argument("--dry-run", dest="dry_run", action="store_true",
                   help="print what would run: per drop, its files and which corpus stages would run or be reused "
                        "(`run` adds the LLM estimate of --estimate); nothing runs, nothing is sent")


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
    add_explore_parsers(sub)
    args = parser.parse_args(argv)
    # Start-up (Dagster, the flows' code, their definitions) makes ~270k objects that live as long as the
    # process: no collections while it does (3 full ones, ~0.2 CPU-s on the realdocs flow); `definitions()`
    # freezes them and turns the collector on. Only in the `refinery` process: main([...]) also runs inside
    # other programs (the tests), whose collector is theirs.
    args.own_process = argv is None
    if args.own_process:
        gc.disable()
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
    # A library logging through the root logger (rouge_score's scorer does) would otherwise call
    # logging.basicConfig, and every progress line would be printed a third time, as "INFO:refinery.progress:…".
    # At WARNING this handler prints what Python's last-resort handler printed before.
    if not logging.root.handlers:
        warnings = _CurrentStderr()
        warnings.setLevel(logging.WARNING)
        warnings.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.root.addHandler(warnings)
    # LLM stages' progress: a live bar on a terminal (refinery.llm.progress), else these lines once a minute
    progress = logging.getLogger("refinery.progress")
    if not any(isinstance(h, _CurrentStderr) for h in progress.handlers):
        quiet = _CurrentStderr()
        quiet.setFormatter(logging.Formatter("%(levelname)s refinery: %(message)s"))
        quiet.addFilter(lambda record: not _stderr_is_tty())
        progress.addHandler(quiet)
        progress.setLevel(logging.INFO)


def _stderr_is_tty() -> bool:
    return getattr(sys.stderr, "isatty", lambda: False)()


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

