"""The command of a SageMaker Processing job's container (see `sagemaker_processing.py`):

    python3 -m refinery.runners.processing_entry s3://.../executor.pik [--workers N]

loads the stage's pickled pipeline and runs this instance's contiguous share of the ranks with datatrove's
LocalPipelineExecutor (`local_tasks`/`local_rank_offset`), so completion markers, stats and logs go to the
stage's logging dir. Exits 1 when one of its ranks failed, which fails the job."""
from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys

RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"  # SageMaker writes it on every instance
MESSAGE_FILE = "/opt/ml/output/message"  # SageMaker reports its content as the job's exit message


def instance_position() -> tuple[int, int]:
    """(this instance's index, instance count), from SageMaker's resource config (`current_host`, `hosts`)."""
    path = os.environ.get("REFINERY_RESOURCE_CONFIG", RESOURCE_CONFIG)
    if not os.path.exists(path):
        return 0, 1
    with open(path) as f:
        config = json.load(f)
    hosts = sorted(config["hosts"], key=lambda h: (len(h), h))  # algo-1, algo-2, ..., algo-10
    return hosts.index(config["current_host"]), len(hosts)


def share(tasks: int, index: int, count: int) -> tuple[int, int]:
    """(first rank, number of ranks) of instance `index`: contiguous blocks differing by one at most."""
    base, extra = divmod(tasks, count)
    return index * base + min(index, extra), base + (index < extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="processing_entry")
    parser.add_argument("pipeline", help="URI of the pickled {pipeline, tasks, logging_dir}")
    parser.add_argument("--workers", type=int, default=0, help="ranks at once (0: the CPU count)")
    args = parser.parse_args(argv)

    import dill
    from datatrove.executor import LocalPipelineExecutor

    from refinery.storage import data_folder

    folder = data_folder(posixpath.dirname(args.pipeline), os.environ.get("REFINERY_S3_ENDPOINT"))
    with folder.open(posixpath.basename(args.pipeline), "rb") as f:
        payload = dill.load(f)
    index, count = instance_position()
    offset, local = share(payload["tasks"], index, count)
    if not local:
        return 0
    workers = min(args.workers or os.cpu_count() or 1, local)
    executor = LocalPipelineExecutor(
        pipeline=payload["pipeline"], tasks=payload["tasks"], workers=workers, logging_dir=payload["logging_dir"],
        local_tasks=local, local_rank_offset=offset, skip_completed=True)
    error = ""
    try:
        executor.run()
    except Exception as e:  # noqa: BLE001 -- datatrove re-raises a task's error after logging it
        error = f": {type(e).__name__}: {e}"
    failed = [r for r in range(offset, offset + local) if not executor.is_rank_completed(r)]
    if failed:
        message = (f"{len(failed)}/{local} datatrove tasks failed on instance {index + 1}/{count} "
                   f"(ranks {failed[:10]}){' '.join(error.split())}")
        print(message, file=sys.stderr)
        if os.path.isdir(os.path.dirname(MESSAGE_FILE)):
            with open(MESSAGE_FILE, "w") as f:
                f.write(message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
