"""The whole configuration file as one model: the corpus flow's sections at the top level (extract, filters,
dedup, tokenize, execution), `sft:` and `preference:`. It is read and validated once per file version
(`load_config`); the CLI's up-front check, the Dagster resources and the UI all go through it."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_serializer, model_validator

from refinery.corpus.config import CorpusConfig
from refinery.embed.options import EmbeddingOptions
from refinery.options import StrictOptions
from refinery.preference.config import PreferenceConfig
from refinery.sft.config import SFTConfig

FLOW_SECTIONS = ("sft", "preference", "embeddings")  # every other top-level key belongs to the corpus flow


class RefineryConfig(StrictOptions):
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    sft: SFTConfig = Field(default_factory=SFTConfig)
    preference: PreferenceConfig = Field(default_factory=PreferenceConfig)
    embeddings: EmbeddingOptions = Field(default_factory=EmbeddingOptions)  # the semantic layer's model

    @model_validator(mode="before")
    @classmethod
    def _corpus_at_top_level(cls, data: Any) -> Any:
        """The file keeps the corpus sections at the top level, as it always has."""
        if not isinstance(data, dict) or "corpus" in data:
            return data
        return {"corpus": {k: v for k, v in data.items() if k not in FLOW_SECTIONS},
                **{k: data[k] for k in FLOW_SECTIONS if k in data and data[k] is not None}}

    @model_serializer(mode="wrap")
    def _as_written(self, handler) -> dict:
        """Dumped the way the file is written: `refinery config` prints a file one can start from."""
        out = handler(self)
        return {**out.pop("corpus"), **out}


def load_config(path: str | Path | None) -> RefineryConfig:
    """The validated configuration (defaults when `path` is None); raises ConfigError naming every problem.
    Parsed once per file version: a changed file (size or mtime) is read again."""
    if not path:
        return _load(None, 0, 0)
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, 0)  # missing: the check reports it
    return _load(str(path), *stamp)


@lru_cache(maxsize=8)
def _load(path: str | None, _mtime: int, _size: int) -> RefineryConfig:
    from refinery.config_check import ConfigError, check_file

    problems, config = check_file(path)
    if problems:
        raise ConfigError(problems)
    return config
