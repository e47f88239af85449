"""Synthetic SFT assets: chunks of the deduplicated corpus -> one partition per generation method for
generations, filtered and judged records -> the exported dataset. A backfill of one method partition
regenerates just that method; unchanged stages are reused and cached LLM answers are never paid twice."""
import dagster as dg

from assets.sft.metadata import sft_metadata
from refinery.catalog.corpus import DEDUP
from refinery.catalog.sft import CHUNKS, DATASET, FILTERED, GENERATED, JUDGED
from refinery.sft import flow
from refinery.sft.dataset import build_dataset
from refinery.sft.methods import METHODS
from refinery.stage import StageSpec
from resources import EmbeddingsResource, HubResource, LLMResource, SettingsResource, StorageResource

sft_methods = dg.StaticPartitionsDefinition(list(METHODS))


def _sft(storage: StorageResource, llm: LLMResource, settings: SettingsResource) -> flow.SFT:
    return flow.SFT(storage.layout(), settings.config().sft, llm)


@dg.asset(name=CHUNKS.asset, group_name="sft", deps=[DEDUP.asset], kinds={"python"}, description=CHUNKS.description)
def sft_chunks(storage: StorageResource, llm: LLMResource, settings: SettingsResource) -> dg.MaterializeResult:
    sft = _sft(storage, llm, settings)
    summary = flow.build_chunks(sft, flow.deduplicated_drops(sft.layout, storage.list_drops()))
    return dg.MaterializeResult(metadata=sft_metadata(summary, CHUNKS.output_uri(sft.layout)))


def _method_asset(spec: StageSpec, stage, **kwargs) -> dg.AssetsDefinition:
    @dg.asset(name=spec.asset, deps=[i.asset for i in spec.inputs], partitions_def=sft_methods, group_name="sft",
              description=spec.description, **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
               settings: SettingsResource) -> dg.MaterializeResult:
        sft = _sft(storage, llm, settings)
        summary = stage(sft, context.partition_key)
        return dg.MaterializeResult(metadata=sft_metadata(summary, spec.output_uri(sft.layout, context.partition_key)))

    return _asset


# LLM-calling assets share the `llm` pool (dagster.yaml): one at a time per instance, each bounded inside
sft_generated = _method_asset(GENERATED, flow.generate, pool="llm", kinds={"llm"})
sft_filtered = _method_asset(FILTERED, flow.filter_records_of, kinds={"python"})
sft_judged = _method_asset(JUDGED, flow.judge, pool="llm", kinds={"llm"})


@dg.asset(name=DATASET.asset, group_name="sft", deps=[JUDGED.asset], kinds={"parquet"}, description=DATASET.description)
def sft_dataset(storage: StorageResource, llm: LLMResource, settings: SettingsResource,
                hub: HubResource, embeddings: EmbeddingsResource) -> dg.MaterializeResult:
    sft = _sft(storage, llm, settings)
    embedder = embeddings.embedder(settings.config().embeddings, sft.layout) if sft.config.semantic_dedup.enabled else None
    summary = build_dataset(sft, list(METHODS), embedder)
    metadata = sft_metadata(summary, DATASET.output_uri(sft.layout))
    export = sft.config.export
    if export.hub_repo_id and not summary["reused_previous_output"]:
        url = hub.push(sft.output(DATASET), export.hub_repo_id, private=export.hub_private)
        metadata["hub_commit"] = dg.MetadataValue.url(url)
    return dg.MaterializeResult(metadata=metadata)
