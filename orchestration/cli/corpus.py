"""`refinery corpus` (every drop of a raw root through the corpus flow, oldest first) and `refinery explain`."""
from __future__ import annotations

import argparse
import json
import os
import sys

from orchestration.cli.report import print_report, run_report
from orchestration.cli.session import check_args, definitions, prepare_env, storage_error, take_locks, write_report


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
    if not prepare_env(args):
        return 2
    import dagster as dg

    from assets.corpus.partitions import drops as drops_def
    from orchestration.run_control import Runner

    defs = definitions(args)
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
    if getattr(args, "dry_run", False):
        return _dry_run(defs, selected, available)
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
    print_report("llm-refinery corpus run", {"raw": report["raw"], "root": report["root"]}, report["drops"],
                 f"Open the UI: DAGSTER_HOME={report['dagster_home']} refinery ui   (or: dagster dev)")
    write_report(args, report, "corpus")
    return 0 if ok else 1


def _corpus(resources):
    from refinery.corpus.flow import Corpus

    storage, settings = resources["storage"], resources["settings"]
    return Corpus(storage.layout(), settings.config().corpus, runner=None, raw_root=storage.raw_uri(),
                  raw_endpoint_url=storage.endpoint_url, embeddings=settings.config().embeddings)


def _dry_run(defs, selected: list[str], available: list[str]) -> int:
    """--dry-run: per drop, its raw files and which stages would run or be reused; nothing runs."""
    from refinery.corpus.plan import plan

    print("corpus plan (--dry-run: nothing runs):")
    for drop, p in plan(_corpus(defs.resources), selected, available).items():
        stages = ", ".join(f"{name} {verdict}" for name, verdict in p["stages"].items())
        print(f"  {drop}: {p['files']} files, {p['bytes'] / 1e6:.1f} MB — {stages}")
    return 0


def explain(args: argparse.Namespace) -> int:
    """Why a document is (or is not) in the output: its path through the corpus stages."""
    if not check_args(args, "explain"):
        return 2
    if not prepare_env(args):
        return 2
    from refinery.corpus.explain import explain as explain_document
    from refinery.corpus.explain import format_explanation

    corpus = _corpus(definitions(args).resources)
    found = 0
    for key in args.key:
        result = explain_document(corpus, key.strip("/"))
        found += bool(result["documents"] or result["quarantine"])
        print(json.dumps(result, indent=2, default=str) if args.json_out else format_explanation(result))
    return 0 if found == len(args.key) else 1
