"""The tokenize stage's step with a preloaded tokenizer encodes as datatrove's own DocumentTokenizer does."""
from __future__ import annotations

from datatrove.pipeline.tokens import DocumentTokenizer

from refinery import tokenize
from refinery.tokenize_step import PreloadedDocumentTokenizer

TEXTS = ["Install the package with apt-get install bash-doc.", "第二章 配置", "x = f(1, 2)  # code\n\n| a | b |"]


def _ids(step) -> list[list[int]]:
    return [encoding.ids for encoding in step.tokenizer.encode_batch(TEXTS)]


def test_preloaded_tokenizer_encodes_like_datatrove(monkeypatch, tmp_path):
    path = tokenize.resolve_tokenizer("default")
    monkeypatch.setattr(tokenize, "PRELOADED", {})
    monkeypatch.setattr("refinery.tokenize_step.PRELOADED", tokenize.PRELOADED)
    kwargs = dict(output_folder=str(tmp_path), tokenizer_name_or_path=path, eos_token="<|endoftext|>")
    reference = _ids(DocumentTokenizer(**kwargs))

    tokenize.preload_tokenizer()
    preloaded = tokenize.PRELOADED[path]
    step = PreloadedDocumentTokenizer(**kwargs)
    assert step.tokenizer is preloaded  # not loaded again
    assert _ids(step) == reference
    eos = preloaded.token_to_id("<|endoftext|>")
    assert all(ids[-1] == eos for ids in reference)


def test_without_preload_datatrove_loads_it(monkeypatch, tmp_path):
    monkeypatch.setattr("refinery.tokenize_step.PRELOADED", {})
    step = PreloadedDocumentTokenizer(output_folder=str(tmp_path), tokenizer_name_or_path=tokenize.resolve_tokenizer("default"),
                                      eos_token="<|endoftext|>")
    assert _ids(step)[0][-1] == step.tokenizer.token_to_id("<|endoftext|>")
