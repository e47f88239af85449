"""The preference loop's stages, one set per round (`round-001`, ...): `refinery/preference/` runs them,
`assets/preference/` makes each an asset partitioned by round, the loop sensor and `refinery preference` read
their markers through them."""
from __future__ import annotations

from refinery.catalog.sft import DATASET as SFT_DATASET
from refinery.stage import StageSpec

PROMPTS = StageSpec(
    "preference", "prompts", output="prompts", asset="preference_prompts", inputs=(SFT_DATASET,),
    config="preference.prompts", partition="round",
    description="The round's prompts: SFT held-out prompts, the prompt collection (topic quotas) and new production "
                "logs (whose responses and thumbs come along); the evaluation prompts are held out.")
CANDIDATES = StageSpec(
    "preference", "candidates", output="candidates", asset="preference_candidates", inputs=(PROMPTS,),
    config="preference.candidates", partition="round",
    description="N responses per prompt from the deployed policy and the reference models; the policy also answers "
                "the held-out evaluation prompts.")
AI_FEEDBACK = StageSpec(
    "preference", "ai_feedback", output="ai_feedback", asset="preference_ai_feedback", inputs=(CANDIDATES,),
    config="preference.ai_feedback", partition="round",
    description="UltraFeedback ratings with rationales and/or pairwise verdicts asked in both orders (position bias "
                "cancels, ties stay ties); jury agreement.")
FEEDBACK = StageSpec(
    "preference", "feedback", output="feedback", asset="preference_feedback", inputs=(AI_FEEDBACK,),
    config="preference.human", partition="round",
    description="Annotation export (Argilla, JSONL, CSV, with control records) and the returned annotations: "
                "annotators scored on the controls, low scorers flagged; human judgement overrides the AI's.")
DATASET = StageSpec(
    "preference", "dataset", output="dataset", asset="preference_dataset", inputs=(FEEDBACK,),
    config="preference.pairs", partition="round",
    description="DPO/ORPO pairs (prompt/chosen/rejected, scores, messages) and KTO rows (prompt/completion/label), "
                "Parquet and JSONL, dataset card.")
POLICY = StageSpec(
    "preference", "policy", output="policy", asset="preference_policy", inputs=(DATASET,),
    config="preference.training", partition="round",
    description="A training job on the round's pairs, then the policy endpoint created or updated. Published only "
                "when both succeeded; a failed job or update leaves the round failed and retryable.")
EVAL = StageSpec(
    "preference", "eval", output="eval", asset="preference_eval", inputs=(POLICY,), config="preference.eval_judges",
    partition="round",
    description="The new policy against the one that answered this round, on the held-out prompts, judged pairwise "
                "in both orders: its win rate, and every round's so far.")

STAGES = (PROMPTS, CANDIDATES, AI_FEEDBACK, FEEDBACK, DATASET, POLICY, EVAL)
DATA_STAGES = (PROMPTS, CANDIDATES, AI_FEEDBACK, FEEDBACK, DATASET)  # the round's data job
TRAIN_STAGES = (POLICY, EVAL)  # the paid step, once the round has enough pairs
LLM_STAGES = (CANDIDATES, AI_FEEDBACK)  # their markers carry the LLM failure share
