"""What every command does around its runs: check the arguments before anything heavy is imported, point
Dagster at its persistent instance, build the definitions with the command line's values as resource config,
take the storage locks, write the JSON report."""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

# exit codes: 0 done, 1 a run failed, 2 bad configuration or arguments (nothing ran), 130 interrupted
BUSY = 75  # EX_TEMPFAIL: another run holds the storage lock; try again later
# command-line flag -> the setting it gives (orchestration.profiles.ENV_VARS names them all)
FLAGS = ("raw", "root", "config", "s3_endpoint", "workers", "runner", "ray_address", "slurm_partition", "llm", "model",
         "llm_base_url", "budget")


def prepare_env(args: argparse.Namespace) -> bool:
    """Dagster's instance folder (DAGSTER_HOME, with the matching dagster.yaml on first use; see
    orchestration.instance) and an offline Hub: the only environment a command sets. Its own settings travel
    as resource config (`definitions`). False after one line per problem (exit 2): nothing may run."""
    from orchestration.instance import prepare_home

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray hub lookup must fail in a second, not hang
    if getattr(args, "env_ready", False):  # `refinery run` prepares once for its three flows
        return True
    home, problems = prepare_home()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    os.environ["DAGSTER_HOME"] = str(home)
    args.env_ready = not problems
    return not problems


def overrides(args: argparse.Namespace) -> dict:
    """The settings given on the command line (None: not given, the environment or the profile decides)."""
    values = {flag: getattr(args, flag, None) for flag in FLAGS}
    values["retry_failed"] = True if getattr(args, "retry_failed", False) else None
    return values


def definitions(args: argparse.Namespace):
    """The code location with this command's settings; Dagster imported only now."""
    from orchestration.definitions import build_definitions

    defs = build_definitions(overrides=overrides(args))
    if getattr(args, "own_process", False):
        # What start-up loaded lives as long as the process: out of the collector's reach from now on, a full
        # collection walks only what the runs make (5 of them took 0.5 CPU-s over ~270k objects in the
        # realdocs flow's CLI process), and the processes forked from this one (datatrove's managers) do not
        # copy the pages the collector would touch.
        gc.freeze()
        gc.enable()
    return defs


def check_args(args: argparse.Namespace, command: str) -> bool:
    """Validates the configuration and the arguments before anything heavy is imported or any run starts;
    prints one line per problem. `refinery run` checks once, for all three flows."""
    from refinery.config_check import run_problems

    if getattr(args, "checked", False):
        return True
    problems = run_problems(command, config=args.config, raw=getattr(args, "raw", None),
                            workers=getattr(args, "workers", None), runner=getattr(args, "runner", None),
                            slurm_partition=getattr(args, "slurm_partition", None), llm=getattr(args, "llm", None),
                            model=getattr(args, "model", None), llm_base_url=getattr(args, "llm_base_url", None))
    budget = getattr(args, "budget", None)
    if budget is not None and not budget >= 0:
        problems.append(f"--budget: must be a number of USD ≥ 0 (got {budget})")
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


def write_report(args: argparse.Namespace, report: dict, section: str) -> None:
    """--json: the run summary; under `refinery run`, as `section` beside the corpus report in the same file."""
    if not args.json:
        return
    path = Path(args.json)
    if getattr(args, "json_append", False):
        report = {**json.loads(path.read_text()), section: report}
    path.write_text(json.dumps(report, indent=2, default=str))
