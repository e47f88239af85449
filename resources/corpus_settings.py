"""The corpus flow's configuration: a YAML file (see README, 'Configuration') or the defaults."""
from __future__ import annotations

import dagster as dg

from refinery.config_check import load_section
from refinery.corpus.config import CorpusConfig
from refinery.preference.config import PreferenceConfig
from refinery.sft.config import SFTConfig


class CorpusSettings(dg.ConfigurableResource):
    config_file: str | None = None  # YAML: extract/filters/dedup/tokenize/execution, `sft` and `preference`

    # Each section goes through the CLI's own check of the whole file: one line per problem (ConfigError).
    def config(self) -> CorpusConfig:
        return load_section(self.config_file, "corpus")

    def sft_config(self) -> SFTConfig:
        return load_section(self.config_file, "sft")

    def preference_config(self) -> PreferenceConfig:
        return load_section(self.config_file, "preference")
