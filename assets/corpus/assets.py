"""Corpus flow assets: one partition per raw drop. Each asset resolves its drop, calls one processing stage
and reports what it did; the stages themselves live in `refinery.corpus` and never import dagster."""
from collections.abc import Callable

import dagster as dg

from assets.corpus.metadata import stage_metadata
from assets.corpus.partitions import drops, earlier_drops
from refinery.catalog.corpus import DEDUP, EXTRACT, FILTER, TOKENIZE
from refinery.corpus import flow
from refinery.corpus.dedup_stage import EarlierDropsNotReady, dedup
from refinery.stage import StageResult, StageSpec
from resources import ComputeResource, SettingsResource, StorageResource

raw_documents = dg.AssetSpec(
    "raw_documents", group_name="corpus", partitions_def=drops, kinds={"s3", "file"},
    description="Raw files of a drop (HTML, PDF, DOCX, PPTX, XLSX, JSON/JSONL, Markdown, text) under the raw root.",
)

StageFn = Callable[[flow.Corpus, dg.AssetExecutionContext, StorageResource], StageResult]


def _stage_asset(spec: StageSpec, stage: StageFn, **kwargs) -> dg.AssetsDefinition:
    """The asset of a declared corpus stage: its key, input and description come from the declaration."""
    upstream = [i.asset for i in spec.inputs] or [raw_documents.key]
    # one drop per run (Dagster's default for dynamic partitions): a drop's dedup depends on the drops before it
    @dg.asset(name=spec.asset, deps=upstream, partitions_def=drops, group_name="corpus", kinds={"datatrove"},
              description=spec.description, **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
               settings: SettingsResource) -> dg.MaterializeResult:
        config = settings.config()
        corpus = flow.Corpus(storage.layout(), config.corpus, compute.runner(), storage.raw_uri(),
                             storage.endpoint_url, config.embeddings)
        return dg.MaterializeResult(metadata=stage_metadata(stage(corpus, context, storage)))

    return _asset


extracted_documents = _stage_asset(EXTRACT, lambda c, ctx, _: flow.extract(c, ctx.partition_key))
filtered_documents = _stage_asset(FILTER, lambda c, ctx, _: flow.filter_documents(c, ctx.partition_key))
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


deduplicated_documents = _stage_asset(DEDUP, _dedup, pool="corpus_dedup")
tokenized_shards = _stage_asset(TOKENIZE, lambda c, ctx, _: flow.tokenize(c, ctx.partition_key))
