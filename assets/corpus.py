"""Corpus flow assets: one partition per raw drop. Each asset resolves its drop, calls one processing stage
and reports what it did; the stages themselves live in `refinery.corpus` and never import dagster."""
from collections.abc import Callable

import dagster as dg

from assets.metadata import stage_metadata
from assets.partitions import drops, earlier_drops
from refinery.corpus import flow
from refinery.corpus.dedup_stage import EarlierDropsNotReady, dedup
from refinery.corpus.stage import StageResult
from resources import ComputeResource, CorpusSettings, StorageResource

raw_documents = dg.AssetSpec(
    "raw_documents", group_name="corpus", partitions_def=drops, kinds={"s3", "file"},
    description="Raw files of a drop (HTML, PDF, DOCX, PPTX, XLSX, JSON/JSONL, Markdown, text) under the raw root.",
)

StageFn = Callable[[flow.Corpus, dg.AssetExecutionContext, StorageResource], StageResult]


def _stage_asset(name: str, upstream, stage: StageFn, description: str, **kwargs) -> dg.AssetsDefinition:
    # one drop per run (Dagster's default for dynamic partitions): a drop's dedup depends on the drops before it
    @dg.asset(name=name, deps=[upstream], partitions_def=drops, group_name="corpus", kinds={"datatrove"},
              description=description, **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
               settings: CorpusSettings) -> dg.MaterializeResult:
        corpus = flow.Corpus(storage.layout(), settings.config(), compute.runner(), storage.raw_uri(),
                             storage.endpoint_url)
        return dg.MaterializeResult(metadata=stage_metadata(stage(corpus, context, storage)))

    return _asset


extracted_documents = _stage_asset(
    "extracted_documents", raw_documents, lambda c, ctx, _: flow.extract(c, ctx.partition_key),
    "Clean text per document (datatrove JSONL.gz), bad files quarantined with their reason.",
)
filtered_documents = _stage_asset(
    "filtered_documents", extracted_documents, lambda c, ctx, _: flow.filter_(c, ctx.partition_key),
    "Documents kept by the quality/language/toxicity filters, PII redacted; drops kept with reasons.",
)
# A backfill may start a later drop's run before an earlier one's: wait for it by retrying the step
BACKFILL_RETRIES, BACKFILL_RETRY_SECONDS = 20, 30


def _dedup(corpus: flow.Corpus, context: dg.AssetExecutionContext, storage: StorageResource) -> StageResult:
    drop = context.partition_key
    try:
        return dedup(corpus, drop, earlier_drops(context.instance, drop, storage.list_drops()))
    except EarlierDropsNotReady as e:
        if "dagster/backfill" not in context.run.tags:
            raise  # a single run: fail now with the message, nothing else will catch up
        raise dg.RetryRequested(max_retries=BACKFILL_RETRIES, seconds_to_wait=BACKFILL_RETRY_SECONDS) from e


deduplicated_documents = _stage_asset(
    "deduplicated_documents", filtered_documents, _dedup,
    "Exact, MinHash near-duplicate and CCNet-paragraph duplicates removed against this and all earlier drops.",
    pool="corpus_dedup",
)
tokenized_shards = _stage_asset(
    "tokenized_shards", deduplicated_documents, lambda c, ctx, _: flow.tokenize(c, ctx.partition_key),
    "Tokenized training shards (datatrove .ds + index), loadable by datatrove's token readers.",
)
