"""The corpus stages for one drop. Each stage is a datatrove pipeline run by an injected runner, keyed by
a fingerprint of its input and configuration (see `stage.py`). No Dagster here: assets call these."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.catalog.corpus import DEDUP, EXTRACT, FILTER, TOKENIZE
from refinery.corpus import progress, report
from refinery.corpus.config import CorpusConfig
from refinery.embed.options import EmbeddingOptions
from refinery.extract.listing import list_raw
from refinery.extract.reader import RawFileReader
from refinery.filters.build import FILTER_NAMES, build_filter_steps
from refinery.quality.filter_step import quality_step, quality_version, score_histogram
from refinery.stage import PipelineRunner, Stage, StageResult, StageSpec, fingerprint, load_stats
from refinery.storage import Layout, data_folder
from refinery.tokenize import resolve_tokenizer

JSONL = "${rank}.jsonl.gz"


class NoDocuments(PipelineStep):
    """Reader for a stage whose input is empty (datatrove's readers raise on an empty folder)."""

    type = "📖 - READER"
    name = "∅ no documents"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        self.stat_update("documents", value=0)
        yield from data or ()


@dataclass
class Corpus:
    """Everything a stage needs: where things live, how they are configured, how pipelines run."""

    layout: Layout
    config: CorpusConfig
    runner: PipelineRunner
    raw_root: str
    raw_endpoint_url: str | None = None
    embeddings: EmbeddingOptions | None = None  # the `embeddings:` section (the quality classifier filter)

    def raw_folder(self):
        return data_folder(self.raw_root, self.raw_endpoint_url)

    def folder(self, uri: str):
        return self.layout.at(uri)

    def writer(self, uri: str) -> JsonlWriter:
        return JsonlWriter(self.folder(uri), output_filename=JSONL)

    def reader(self, uri: str) -> PipelineStep:
        folder = self.folder(uri)
        if not (folder.exists("") and folder.list_files(glob_pattern="*.jsonl.gz")):
            return NoDocuments()  # every document was dropped upstream: an empty stage, not an error
        # no `file_path` metadata: it is the absolute storage path, and `source` already names the raw file
        return JsonlReader(folder, glob_pattern="*.jsonl.gz", add_file_path=False)

    def run(self, stage: Stage, step: str, pipeline: list, tasks: int | None = None,
            expected: int | None = None) -> dict:
        """Runs one datatrove pipeline of `stage`, reporting its progress; `expected` is how many documents
        its reader will yield, when the stage before says so (the ETA comes from it). A runner that starts a
        cluster job returns what names it (job name, logs link), kept in the summary as `compute_job`."""
        tasks, logs = tasks or self.config.execution.tasks, self.folder(stage.log_dir(step))
        name = stage.name if step == "main" else f"{stage.name}/{step}"
        with progress.watch(name, logs, tasks, expected):
            job = self.runner(progress.with_counter(pipeline, logs), tasks, logs)
        summary = report.summarise(load_stats(self.layout, stage.log_dir(step)))
        return summary | {"compute_job": job} if job else summary


def raw_listing_fingerprint(corpus: Corpus, drop: str) -> tuple[str, int, int]:
    """(fingerprint, files, bytes) of a drop's raw objects: key, size and mtime/ETag (or the reason a
    local entry is quarantined unread), listed as the reader lists them."""
    rows = [(e.key, e.size, e.reason or e.version) for e in list_raw(corpus.raw_folder(), drop)]
    return fingerprint(rows), len(rows), int(sum(r[1] for r in rows))


def upstream(corpus: Corpus, drop: str, spec: StageSpec) -> str:
    """The fingerprint of the completed stage a stage reads (raises when it has not completed)."""
    fp = spec.fingerprint_in(corpus.layout, drop)
    if not fp:
        raise RuntimeError(f"stage '{spec.name}' has not completed for drop '{drop}': materialise {spec.asset} first")
    return fp


def documents_out(corpus: Corpus, drop: str, spec: StageSpec) -> int | None:
    """How many documents a completed stage wrote: the next stage's reader yields as many."""
    return (spec.summary_in(corpus.layout, drop) or {}).get("documents_out")


def extract_fingerprint(corpus: Corpus, drop: str) -> tuple[str, int, int]:
    """(fingerprint, files, bytes): the extraction of this raw listing with this configuration."""
    raw_fp, files, raw_bytes = raw_listing_fingerprint(corpus, drop)
    return fingerprint(EXTRACT.name, raw_fp, corpus.config.section_hash(EXTRACT.config)), files, raw_bytes


def extract(corpus: Corpus, drop: str) -> StageResult:
    lay = corpus.layout
    fp, files, raw_bytes = extract_fingerprint(corpus, drop)
    out, quarantine = EXTRACT.output_uri(lay, drop), lay.quarantine(drop)

    def body(stage: Stage) -> dict:
        reader = RawFileReader(corpus.raw_folder(), corpus.folder(quarantine), corpus.config.extract, prefix=drop)
        summary = corpus.run(stage, "main", [reader, corpus.writer(out)], tasks=max(1, min(files, corpus.config.execution.tasks)))
        summary.pop("documents_in", None)  # the reader's count is documents made; files_in is the input
        return summary | _io_summary(corpus, files, raw_bytes, out) | {
            "quarantine": report.quarantine_summary(report.iter_jsonl(corpus.folder(quarantine))),
            "samples": report.samples(corpus.folder(out), corpus.config.sample_documents),
            "outputs": {"documents": out, "quarantine": quarantine},
        }

    return Stage(lay, drop, EXTRACT, fp, [out, quarantine]).run(body)


def filter_fingerprint(corpus: Corpus, drop: str) -> str:
    options = corpus.config.filters.for_drop(drop)
    # the classifier's artifact version (`latest` resolved) when it is on: a retrained model refilters
    quality = (quality_version(corpus.layout, options.quality_classifier),) if options.quality_classifier.enabled else ()
    return fingerprint(FILTER.name, upstream(corpus, drop, EXTRACT), corpus.config.section_hash(FILTER.config),
                       options.profile, *quality)


def filter_documents(corpus: Corpus, drop: str) -> StageResult:
    lay = corpus.layout
    options = corpus.config.filters.for_drop(drop)
    fp = filter_fingerprint(corpus, drop)
    src, out, dropped = EXTRACT.output_uri(lay, drop), FILTER.output_uri(lay, drop), lay.dropped(drop, FILTER.name)

    def body(stage: Stage) -> dict:
        quality = quality_step(corpus.layout, options.quality_classifier, corpus.embeddings or EmbeddingOptions())
        steps = build_filter_steps(options, corpus.folder(dropped), quality)
        scored = next((s for s in steps if getattr(s, "short_name", "") == "quality_classifier"), None)
        summary = corpus.run(stage, "main", [corpus.reader(src), *steps, corpus.writer(out)],
                             expected=documents_out(corpus, drop, EXTRACT))
        by_filter = {name: report.samples(corpus.folder(lay.dropped(drop, FILTER.name, name)), 3, reason=True)
                     for name in FILTER_NAMES}
        return summary | _io_summary(corpus, None, report.folder_bytes(corpus.folder(src)), out) | {
            "profile": options.profile,
            # datatrove keys each step's stats by str(step); short_name is the filter's folder and config name
            "drops_by_filter": {step.short_name: int(summary["steps"].get(str(step), {}).get("dropped", 0))
                                for step in steps if hasattr(step, "short_name")},
            "dropped_samples": {name: rows for name, rows in by_filter.items() if rows},
            **({"quality_scores": score_histogram(summary["steps"].get(str(scored), {})),
                "quality_classifier": scored.version} if scored else {}),
            "samples": report.samples(corpus.folder(out), corpus.config.sample_documents),
            "outputs": {"documents": out, "dropped": dropped},
        }

    return Stage(lay, drop, FILTER, fp, [out, dropped]).run(body)


def _io_summary(corpus: Corpus, files: int | None, bytes_in: int, out: str) -> dict:
    summary = {"bytes_in": bytes_in, "bytes_out": report.folder_bytes(corpus.folder(out))}
    if files is not None:
        summary["files_in"] = files
    return summary


def tokenize_fingerprint(corpus: Corpus, drop: str) -> str:
    return fingerprint(TOKENIZE.name, upstream(corpus, drop, DEDUP), corpus.config.section_hash(TOKENIZE.config))


def tokenize(corpus: Corpus, drop: str) -> StageResult:
    from refinery.tokenize_step import FastDocumentTokenizer

    lay, opts = corpus.layout, corpus.config.tokenize
    fp = tokenize_fingerprint(corpus, drop)
    src, out = DEDUP.output_uri(lay, drop), TOKENIZE.output_uri(lay, drop)

    def body(stage: Stage) -> dict:
        if not opts.enabled:
            return {"tokens": 0, "shards": [], "disabled": True, "outputs": {}}
        with tempfile.TemporaryDirectory(prefix="refinery-tok-") as scratch:
            tokenizer = FastDocumentTokenizer(
                output_folder=corpus.folder(out), local_working_dir=scratch,
                tokenizer_name_or_path=resolve_tokenizer(opts.tokenizer), eos_token=opts.eos_token,
                save_filename=drop, shuffle_documents=opts.shuffle, seed=opts.seed,
                max_tokens_per_file=opts.max_tokens_per_file,
            )
            summary = corpus.run(stage, "main", [corpus.reader(src), tokenizer],
                                 expected=documents_out(corpus, drop, DEDUP))
        tokens = sum(int(m.get("tokens", 0)) for m in summary["steps"].values())
        shards = corpus.folder(out).list_files(glob_pattern="*.ds") if corpus.folder(out).exists("") else []
        return summary | _io_summary(corpus, None, report.folder_bytes(corpus.folder(src)), out) | {
            "tokens": tokens, "shards": shards, "tokenizer": opts.tokenizer, "outputs": {"shards": out}}

    return Stage(lay, drop, TOKENIZE, fp, [out]).run(body)
