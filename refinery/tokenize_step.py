"""The tokenize stage's datatrove step: DocumentTokenizer with the tokenizer `refinery.tokenize.preload_tokenizer`
loaded before the worker forked, when there is one."""
from __future__ import annotations

from functools import cached_property

from datatrove.pipeline.tokens import DocumentTokenizer
from tokenizers.processors import TemplateProcessing

from refinery.tokenize import PRELOADED


class PreloadedDocumentTokenizer(DocumentTokenizer):
    @cached_property
    def tokenizer(self):
        tokenizer = PRELOADED.get(self.tokenizer_name_or_path)
        if tokenizer is None:  # not preloaded in this process: datatrove loads it
            return super().tokenizer
        # configured as datatrove's PipelineStepWithTokenizer.tokenizer does; a worker runs one pipeline, so
        # its copy of the shared object gets one configuration
        if self.post_processor:
            tokenizer.post_processor = self.post_processor
        elif self.eos_token:
            tokenizer.post_processor = TemplateProcessing(
                single="$A <EOS>", special_tokens=[("<EOS>", tokenizer.token_to_id(self.eos_token))], pair=None)
        return tokenizer
