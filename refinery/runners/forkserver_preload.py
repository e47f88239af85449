"""Imported once by the local runner's forkserver, before it forks any worker: each pool's workers (a pool
per multi-task step, ~5 per drop) then start with the stage code, the extractors' libraries, datatrove's
dependency checks, loguru's library paths, the fastText language ID model and the bundled tokenizer (with its
tiktoken encoder) already loaded instead of paying for them again (py-spy on the realdocs benchmark: ~2.4 CPU-s
of extractor imports, ~3 CPU-s of dependency checks and ~0.7 CPU-s of tokenizer loading across the workers)."""
from __future__ import annotations

import gc
import importlib
import os

from refinery.filters.language import load_lid_model
from refinery.runners.run_overheads import cache_log_library_dirs, check_distributions_once
from refinery.tokenize import preload_tokenizer

# Each worker is one of `workers` processes already sharing the cores: the tokenizers library's own thread
# pool on top only spins (tokenizing the benchmark's deduplicated text: 2.6 vs 3.4 CPU-s with it on).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The stage code, and the extractors `refinery.extract.dispatch` imports on first use (~0.4 CPU-s together).
MODULES = ["refinery.corpus.dedup_stage", "refinery.extract.dispatch", "refinery.tokenize_step",
           "refinery.extract.html", "refinery.extract.pdf", "refinery.extract.word", "refinery.extract.slides",
           "refinery.extract.sheets", "refinery.filters.language"]


for _module in MODULES:
    importlib.import_module(_module)
check_distributions_once()
load_lid_model()  # the bundled fastText language ID model
cache_log_library_dirs()
preload_tokenizer()  # the bundled one, the default; another is loaded (and its encoder built) by each worker
# All of the above lives as long as the workers: kept out of their collector's walks, which otherwise visit
# (and so copy, after the fork) every object loaded here (full collections in the realdocs flow's workers:
# 0.34 vs 0.07 CPU-s)
gc.freeze()
