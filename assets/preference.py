"""Preference loop assets, one partition per round (`round-001`, ...): prompts -> candidates -> AI feedback ->
feedback (human over AI) -> DPO/KTO dataset -> policy (training job + endpoint) -> evaluation (win rate).
The loop sensor (orchestration/sensors.py) trains a round once it has enough pairs and opens the next."""
import dagster as dg

from assets.preference_metadata import preference_metadata, win_rate_plot
from assets.sft import sft_dataset
from refinery.preference import flow, policy
from resources import CorpusSettings, LLMResource, StorageResource, TrainingResource

rounds = dg.DynamicPartitionsDefinition(name="rounds")


def make_round(key: str, storage: StorageResource, llm: LLMResource, settings: CorpusSettings) -> flow.Round:
    layout, sft_config = storage.layout(), settings.sft_config()

    def clients(spec):
        if spec is None:  # the judges
            return llm.client(layout, sft_config.pricing), llm.default_model()
        return (llm.client(layout, sft_config.pricing, backend=spec.backend, base_url=spec.base_url,
                           endpoint_name=spec.endpoint_name),
                llm.model_for(spec.backend, spec.model, spec.endpoint_name))

    config = settings.preference_config()
    sources = [config.candidates.policy, *config.candidates.references]
    external = llm.is_external() or any(s.backend in ("anthropic", "openai") for s in sources)
    return flow.Round(layout, config, sft_config, key, clients, external_llm=external)


def _round_asset(name: str, upstream, stage, description: str, **kwargs) -> dg.AssetsDefinition:
    @dg.asset(name=name, deps=[upstream], partitions_def=rounds, group_name="preference", description=description,
              **kwargs)
    def _asset(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
               settings: CorpusSettings) -> dg.MaterializeResult:
        r = make_round(context.partition_key, storage, llm, settings)
        summary = stage(r)
        return dg.MaterializeResult(metadata=preference_metadata(
            summary, r.layout.preference("rounds", r.key, name.removeprefix("preference_"))))

    return _asset


preference_prompts = _round_asset(
    "preference_prompts", sft_dataset, flow.build_prompts,
    "The round's prompts: SFT held-out prompts, the prompt collection (topic quotas) and new production logs "
    "(whose responses and thumbs come along); the evaluation prompts are held out.", kinds={"python"})
preference_candidates = _round_asset(
    "preference_candidates", preference_prompts, flow.generate,
    "N responses per prompt from the deployed policy and the reference models; the policy also answers the "
    "held-out evaluation prompts.", pool="llm", kinds={"llm"})
preference_ai_feedback = _round_asset(
    "preference_ai_feedback", preference_candidates, flow.ai_feedback,
    "UltraFeedback ratings with rationales and/or pairwise verdicts asked in both orders (position bias "
    "cancels, ties stay ties); jury agreement.", pool="llm", kinds={"llm"})
preference_feedback = _round_asset(
    "preference_feedback", preference_ai_feedback, flow.feedback,
    "Annotation export (Argilla, JSONL, CSV, with control records) and the returned annotations: annotators "
    "scored on the controls, low scorers flagged; human judgement overrides the AI's.", kinds={"python"})
preference_dataset = _round_asset(
    "preference_dataset", preference_feedback, flow.build_dataset,
    "DPO/ORPO pairs (prompt/chosen/rejected, scores, messages) and KTO rows (prompt/completion/label), "
    "Parquet and JSONL, dataset card.", kinds={"parquet"})


# the `training` pool (dagster.yaml: one at a time): two rounds never train and update one endpoint at once
@dg.asset(deps=[preference_dataset], partitions_def=rounds, group_name="preference", kinds={"sagemaker"},
          pool="training",
          description="A training job on the round's pairs, then the policy endpoint created or updated. Published "
                      "only when both succeeded; a failed job or update leaves the round failed and retryable.")
def preference_policy(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
                      settings: CorpusSettings, training: TrainingResource) -> dg.MaterializeResult:
    r = make_round(context.partition_key, storage, llm, settings)
    trainer = training.trainer(policy.training_options(r), r.layout.at(r.layout.preference("training")))
    summary = policy.train_and_deploy(r, trainer, local=training.backend == "local")
    return dg.MaterializeResult(metadata=preference_metadata(summary, r.layout.preference("rounds", r.key, "policy")))


@dg.asset(deps=[preference_policy], partitions_def=rounds, group_name="preference", pool="llm", kinds={"llm"},
          description="The new policy against the one that answered this round, on the held-out prompts, judged "
                      "pairwise in both orders: its win rate, and every round's so far.")
def preference_eval(context: dg.AssetExecutionContext, storage: StorageResource, llm: LLMResource,
                    settings: CorpusSettings) -> dg.MaterializeResult:
    r = make_round(context.partition_key, storage, llm, settings)
    summary = policy.evaluate(r)
    metadata = preference_metadata(summary, r.layout.preference("rounds", r.key, "eval"))
    metadata["win_rate_by_round"] = win_rate_plot(policy.history(r.layout, r.key))
    return dg.MaterializeResult(metadata=metadata)
