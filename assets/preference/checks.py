"""Asset checks on a round's preference dataset: TRL's row layouts, no evaluation prompt trained on, and
the round's LLM stages (candidates, AI feedback) within their failure bound."""
import dagster as dg

from assets.check_results import check_result, llm_failures_result
from assets.preference.assets import preference_ai_feedback, preference_dataset
from refinery.catalog.preference import DATASET, LLM_STAGES
from refinery.llmdata.checks import llm_failures
from refinery.preference import checks
from resources import StorageResource


@dg.asset_check(asset=preference_dataset, description="Every DPO row has a user-ending prompt, distinct non-empty "
                "chosen/rejected answers and score_chosen > score_rejected; every KTO row a completion and a label.")
def preference_dataset_trainer_layout(context: dg.AssetCheckExecutionContext,
                                      storage: StorageResource) -> dg.AssetCheckResult:
    layout = storage.layout()
    return check_result(checks.trainer_layout(layout.at(DATASET.output_uri(layout, context.partition_key))),
                   counted="rows_checked")


@dg.asset_check(asset=preference_dataset, description="No held-out evaluation prompt appears in the training rows.")
def preference_dataset_no_eval_leak(context: dg.AssetCheckExecutionContext,
                                    storage: StorageResource) -> dg.AssetCheckResult:
    layout = storage.layout()
    dataset = layout.at(DATASET.output_uri(layout, context.partition_key))
    return check_result(checks.no_eval_leak(dataset, layout.at(layout.preference("eval"))), counted="rows_checked")


@dg.asset_check(asset=preference_ai_feedback, description="The round's candidate generation and AI feedback kept "
                "their failed LLM requests within preference.llm.max_failure_share.")
def preference_ai_feedback_llm_failures(context: dg.AssetCheckExecutionContext,
                                        storage: StorageResource) -> dg.AssetCheckResult:
    stages = [(spec, context.partition_key) for spec in LLM_STAGES]
    return llm_failures_result(*llm_failures(storage.layout(), stages))
