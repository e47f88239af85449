"""Imported once by the local runner's forkserver, before it forks any worker: each pool's workers (a pool
per stage step, ~9 per drop) then start with the stage code, the extractors' libraries and datatrove's
dependency checks already loaded instead of paying for them again (measured with py-spy on the realdocs
benchmark: ~2.4 CPU-s of extractor imports and ~3 CPU-s of dependency checks across the workers)."""
from __future__ import annotations

import importlib
import os

# Each worker is one of `workers` processes already sharing the cores: the tokenizers library's own thread
# pool on top only spins (tokenizing the benchmark's deduplicated text: 2.6 vs 3.4 CPU-s with it on).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The stage code, and the extractors `refinery.extract.dispatch` imports on first use (~0.4 CPU-s together).
MODULES = ["refinery.corpus.dedup_stage", "refinery.extract.dispatch", "refinery.tokenize",
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


for _module in MODULES:
    importlib.import_module(_module)
warm_dependency_checks()
