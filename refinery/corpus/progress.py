"""Progress of a long corpus stage: documents read, text MB/s, tasks done, ETA.

Each datatrove task counts what its reader yields in a pass-through step (`CountDocuments`) and writes the
count to `progress/<rank>.json` in the stage's log folder every few seconds; `watch()` sums those files
and the completion markers while the runner works. Files, not shared memory, so the same line comes from
tasks in local processes, on Ray, on Slurm or in SageMaker jobs: they all write to the log folder. The
line goes to the `refinery.progress` logger once a minute (the CLI prints it, Dagster keeps it in the run
log) and to a tqdm bar when stderr is a terminal; a stage done before the first line prints nothing."""
from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from datatrove.io import DataFolder
from datatrove.pipeline.base import PipelineStep

from refinery.llm.progress import INTERVAL, duration

log = logging.getLogger("refinery.progress")
WRITE_EVERY = 5.0  # seconds between a task's progress writes: cheap on local disk and on S3


class CountDocuments(PipelineStep):
    """Passes documents through and records how many (and how much text) this task has read."""

    type = "📊 - PROGRESS"
    name = "count"

    def __init__(self, folder: DataFolder, every: float = WRITE_EVERY):
        super().__init__()
        self.folder, self.every = folder, every

    def _write(self, rank: int, documents: int, chars: int) -> None:
        with self.folder.open(f"progress/{rank:05d}.json", "w") as f:
            f.write(json.dumps({"documents": documents, "chars": chars}))

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        documents = chars = 0
        last = time.monotonic()
        for doc in data or ():
            documents += 1
            chars += len(doc.text)
            yield doc
            if time.monotonic() - last >= self.every:
                self._write(rank, documents, chars)
                last = time.monotonic()
        self._write(rank, documents, chars)


def with_counter(pipeline: list, folder: DataFolder) -> list:
    """The pipeline with a counter after its reader; pipelines that read no documents are left as they are."""
    if pipeline and "READER" in (getattr(pipeline[0], "type", "") or ""):
        return [pipeline[0], CountDocuments(folder), *pipeline[1:]]
    return pipeline


class StageProgress:
    def __init__(self, name: str, folder: DataFolder, tasks: int, expected: int | None = None,
                 interval: float = INTERVAL, stream=None):
        self.name, self.folder, self.tasks, self.expected = name, folder, tasks, expected
        self.interval = interval
        self.documents = self.chars = self.done_tasks = 0
        self.lines = 0
        self._t0 = time.monotonic()
        self._stream = stream or sys.stderr
        self._bar = None

    def poll(self) -> None:
        """Reads the task counts and completion markers (a missing or half-written file counts as 0)."""
        documents = chars = 0
        try:
            files = self.folder.list_files("progress") if self.folder.exists("progress") else []
            for path in files:
                try:
                    with self.folder.open(path) as f:
                        row = json.loads(f.read())
                except (OSError, ValueError):
                    continue
                documents += row.get("documents", 0)
                chars += row.get("chars", 0)
            done = len(self.folder.list_files("completions")) if self.folder.exists("completions") else 0
        except OSError:  # storage hiccup: keep the last counts, the next poll tries again
            return
        self.documents, self.chars, self.done_tasks = documents, chars, done

    def counters(self) -> dict:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.documents / elapsed
        left = (self.expected - self.documents) if self.expected else None
        eta = round(left / rate, 1) if left and rate > 0 else None
        return {"stage": self.name, "documents": self.documents, "expected": self.expected,
                "text_mb": round(self.chars / 1e6, 2), "mb_per_s": round(self.chars / 1e6 / elapsed, 2),
                "tasks_done": self.done_tasks, "tasks": self.tasks, "elapsed_s": round(elapsed, 1), "eta_s": eta}

    def line(self) -> str:
        c = self.counters()
        docs = f"{c['documents']:,}" + (f"/{c['expected']:,}" if c["expected"] else "")
        eta = f", ETA {duration(c['eta_s'])}" if c["eta_s"] is not None else ""
        return (f"{self.name}: {docs} documents, {c['text_mb']:g} MB of text ({c['mb_per_s']:g} MB/s), "
                f"{c['tasks_done']}/{c['tasks']} tasks, {duration(c['elapsed_s'])} elapsed{eta}")

    def _show(self) -> None:
        if self._bar is None and getattr(self._stream, "isatty", lambda: False)():
            from tqdm import tqdm
            self._bar = tqdm(total=self.expected, desc=self.name, file=self._stream, unit="doc", dynamic_ncols=True)
        if self._bar is not None:
            self._bar.n = self.documents
            self._bar.set_postfix_str(f"{self.done_tasks}/{self.tasks} tasks", refresh=True)


@contextmanager
def watch(name: str, folder: DataFolder, tasks: int, expected: int | None = None,
          interval: float = INTERVAL, tick: float = WRITE_EVERY) -> Iterator[StageProgress]:
    """Reports `name`'s progress while the body runs; logs a last line only if it logged one before. Polls as
    often as tasks write their counts: listing the log folder more often (S3) would only read the same files."""
    progress = StageProgress(name, folder, tasks, expected, interval)
    stop = threading.Event()

    def loop() -> None:
        last = time.monotonic()
        while not stop.wait(min(tick, interval)):
            progress.poll()
            progress._show()
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                progress.lines += 1
                log.info(progress.line())

    thread = threading.Thread(target=loop, name=f"progress-{name}", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()
        progress.poll()
        if progress._bar is not None:
            progress._show()
            progress._bar.close()
        if progress.lines:
            log.info(progress.line())
