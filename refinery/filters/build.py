"""Turns FilterOptions into datatrove steps.

Order: cheapest and most decisive first, as in FineWeb -- metadata (no text work), language (bad words reads
its metadata["language"]), Gopher quality, Gopher repetition, C4 (rewrites lines, so FineWeb sees its
output), FineWeb, bad words. Gopher quality runs before repetition (FineWeb has it the other way round; the
kept set is the same) so that short documents are reported as "gopher_short_doc": repetition's top-n-gram
rule also rejects any text under ~200 characters, where one n-gram alone is over 16% of the text.

With `text_view: prose` (the `documents` profile) Gopher quality is ProseQuality and the repetition and
FineWeb rules and language ID read the document's prose; with `text` (`web`) they are datatrove's filters.

PII redaction comes last by default: nothing is spent on documents that are dropped, and it still runs before
the caller's writer, so kept output never holds PII. Dropped documents are therefore written unredacted to
the exclusion folders (treat them as sensitive); `pii.redact_before_filters` moves redaction first instead.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable

from datatrove.io import DataFolder, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers import JsonlWriter

from refinery.filters.bad_words import OfflineBadWordsFilter
from refinery.filters.heuristics import (
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
    ProseFineWebQuality,
    ProseRepetition,
)
from refinery.filters.language import OfflineLanguageFilter
from refinery.filters.metadata_filter import MetadataFilter
from refinery.filters.options import FilterOptions
from refinery.filters.pii import PIIRedactor
from refinery.filters.prose_quality import ProseQuality

# Short, stable filter names: exclusion subfolders, and the fallback drop reason.
FILTER_NAMES = ("metadata", "language", "gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality",
                "bad_words", "quality_classifier")
EXCLUSION_FILENAME = "${rank}.jsonl.gz"


def exclusion_writer(exclusion_folder: DataFolder | str | None, name: str) -> JsonlWriter | None:
    """A writer for `name`'s dropped documents in `<exclusion_folder>/<name>/` (same filesystem)."""
    if exclusion_folder is None:
        return None
    folder = get_datafolder(exclusion_folder)
    sub = DataFolder(posixpath.join(folder.path, name), fs=folder.fs, auto_mkdir=folder.auto_mkdir)
    return JsonlWriter(sub, output_filename=EXCLUSION_FILENAME)


def build_filter_steps(options: FilterOptions, exclusion_folder: DataFolder | str | None = None,
                       quality: Callable[[JsonlWriter | None], PipelineStep] | None = None) -> list[PipelineStep]:
    """The enabled filter steps, in pipeline order, each writing its drops (with metadata["filter_reason"])
    to `<exclusion_folder>/<filter name>/${rank}.jsonl.gz`. None: drops are not written. `quality` makes the
    quality classifier's step from its exclusion writer (it needs the storage root and a trained artifact:
    refinery/quality/filter_step.py); it runs last, being the costliest per document. Without `quality` the
    classifier is left out even when enabled."""

    def ex(name: str) -> JsonlWriter | None:
        return exclusion_writer(exclusion_folder, name)

    steps: list[PipelineStep] = []

    def add(name: str, step: PipelineStep) -> None:
        step.short_name = name  # its exclusion folder and config section; per-filter drop counts use it
        steps.append(step)

    o = options
    on_prose = o.text_view == "prose"
    if o.metadata.enabled and o.metadata.has_rules():  # inert without rules: not worth a pipeline step
        m = o.metadata
        add("metadata", MetadataFilter(m.blocked_domains, m.blocked_url_patterns, m.blocked_title_patterns,
                                       m.required_keys, url_key=m.url_key, title_key=m.title_key,
                                       exclusion_writer=ex("metadata")))
    if o.language.enabled:
        add("language", OfflineLanguageFilter(
            languages=o.language.languages, language_threshold=o.language.threshold,
            model_path=o.language.model_path, exclusion_writer=ex("language"), view=o.text_view,
            accept_top_language=o.language.accept_top_language))
    if o.gopher_quality.enabled:
        if on_prose:
            add("gopher_quality", ProseQuality(**o.gopher_quality.model_dump(exclude={"enabled"}),
                                               exclusion_writer=ex("gopher_quality")))
        else:
            gopher = o.gopher_quality.model_dump(exclude={"enabled", "min_prose_words"})
            add("gopher_quality", GopherQuality(**gopher, exclusion_writer=ex("gopher_quality")))
    if o.gopher_repetition.enabled:
        g = o.gopher_repetition
        repetition = dict(
            dup_line_frac=g.dup_line_frac, dup_para_frac=g.dup_para_frac, dup_line_char_frac=g.dup_line_char_frac,
            dup_para_char_frac=g.dup_para_char_frac, top_n_grams=tuple(g.top_n_grams),
            dup_n_grams=tuple(g.dup_n_grams), exclusion_writer=ex("gopher_repetition"))
        add("gopher_repetition", ProseRepetition(min_prose_words=g.min_prose_words, **repetition) if on_prose
                                 else GopherRepetition(**repetition))
    if o.c4_quality.enabled:
        add("c4_quality", C4Quality(**o.c4_quality.model_dump(exclude={"enabled"}), exclusion_writer=ex("c4_quality")))
    if o.fineweb_quality.enabled:
        f = o.fineweb_quality
        add("fineweb_quality", (ProseFineWebQuality if on_prose else FineWebQuality)(
            line_punct_thr=f.line_punct_thr, line_punct_exclude_zero=f.line_punct_exclude_zero,
            short_line_thr=f.short_line_thr, short_line_length=f.short_line_length,
            char_duplicates_ratio=f.char_duplicates_ratio, new_line_ratio=f.new_line_ratio,
            exclusion_writer=ex("fineweb_quality")))
    if o.bad_words.enabled:
        add("bad_words", OfflineBadWordsFilter(**o.bad_words.model_dump(exclude={"enabled"}),
                                               exclusion_writer=ex("bad_words")))
    if o.quality_classifier.enabled and quality is not None:
        add("quality_classifier", quality(ex("quality_classifier")))
    if o.pii.enabled:
        redactor = PIIRedactor(kinds=o.pii.kinds, placeholders=o.pii.placeholders, **o.pii.detector_args())
        if o.pii.redact_before_filters:
            steps.insert(0, redactor)
        else:
            steps.append(redactor)
    return steps
