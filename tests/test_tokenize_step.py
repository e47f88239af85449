"""The tokenize stage's step (preloaded tokenizer, tiktoken encoding) writes what datatrove's own
DocumentTokenizer writes."""
from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.tokens import DocumentTokenizer

from refinery import tokenize
from refinery.tokenize_step import FastDocumentTokenizer, TiktokenTokenizer
from tests.test_tokenize_fast import real_texts

DEFAULT = tokenize.resolve_tokenizer("default")
TEXTS = ["Install the package with apt-get install bash-doc.", "第二章 配置", "x = f(1, 2)  # code\n\n| a | b |"]


def _ids(step) -> list[list[int]]:
    return [encoding.ids for encoding in step.tokenizer.encode_batch(TEXTS)]


def test_preloaded_tokenizer_encodes_like_datatrove(monkeypatch, tmp_path):
    path = tokenize.resolve_tokenizer("default")
    monkeypatch.setattr(tokenize, "PRELOADED", {})
    monkeypatch.setattr(tokenize, "FAST", {})
    monkeypatch.setattr("refinery.tokenize_step.PRELOADED", tokenize.PRELOADED)
    kwargs = dict(output_folder=str(tmp_path), tokenizer_name_or_path=path, eos_token="<|endoftext|>")
    reference = _ids(DocumentTokenizer(**kwargs))

    tokenize.preload_tokenizer()
    preloaded = tokenize.PRELOADED[path]
    assert tokenize.FAST[path][0] is not None  # the bundled tokenizer gets tiktoken
    step = FastDocumentTokenizer(**kwargs)
    assert isinstance(step.tokenizer, TiktokenTokenizer) and step.tokenizer.hf is preloaded  # not loaded again
    assert step.tokenizer.fast is tokenize.FAST[path][0]
    assert _ids(step) == reference
    eos = preloaded.token_to_id("<|endoftext|>")
    assert all(ids[-1] == eos for ids in reference)


def test_without_preload_datatrove_loads_it(monkeypatch, tmp_path):
    monkeypatch.setattr("refinery.tokenize_step.PRELOADED", {})
    step = FastDocumentTokenizer(output_folder=str(tmp_path), tokenizer_name_or_path=DEFAULT,
                                 eos_token="<|endoftext|>")
    assert _ids(step)[0][-1] == step.tokenizer.token_to_id("<|endoftext|>")


def test_loss_masks_keep_hf(tmp_path):
    """Loss masks map characters to tokens through HF's offsets: that step encodes with HF."""
    step = FastDocumentTokenizer(output_folder=str(tmp_path), tokenizer_name_or_path=DEFAULT,
                                 eos_token="<|endoftext|>", save_loss_metadata=True)
    assert not isinstance(step.tokenizer, TiktokenTokenizer)


def test_shards_byte_identical_to_datatrove(tmp_path):
    """Real pages through both steps, shuffled with the same seed: the same token and index files."""
    docs = [Document(text=text, id=str(i)) for i, text in enumerate(real_texts()[:120])]
    outputs = {}
    for name, cls in (("datatrove", DocumentTokenizer), ("refinery", FastDocumentTokenizer)):
        out = tmp_path / name
        step = cls(output_folder=str(out), tokenizer_name_or_path=DEFAULT,
                   eos_token="<|endoftext|>", save_filename="drop", seed=7,
                   local_working_dir=str(tmp_path / f"w-{name}"))
        step.run(iter(docs))
        outputs[name] = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert isinstance(step.tokenizer, TiktokenTokenizer)
    assert any(name.endswith(".ds") for name in outputs["refinery"])
    assert outputs["refinery"] == outputs["datatrove"]
