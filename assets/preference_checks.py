"""Asset checks on a round's preference dataset: TRL's row layouts, no evaluation prompt trained on, and
the round's LLM stages (candidates, AI feedback) within their failure bound."""
import dagster as dg

from assets.corpus_checks import _llm_failures_result, _result
from assets.preference import preference_ai_feedback, preference_dataset
from refinery.preference import checks
from refinery.sft.checks import llm_failures
from resources import StorageResource


@dg.asset_check(asset=preference_dataset, description="Every DPO row has a user-ending prompt, distinct non-empty "
                "chosen/rejected answers and score_chosen > score_rejected; every KTO row a completion and a label.")
def preference_dataset_trainer_layout(context: dg.AssetCheckExecutionContext,
                                      storage: StorageResource) -> dg.AssetCheckResult:
    layout = storage.layout()
    return _result(checks.trainer_layout(layout.at(layout.preference("rounds", context.partition_key, "dataset"))),
                   counted="rows_checked")


@dg.asset_check(asset=preference_dataset, description="No held-out evaluation prompt appears in the training rows.")
def preference_dataset_no_eval_leak(context: dg.AssetCheckExecutionContext,
                                    storage: StorageResource) -> dg.AssetCheckResult:
    layout = storage.layout()
    dataset = layout.at(layout.preference("rounds", context.partition_key, "dataset"))
    return _result(checks.no_eval_leak(dataset, layout.at(layout.preference("eval"))), counted="rows_checked")


@dg.asset_check(asset=preference_ai_feedback, description="The round's candidate generation and AI feedback kept "
                "their failed LLM requests within preference.llm.max_failure_share.")
def preference_ai_feedback_llm_failures(context: dg.AssetCheckExecutionContext,
                                        storage: StorageResource) -> dg.AssetCheckResult:
    key = context.partition_key
    return _llm_failures_result(*llm_failures(storage.layout(), [f"candidates-{key}", f"ai_feedback-{key}"],
                                              flow="preference"))
