"""Preference loop assets, one partition per round (`round-001`, ...): prompts -> candidates -> AI feedback ->
feedback (human over AI) -> DPO/KTO dataset -> policy (training job + endpoint) -> evaluation (win rate).
The loop sensor (`sensor.py`) trains a round once it has enough pairs and opens the next."""
import dagster as dg

from assets.preference.metadata import preference_metadata, win_rate_plot
from refinery.catalog.preference import AI_FEEDBACK, CANDIDATES, DATASET, EVAL, FEEDBACK, POLICY, PROMPTS
from refinery.preference import flow, policy
from refinery.stage import StageSpec
from resources import LLMResource, SettingsResource, StorageResource, TrainingResource

rounds = dg.DynamicPartitionsDefinition(name="rounds")


def make_round(key: str, storage: StorageResource, llm: LLMResource, settings: SettingsResource) -> flow.Round:
    config = settings.config()
    return flow.Round(storage.layout(), config.preference, config.sft.export, key, llm, config.sft.pricing)


def _round_asset(spec: StageSpec, stage, **kwargs) -> dg.AssetsDefinition:
    @dg.asset(name=spec.asset, deps=[i.asset for i in spec.inputs], partitions_def=rounds, group_name="preference",
              description=spec.description, **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
               settings: SettingsResource) -> dg.MaterializeResult:
        r = make_round(context.partition_key, storage, llm, settings)
        return dg.MaterializeResult(metadata=preference_metadata(stage(r), spec.output_uri(r.layout, r.key)))

    return _asset


preference_prompts = _round_asset(PROMPTS, flow.build_prompts, kinds={"python"})
preference_candidates = _round_asset(CANDIDATES, flow.generate, pool="llm", kinds={"llm"})
preference_ai_feedback = _round_asset(AI_FEEDBACK, flow.ai_feedback, pool="llm", kinds={"llm"})
preference_feedback = _round_asset(FEEDBACK, flow.feedback, kinds={"python"})
preference_dataset = _round_asset(DATASET, flow.build_dataset, kinds={"parquet"})


# the `training` pool (dagster.yaml: one at a time): two rounds never train and update one endpoint at once
@dg.asset(name=POLICY.asset, deps=[DATASET.asset], partitions_def=rounds, group_name="preference",
          kinds={"sagemaker"}, pool="training", description=POLICY.description)
def preference_policy(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
                      settings: SettingsResource, training: TrainingResource) -> dg.MaterializeResult:
    r = make_round(context.partition_key, storage, llm, settings)
    trainer = training.trainer(policy.training_options(r), r.layout.at(r.layout.preference("training")))
    summary = policy.train_and_deploy(r, trainer, local=training.backend == "local")
    return dg.MaterializeResult(metadata=preference_metadata(summary, POLICY.output_uri(r.layout, r.key)))


@dg.asset(name=EVAL.asset, deps=[POLICY.asset], partitions_def=rounds, group_name="preference", pool="llm",
          kinds={"llm"}, description=EVAL.description)
def preference_eval(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
                    settings: SettingsResource) -> dg.MaterializeResult:
    r = make_round(context.partition_key, storage, llm, settings)
    summary = policy.evaluate(r)
    metadata = preference_metadata(summary, EVAL.output_uri(r.layout, r.key))
    metadata["win_rate_by_round"] = win_rate_plot(policy.history(r.layout, r.key))
    return dg.MaterializeResult(metadata=metadata)
