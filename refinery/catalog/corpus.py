"""The corpus flow's stages: `refinery/corpus/` runs them, `assets/corpus/` makes each an asset partitioned
by drop, `refinery explain`, the SFT chunks and the summaries read their names and folders from here."""
from __future__ import annotations

from refinery.stage import StageSpec

EXTRACT = StageSpec(
    "corpus", "extract", output="extracted", asset="extracted_documents", config="extract", partition="drop",
    description="Clean text per document (datatrove JSONL.gz), bad files quarantined with their reason.")
FILTER = StageSpec(
    "corpus", "filter", output="filtered", asset="filtered_documents", inputs=(EXTRACT,), config="filters",
    partition="drop",
    description="Documents kept by the quality/language/toxicity filters, PII redacted; drops kept with reasons.")
DEDUP = StageSpec(
    "corpus", "dedup", output="deduplicated", asset="deduplicated_documents", inputs=(FILTER,), config="dedup",
    partition="drop",
    description="Exact, MinHash near-duplicate and CCNet-paragraph duplicates removed against this and all earlier "
                "drops.")
TOKENIZE = StageSpec(
    "corpus", "tokenize", output="tokenized", asset="tokenized_shards", inputs=(DEDUP,), config="tokenize",
    partition="drop",
    description="Tokenized training shards (datatrove .ds + index), loadable by datatrove's token readers.")

STAGES = (EXTRACT, FILTER, DEDUP, TOKENIZE)
