"""Corpus flow assets: one partition per raw drop. Each asset resolves its drop, calls one processing stage
and reports what it did; the stages themselves live in `refinery.corpus` and never import dagster."""

import dagster as dg

from assets.metadata import stage_metadata
from assets.partitions import drops, earlier_drops
from refinery.corpus import flow
from refinery.corpus.dedup_stage import dedup
from resources import ComputeResource, CorpusSettings, StorageResource

raw_documents = dg.AssetSpec(
    "raw_documents", group_name="corpus", partitions_def=drops, kinds={"s3", "file"},
    description="Raw files of a drop (HTML, PDF, DOCX, PPTX, XLSX, JSON/JSONL, Markdown, text) under the raw root.",
)


def _corpus(storage: StorageResource, compute: ComputeResource, settings: CorpusSettings) -> flow.Corpus:
    return flow.Corpus(storage.layout(), settings.config(), compute.runner(), storage.raw_uri(), storage.endpoint_url)


# one drop per run (Dagster's default for dynamic partitions): a drop's dedup depends on the drops before it
_COMMON = dict(partitions_def=drops, group_name="corpus", kinds={"datatrove"})


@dg.asset(deps=[raw_documents], **_COMMON,
          description="Clean text per document (datatrove JSONL.gz), bad files quarantined with their reason.")
def extracted_documents(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
                        settings: CorpusSettings) -> dg.MaterializeResult:
    result = flow.extract(_corpus(storage, compute, settings), context.partition_key)
    return dg.MaterializeResult(metadata=stage_metadata(result))


@dg.asset(deps=[extracted_documents], **_COMMON,
          description="Documents kept by the quality/language/toxicity filters, PII redacted; drops kept with reasons.")
def filtered_documents(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
                       settings: CorpusSettings) -> dg.MaterializeResult:
    result = flow.filter_(_corpus(storage, compute, settings), context.partition_key)
    return dg.MaterializeResult(metadata=stage_metadata(result))


@dg.asset(deps=[filtered_documents], pool="corpus_dedup", **_COMMON,
          description="Exact, CCNet-paragraph and MinHash near-duplicates removed against this and all earlier drops.")
def deduplicated_documents(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
                           settings: CorpusSettings) -> dg.MaterializeResult:
    drop = context.partition_key
    result = dedup(_corpus(storage, compute, settings), drop, earlier_drops(context.instance, drop))
    return dg.MaterializeResult(metadata=stage_metadata(result))


@dg.asset(deps=[deduplicated_documents], **_COMMON,
          description="Tokenized training shards (datatrove .ds + index), loadable by datatrove's token readers.")
def tokenized_shards(context: dg.AssetExecutionContext, storage: StorageResource, compute: ComputeResource,
                     settings: CorpusSettings) -> dg.MaterializeResult:
    result = flow.tokenize(_corpus(storage, compute, settings), context.partition_key)
    return dg.MaterializeResult(metadata=stage_metadata(result))
