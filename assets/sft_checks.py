"""Asset checks on the SFT outputs: records parse and alternate roles, no empty turn, every record judged,
LLM failure shares within their bound."""
import dagster as dg

from assets.corpus_checks import _llm_failures_result, _result
from assets.sft import sft_dataset, sft_generated, sft_judged
from refinery.sft import checks
from resources import CorpusSettings, StorageResource


def _check(asset, name: str, description: str, check, partitioned: bool):
    @dg.asset_check(asset=asset, name=name, description=description)
    def _asset_check(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
        layout = storage.layout()
        where = ("judged", context.partition_key) if partitioned else ("dataset",)
        return _result(check(layout.at(layout.sft(*where))), counted="records_checked")

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
    """`stages(context, settings)`: the stage markers whose LLM failure shares the check reports."""
    @dg.asset_check(asset=asset, name=name, description=description)
    def _asset_check(context: dg.AssetCheckExecutionContext, storage: StorageResource,
                     settings: CorpusSettings) -> dg.AssetCheckResult:
        return _llm_failures_result(*checks.llm_failures(storage.layout(), stages(context, settings)))

    return _asset_check


sft_generated_llm_failures = _llm_check(
    sft_generated, "sft_generated_llm_failures", "The method's failed LLM requests are within sft.llm.max_failure_share.",
    lambda context, settings: [f"generated-{context.partition_key}"])
sft_dataset_llm_failures = _llm_check(
    sft_dataset, "sft_dataset_llm_failures",
    "Every generation and judge stage behind the dataset kept its failed LLM requests within sft.llm.max_failure_share.",
    lambda context, settings: [f"{stage}-{m}" for m in settings.sft_config().methods for stage in ("generated", "judged")])
