"""The preference loop's configuration: the `preference:` section of the same YAML file as the other flows'."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from refinery.llm.failures import LLMStageOptions
from refinery.llmdata.judge import JudgeOptions, JudgeSpec
from refinery.options import StrictOptions
from refinery.preference.training import TrainingOptions

Backend = Literal["embedded", "anthropic", "openai", "sagemaker"]


class SourceSpec(StrictOptions):
    """A model that answers the round's prompts. Unset backend/model/endpoint = the LLM resource's."""

    name: str
    backend: Backend | None = None
    model: str | None = None
    base_url: str | None = None  # OpenAI-compatible server
    endpoint_name: str | None = None  # SageMaker endpoint
    samples: int = Field(2, ge=1, le=16)  # responses per prompt
    temperature: float = Field(0.8, ge=0, le=2)
    top_p: float | None = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(256, ge=16)


class PromptOptions(StrictOptions):
    sft_test: bool = True  # the SFT dataset's held-out (test split) prompts
    collection: str | None = None  # JSONL/CSV file or folder (local or s3://): prompt, topic (optional), id
    logs: str | None = None  # production logs folder; default <root>/preference/logs (prompt, response, thumbs)
    per_round: int = Field(32, ge=1)  # prompts a round answers (logs' prompts come on top)
    topic_quotas: dict[str, int] = Field(default_factory=dict)  # topic -> at most this many prompts per round
    eval_prompts: int = Field(8, ge=0)  # held out for the win rate (at most half of the first round's pool);
    # chosen by the first round and kept for every later one, never trained on
    # redact PII in prompts and logged responses before they reach an LLM: "auto" = when any model is external
    pii_redaction: Literal["auto", "always", "never"] = "auto"


class CandidateOptions(StrictOptions):
    policy: SourceSpec = Field(default_factory=lambda: SourceSpec(name="policy"))
    references: list[SourceSpec] = Field(default_factory=list)  # e.g. {name: claude, backend: anthropic}

    @model_validator(mode="after")
    def _names(self):
        names = [self.policy.name, *(r.name for r in self.references)]
        if len(set(names)) != len(names) or self.policy.name != "policy":
            raise ValueError(f"candidate sources need distinct names and the policy is named 'policy': {names}")
        if "log" in names:
            raise ValueError("'log' is reserved for production log responses")
        return self


class AIFeedbackOptions(StrictOptions):
    mode: Literal["ratings", "pairwise", "both"] = "ratings"
    ratings: JudgeOptions = Field(default_factory=lambda: JudgeOptions(threshold=1.0))  # UltraFeedback aspects
    pairwise: list[JudgeSpec] = Field(default_factory=lambda: [JudgeSpec(max_tokens=128)], min_length=1)


class HumanOptions(StrictOptions):
    controls: str | None = None  # JSONL of control records (id, prompt, responses, best) with known answers
    auto_controls: int = Field(2, ge=0)  # more controls: an SFT answer against an answer to another prompt
    min_control_accuracy: float = Field(0.7, ge=0, le=1)  # annotators below are flagged and not used
    min_controls: int = Field(1, ge=1)


class PairOptions(StrictOptions):
    strategy: Literal["best_vs_worst", "all_above_margin"] = "best_vs_worst"
    margin: float = Field(0.5, ge=0)  # minimum score gap between chosen and rejected
    kto_desirable: float = Field(4.0, ge=1, le=5)  # rated at or above: label True
    kto_undesirable: float = Field(2.0, ge=1, le=5)  # at or below: label False; in between: not used
    test_fraction: float = Field(0.1, ge=0, lt=1)


class PreferenceConfig(StrictOptions):
    seed: int = 0
    prompts: PromptOptions = Field(default_factory=PromptOptions)
    candidates: CandidateOptions = Field(default_factory=CandidateOptions)
    ai_feedback: AIFeedbackOptions = Field(default_factory=AIFeedbackOptions)
    human: HumanOptions = Field(default_factory=HumanOptions)
    pairs: PairOptions = Field(default_factory=PairOptions)
    training: TrainingOptions = Field(default_factory=TrainingOptions)
    eval_judges: list[JudgeSpec] = Field(default_factory=lambda: [JudgeSpec(max_tokens=128)], min_length=1)
    llm: LLMStageOptions = Field(default_factory=LLMStageOptions)  # e.g. {max_failure_share: 0.1}
