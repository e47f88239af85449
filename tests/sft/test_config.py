import pytest

from refinery.config import load_config
from refinery.config_check import ConfigError


def test_sft_section_is_read_beside_the_corpus_sections(tmp_path):
    path = tmp_path / "refinery.yaml"
    path.write_text("tokenize: {enabled: false}\n"
                    "sft:\n  methods: [grounded_qa]\n  generation:\n    grounded_qa: {max_chunks: 2, temperature: 0.2}\n"
                    "  judge: {threshold: 4}\n")
    config = load_config(path)  # the whole file, validated once
    sft = config.sft
    assert sft.methods == ["grounded_qa"] and sft.judge.threshold == 4
    assert sft.generation.for_method("grounded_qa").max_chunks == 2
    assert sft.generation.for_method("conversation").num_conversations == 3  # untouched defaults
    assert config.corpus.tokenize.enabled is False


@pytest.mark.parametrize("yaml", [
    "sft:\n  generation:\n    grounded_qa: {max_chunk: 2}\n",  # a typo fails loudly
    "sft:\n  judges: []\n",
    "sft:\n  methods: [grounded_qa, sft_magic]\n",
])
def test_typos_and_unknown_methods_are_errors(tmp_path, yaml):
    path = tmp_path / "refinery.yaml"
    path.write_text(yaml)
    with pytest.raises(ConfigError):
        load_config(path)
