"""Asset checks on the SFT outputs: records parse and alternate roles, no empty turn, every record judged,
LLM failure shares within their bound."""
import dagster as dg

from assets.check_results import check_result, llm_failures_result
from assets.sft.assets import sft_dataset, sft_generated, sft_judged
from refinery.catalog.sft import DATASET, GENERATED, JUDGED, LLM_STAGES
from refinery.llmdata.checks import llm_failures
from refinery.sft import checks
from resources import SettingsResource, StorageResource


def _check(asset, name: str, description: str, check, partitioned: bool):
    @dg.asset_check(asset=asset, name=name, description=description)
    def _asset_check(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
        layout = storage.layout()
        where = JUDGED.output_uri(layout, context.partition_key) if partitioned else DATASET.output_uri(layout)
        return check_result(check(layout.at(where)), counted="records_checked")

    return _asset_check


sft_dataset_schema_valid = _check(sft_dataset, "sft_dataset_schema_valid",
                                  "Every record parses and its turns alternate user/assistant, ending with the assistant.",
                                  checks.schema_valid, partitioned=False)
sft_dataset_no_empty_turns = _check(sft_dataset, "sft_dataset_no_empty_turns", "No turn has empty content.",
                                    checks.no_empty_turns, partitioned=False)
sft_dataset_judge_coverage = _check(sft_dataset, "sft_dataset_judge_coverage",
                                    "Judge coverage is 100%: every record carries a judgement.",
                                    checks.judge_coverage, partitioned=False)
sft_judged_coverage = _check(sft_judged, "sft_judged_coverage", "Every kept record of the method was judged.",
                             checks.judge_coverage, partitioned=True)


def _llm_check(asset, name: str, description: str, stages):
    """`stages(context, settings)`: the (stage, partition) whose LLM failure shares the check reports."""
    @dg.asset_check(asset=asset, name=name, description=description)
    def _asset_check(context: dg.AssetCheckExecutionContext, storage: StorageResource,
                     settings: SettingsResource) -> dg.AssetCheckResult:
        return llm_failures_result(*llm_failures(storage.layout(), stages(context, settings)))

    return _asset_check


sft_generated_llm_failures = _llm_check(
    sft_generated, "sft_generated_llm_failures", "The method's failed LLM requests are within sft.llm.max_failure_share.",
    lambda context, settings: [(GENERATED, context.partition_key)])
sft_dataset_llm_failures = _llm_check(
    sft_dataset, "sft_dataset_llm_failures",
    "Every generation and judge stage behind the dataset kept its failed LLM requests within sft.llm.max_failure_share.",
    lambda context, settings: [(stage, m) for m in settings.config().sft.methods for stage in LLM_STAGES])
