"""`filters.quality_classifier`: the filter's switch and threshold, and how the `quality_classifier` asset
trains the model it loads. Kept free of heavy imports so loading a config stays cheap."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from refinery.options import StrictOptions

# what changes the filter's output besides the artifact (whose resolved version the filter stage adds itself:
# `latest` and that version pinned are the same filter); the rest is training
FILTER_KEYS = ("enabled", "threshold")


class QualityClassifierOptions(StrictOptions):
    # the filter (last of the corpus filters, before PII redaction): off by default
    enabled: bool = False
    threshold: float = Field(3.0, ge=0, le=5)  # documents the classifier scores under this (0-5) are dropped
    # artifact under <root>/models/quality_classifier/: a version (12 hex digits) or the latest one trained
    version: str = Field("latest", pattern=r"^(latest|[0-9a-f]{12})$")
    batch_size: int = Field(64, ge=1, le=4096)  # documents embedded per call in the filter
    # training (the quality_classifier asset)
    sample_size: int = Field(1000, ge=20)  # documents labelled, sampled from every deduplicated drop
    seed: int = 0  # sampling and train/held-out split
    stratify_by: Literal["format", "none"] = "format"  # sample each metadata.format in proportion
    max_chars: int = Field(3000, ge=200)  # excerpt the LLM reads and the embedding sees (MiniLM reads ~1,000)
    label_model: str | None = None  # None = the LLM backend's default model
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(128, ge=8)
    head: Literal["logistic", "ridge"] = "logistic"  # classes 0-5 (expected score) or a regression on 0-5
    C: float = Field(10.0, gt=0)  # inverse regularisation strength (ridge: alpha = 1/C)
    test_fraction: float = Field(0.2, gt=0, lt=1)  # held out for the metrics
    min_labels: int = Field(20, ge=4)  # fewer usable labels: training fails instead of shipping noise
    max_failure_share: float = Field(0.1, ge=0, le=1)  # failed or unparsable labels beyond this share fail it

    def filter_settings(self) -> dict:
        return {k: getattr(self, k) for k in FILTER_KEYS}
