"""Imported once by the local runner's forkserver, before it forks any worker: each pool's workers (a pool
per multi-task step, ~5 per drop) then start with the stage code, the extractors' libraries, datatrove's
dependency checks, loguru's library paths and the bundled tokenizer (with its tiktoken encoder) already loaded
instead of paying for them again (py-spy on the realdocs benchmark: ~2.4 CPU-s of extractor imports, ~3 CPU-s
of dependency checks and ~0.7 CPU-s of tokenizer loading across the workers)."""
from __future__ import annotations

import functools
import importlib
import os

from refinery.tokenize import preload_tokenizer

# Each worker is one of `workers` processes already sharing the cores: the tokenizers library's own thread
# pool on top only spins (tokenizing the benchmark's deduplicated text: 2.6 vs 3.4 CPU-s with it on).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The stage code, and the extractors `refinery.extract.dispatch` imports on first use (~0.4 CPU-s together).
MODULES = ["refinery.corpus.dedup_stage", "refinery.extract.dispatch", "refinery.tokenize_step",
           "refinery.extract.html", "refinery.extract.pdf", "refinery.extract.word", "refinery.extract.slides",
           "refinery.extract.sheets"]


def warm_dependency_checks() -> None:
    """datatrove's PipelineStep.__new__ checks the pip distributions a step class requires every time a step
    is unpickled in a worker, and each name not yet cached in that process scans the metadata of every
    installed distribution (~0.08 CPU-s). Checking here, once, the names of the datatrove steps the corpus
    pipelines use fills the cache the workers inherit (a step not listed is still checked, in its worker)."""
    try:
        from datatrove.pipeline.filters import LanguageFilter
        from datatrove.pipeline.readers import JsonlReader
        from datatrove.pipeline.tokens import DocumentTokenizer
        from datatrove.pipeline.writers import JsonlWriter
        from datatrove.utils._import_utils import check_required_dependencies
    except ImportError:  # a datatrove without these: its workers check as they always did
        return
    for step in (JsonlReader, JsonlWriter, LanguageFilter, DocumentTokenizer):
        for cls in step.mro():
            check_required_dependencies(cls.__name__, cls.__dict__.get("_requires_dependencies") or [])


def cache_log_library_dirs() -> None:
    """datatrove adds and removes loguru handlers around every task, and each `logger.add` builds an exception
    formatter that asks sysconfig for ~40 library paths (9 ms a task, 0.4 ms cached; ~45 tasks in the realdocs
    flow). The answer depends only on sys.path and the interpreter, fixed for a worker's life."""
    try:
        from loguru._better_exceptions import ExceptionFormatter
    except ImportError:
        return
    lib_dirs = getattr(ExceptionFormatter, "_get_lib_dirs", None)
    if callable(lib_dirs) and not hasattr(lib_dirs, "cache_info"):
        ExceptionFormatter._get_lib_dirs = staticmethod(functools.cache(lib_dirs))


for _module in MODULES:
    importlib.import_module(_module)
warm_dependency_checks()
cache_log_library_dirs()
preload_tokenizer()  # the bundled one, the default; another is loaded (and its encoder built) by each worker
