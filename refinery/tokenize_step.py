"""The tokenize stage's datatrove step: DocumentTokenizer with the tokenizer `refinery.tokenize.preload_tokenizer`
loaded before the worker forked, when there is one, and its texts encoded by tiktoken when
`refinery.tokenize_fast` can give HF's ids that way (same shards, ~1/5 of the encoding CPU)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from datatrove.pipeline.tokens import DocumentTokenizer
from tokenizers.processors import TemplateProcessing

from refinery.tokenize import PRELOADED, fast_encoder


class FastDocumentTokenizer(DocumentTokenizer):
    @cached_property
    def tokenizer(self):
        tokenizer = PRELOADED.get(self.tokenizer_name_or_path)
        if tokenizer is None:  # not preloaded in this process: datatrove loads it
            tokenizer = super().tokenizer
        # configured as datatrove's PipelineStepWithTokenizer.tokenizer does; a worker runs one pipeline, so
        # its copy of the shared object gets one configuration
        elif self.post_processor:
            tokenizer.post_processor = self.post_processor
        elif self.eos_token:
            tokenizer.post_processor = TemplateProcessing(
                single="$A <EOS>", special_tokens=[("<EOS>", tokenizer.token_to_id(self.eos_token))], pair=None)
        if self.post_processor or self.save_loss_metadata:  # a custom template; loss masks read HF's offsets
            return tokenizer
        fast = fast_encoder(self.tokenizer_name_or_path, tokenizer)
        if fast is None or (fast.post_processor_adds and not self.eos_token):
            return tokenizer
        return TiktokenTokenizer(tokenizer, fast, tokenizer.token_to_id(self.eos_token) if self.eos_token else None)


@dataclass
class Ids:
    """What datatrove's DocumentTokenizer reads of a tokenizers.Encoding."""

    ids: list[int]


class TiktokenTokenizer:
    """The HF tokenizer with `encode_batch` done by a FastBPE: the ids, then the step's EOS (as the
    "$A <EOS>" post-processor adds it). Everything else is the HF tokenizer's."""

    def __init__(self, hf_tokenizer, fast, eos_id: int | None):
        self.hf, self.fast, self.eos = hf_tokenizer, fast, [] if eos_id is None else [eos_id]

    def encode_batch(self, texts: list[str]) -> list[Ids]:
        return [Ids(self.fast.encode(text) + self.eos) for text in texts]

    def __getattr__(self, name):
        return getattr(self.hf, name)
