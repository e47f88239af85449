import pytest
from pydantic import ValidationError

from refinery.corpus.config import CorpusConfig
from refinery.sft.config import SFTConfig


def test_sft_section_is_read_beside_the_corpus_sections(tmp_path):
    path = tmp_path / "refinery.yaml"
    path.write_text("tokenize: {enabled: false}\n"
                    "sft:\n  methods: [grounded_qa]\n  generation:\n    grounded_qa: {max_chunks: 2, temperature: 0.2}\n"
                    "  judge: {threshold: 4}\n")
    sft = SFTConfig.load(path)
    assert sft.methods == ["grounded_qa"] and sft.judge.threshold == 4
    assert sft.generation.for_method("grounded_qa").max_chunks == 2
    assert sft.generation.for_method("conversation").num_conversations == 3  # untouched defaults
    assert CorpusConfig.load(path).tokenize.enabled is False


@pytest.mark.parametrize("yaml, error", [
    ("sft:\n  generation:\n    grounded_qa: {max_chunk: 2}\n", ValidationError),  # a typo fails loudly
    ("sft:\n  judges: []\n", ValidationError),
    ("sft:\n  methods: [grounded_qa, sft_magic]\n", ValueError),
])
def test_typos_and_unknown_methods_are_errors(tmp_path, yaml, error):
    path = tmp_path / "refinery.yaml"
    path.write_text(yaml)
    with pytest.raises(error):
        SFTConfig.load(path)
