"""The SFT flow's stages: `refinery/sft/` runs them, `assets/sft/` makes each an asset (the generation
stages partitioned by method), the checks and the preference loop read their markers through them."""
from __future__ import annotations

from refinery.catalog.corpus import DEDUP
from refinery.stage import StageSpec

CHUNKS = StageSpec(
    "sft", "chunks", output="chunks", asset="sft_chunks", inputs=(DEDUP,), config="sft.chunking",
    description="Paragraph-aligned chunks of every deduplicated drop (PII-redacted first when the LLM is external).")
GENERATED = StageSpec(
    "sft", "generated", output="generated", asset="sft_generated", inputs=(CHUNKS,), config="sft.generation",
    partition="method",
    description="Generations of one method (grounded Q&A, Self-Instruct, Evol-Instruct, topic tree, conversations); "
                "failed calls and unusable outputs kept with reasons.")
FILTERED = StageSpec(
    "sft", "filtered", output="filtered", asset="sft_filtered", inputs=(GENERATED,), config="sft.filters",
    partition="method",
    description="Generations without empty/identical/truncated/malformed turns, length outliers, near-duplicates, "
                "wrong language, PII or toxicity.")
JUDGED = StageSpec(
    "sft", "judged", output="judged", asset="sft_judged", inputs=(FILTERED,), config="sft.judge", partition="method",
    description="UltraFeedback-style ratings (instruction following, groundedness, honesty, helpfulness) with "
                "rationales; records under the threshold dropped.")
DATASET = StageSpec(
    "sft", "dataset", output="dataset", asset="sft_dataset", inputs=(JUDGED,), config="sft.export",
    description="The SFT dataset: chat messages and Alpaca layouts, Parquet and JSONL, train/test split, dataset "
                "card; human review export, and reviewed records imported back.")

STAGES = (CHUNKS, GENERATED, FILTERED, JUDGED, DATASET)
METHOD_STAGES = (GENERATED, FILTERED, JUDGED)  # one run per method
LLM_STAGES = (GENERATED, JUDGED)  # their markers carry the LLM failure share
