"""Settings of the SFT record filters (the `sft.filters` config section), one model per filter, each
switchable. Kept free of datatrove imports so loading a config stays cheap."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from refinery.filters.options import PII_KINDS, LanguageOptions, PIIKind
from refinery.options import StrictOptions

# Leftovers of generation prompts. Labels are only markers at the very start of a turn ("Answer: ..."),
# Evol-Instruct's "#Rewritten Prompt#" anywhere. Unrendered Jinja is matched as a placeholder rather
# than a bare "{{", which JSON and code in legitimate answers contain.
DEFAULT_MARKERS = [
    r"^[\s#*_>\[]*(?:question|answer|instruction|response|user|assistant)[\s*_\]]*:",
    r"#\s*(?:rewritten|given|created|new)\s+prompt\s*#",
    r"\{\{\s*[\w.]+\s*\}\}|\{%-?\s*(?:if|for|endif|endfor|set|include|block)\b",
]


class MalformedOptions(StrictOptions):
    enabled: bool = True
    markers: list[str] = Field(default_factory=lambda: list(DEFAULT_MARKERS))  # regexes, case-insensitive

    @field_validator("markers")
    @classmethod
    def _compiles(cls, markers: list[str]) -> list[str]:
        for m in markers:
            try:
                re.compile(m)
            except re.error as e:
                raise ValueError(f"invalid marker regex {m!r}: {e}") from None
        return markers


class LengthOptions(StrictOptions):
    """Character bounds per turn; system turns are not bounded."""

    enabled: bool = True
    min_user_chars: int = Field(10, ge=0)
    max_user_chars: int = Field(4000, ge=1)
    min_assistant_chars: int = Field(20, ge=0)
    max_assistant_chars: int = Field(8000, ge=1)


class SFTPIIOptions(StrictOptions):
    enabled: bool = True
    action: Literal["drop", "redact"] = "drop"
    kinds: list[PIIKind] = Field(default_factory=lambda: list(PII_KINDS))
    placeholders: dict[PIIKind, str] = Field(default_factory=dict)  # for action=redact; missing = defaults

    @field_validator("placeholders")
    @classmethod
    def _not_pii(cls, placeholders: dict[str, str]) -> dict[str, str]:
        from refinery.filters.pii import check_placeholders  # lazy: only when a config sets placeholders

        check_placeholders(placeholders)
        return placeholders


class ToxicityOptions(StrictOptions):
    """The corpus bad-words list (better-profanity's, minus words common in business prose)."""

    enabled: bool = True
    extra_words: list[str] = Field(default_factory=list)
    allow_words: list[str] = Field(default_factory=list)
    use_default_allowlist: bool = True


class NearDuplicateOptions(StrictOptions):
    """MinHash LSH: bands x rows. Similarity above about (1/bands)^(1/rows) is likely caught
    (14 x 8: ~0.72, datatrove's default)."""

    enabled: bool = True
    n_grams: int = Field(5, ge=1)
    num_buckets: int = Field(14, ge=1)  # bands
    hashes_per_bucket: int = Field(8, ge=1)  # rows per band
    seed: int = 1


class SemanticDedupOptions(StrictOptions):
    enabled: bool = True
    # cosine at or above which two records are one (all-MiniLM-L6-v2 on prompts; bench/semantic_dedup.py)
    threshold: float = Field(0.9, gt=0, le=1)
    field: Literal["prompt", "conversation"] = "prompt"  # prompt: the user turns; conversation: every turn
    cluster_above: int = Field(20000, ge=100)  # records past which duplicates are searched per k-means cluster
    seed: int = 0


class SFTFilterOptions(StrictOptions):
    empty_turn: bool = True
    malformed: MalformedOptions = Field(default_factory=MalformedOptions)
    truncated: bool = True  # records whose generation hit max_tokens (meta["truncated"])
    identical_input_output: bool = True
    length: LengthOptions = Field(default_factory=LengthOptions)
    pii: SFTPIIOptions = Field(default_factory=SFTPIIOptions)
    toxicity: ToxicityOptions = Field(default_factory=ToxicityOptions)
    language: LanguageOptions = Field(default_factory=LanguageOptions)
    near_duplicate: NearDuplicateOptions = Field(default_factory=NearDuplicateOptions)
