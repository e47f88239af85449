"""Synthetic SFT assets: chunks of the deduplicated corpus -> one partition per generation method for
generations, filtered and judged records -> the exported dataset. A backfill of one method partition
regenerates just that method; unchanged stages are reused and cached LLM answers are never paid twice."""
import dagster as dg

from assets.corpus import deduplicated_documents
from assets.sft_metadata import sft_metadata
from refinery.sft import flow
from refinery.sft.dataset import build_dataset
from refinery.sft.methods import METHODS
from resources import CorpusSettings, HubResource, LLMResource, StorageResource

sft_methods = dg.StaticPartitionsDefinition(list(METHODS))


def _sft(storage: StorageResource, llm: LLMResource, settings: CorpusSettings) -> flow.SFT:
    layout, config = storage.layout(), settings.sft_config()
    return flow.SFT(layout, config, lambda: llm.client(layout, config.pricing), llm.default_model(),
                    llm.is_external())


@dg.asset(group_name="sft", deps=[deduplicated_documents], kinds={"python"},
          description="Paragraph-aligned chunks of every deduplicated drop (PII-redacted first when the LLM is external).")
def sft_chunks(storage: StorageResource, llm: LLMResource, settings: CorpusSettings) -> dg.MaterializeResult:
    sft = _sft(storage, llm, settings)
    summary = flow.build_chunks(sft, flow.deduplicated_drops(sft.layout, storage.list_drops()))
    return dg.MaterializeResult(metadata=sft_metadata(summary, sft.layout.sft("chunks")))


def _method_asset(name: str, upstream, stage, description: str, **kwargs) -> dg.AssetsDefinition:
    @dg.asset(name=name, deps=[upstream], partitions_def=sft_methods, group_name="sft", description=description,
              **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
               settings: CorpusSettings) -> dg.MaterializeResult:
        sft = _sft(storage, llm, settings)
        summary = stage(sft, context.partition_key)
        return dg.MaterializeResult(metadata=sft_metadata(summary, sft.layout.sft(name.removeprefix("sft_"),
                                                                                  context.partition_key)))

    return _asset


# LLM-calling assets share the `llm` pool (dagster.yaml): one at a time per instance, each bounded inside
sft_generated = _method_asset("sft_generated", sft_chunks, flow.generate,
                              "Generations of one method (grounded Q&A, Self-Instruct, Evol-Instruct, topic tree, "
                              "conversations); failed calls and unusable outputs kept with reasons.",
                              pool="llm", kinds={"llm"})
sft_filtered = _method_asset("sft_filtered", sft_generated, flow.filter_,
                             "Generations without empty/identical/truncated/malformed turns, length outliers, "
                             "near-duplicates, wrong language, PII or toxicity.", kinds={"python"})
sft_judged = _method_asset("sft_judged", sft_filtered, flow.judge,
                           "UltraFeedback-style ratings (instruction following, groundedness, honesty, helpfulness) "
                           "with rationales; records under the threshold dropped.", pool="llm", kinds={"llm"})


@dg.asset(group_name="sft", deps=[sft_judged], kinds={"parquet"},
          description="The SFT dataset: chat messages and Alpaca layouts, Parquet and JSONL, train/test split, "
                      "dataset card; human review export, and reviewed records imported back.")
def sft_dataset(storage: StorageResource, llm: LLMResource, settings: CorpusSettings,
                hub: HubResource) -> dg.MaterializeResult:
    sft = _sft(storage, llm, settings)
    summary = build_dataset(sft, list(METHODS))
    metadata = sft_metadata(summary, sft.layout.sft("dataset"))
    export = sft.config.export
    if export.hub_repo_id and not summary["reused_previous_output"]:
        url = hub.push(sft.folder("dataset"), export.hub_repo_id, private=export.hub_private)
        metadata["hub_commit"] = dg.MetadataValue.url(url)
    return dg.MaterializeResult(metadata=metadata)
