"""Costs datatrove pays again for every step and task, paid once per process instead: the distribution
checks (one scan of the installed distributions) and loguru's library paths. The local runner applies both in
the CLI process, which makes the steps and runs one-task runs itself, and in its forkserver, whose workers
inherit them. Each patches a private function of the library, guarded: without it, nothing changes."""
from __future__ import annotations

import functools


def check_distributions_once() -> None:
    """datatrove's PipelineStep.__new__ checks the pip distributions a step class requires every time a step is
    made (in the CLI process) or unpickled (in a worker), and each name not yet cached in that process scans
    the metadata of every installed distribution (~0.08 CPU-s a name; ~0.3 CPU-s in the CLI process and as
    much in the forkserver on the realdocs flow). One scan of the names answers every later check the same
    way: True for a distribution whose metadata Name, lower-cased, is the name asked for, else None. A
    datatrove without that private function checks as it always did."""
    try:
        import importlib.metadata

        from datatrove.utils import _import_utils
    except ImportError:
        return
    current = getattr(_import_utils, "_is_distribution_available", None)
    if not callable(current) or getattr(current, "scans_once", False):
        return
    names = set()
    for dist in importlib.metadata.distributions():
        metadata = getattr(dist, "metadata", None)  # as datatrove reads it
        if name := metadata.get("Name") if metadata is not None else None:
            names.add(name.lower())

    def is_distribution_available(distribution_name: str):
        return True if distribution_name in names else None

    is_distribution_available.scans_once, is_distribution_available.replaces = True, current
    _import_utils._is_distribution_available = is_distribution_available


def cache_log_library_dirs() -> None:
    """datatrove adds and removes loguru handlers around every task, and each `logger.add` builds an exception
    formatter that asks sysconfig for ~40 library paths (9 ms a task, 0.4 ms cached; ~45 tasks in the realdocs
    flow). The answer depends only on sys.path and the interpreter, fixed for the process's life."""
    try:
        from loguru._better_exceptions import ExceptionFormatter
    except ImportError:
        return
    lib_dirs = getattr(ExceptionFormatter, "_get_lib_dirs", None)
    if callable(lib_dirs) and not hasattr(lib_dirs, "cache_info"):
        ExceptionFormatter._get_lib_dirs = staticmethod(functools.cache(lib_dirs))
