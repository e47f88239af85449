"""The corpus flow's configuration: a YAML file (see README, 'Configuration') or the defaults."""
from __future__ import annotations

import dagster as dg

from refinery.corpus.config import CorpusConfig
from refinery.preference.config import PreferenceConfig
from refinery.sft.config import SFTConfig


class CorpusSettings(dg.ConfigurableResource):
    config_file: str | None = None  # YAML: extract/filters/dedup/tokenize/execution, `sft` and `preference`

    def config(self) -> CorpusConfig:
        return CorpusConfig.load(self.config_file)

    def sft_config(self) -> SFTConfig:
        return SFTConfig.load(self.config_file)

    def preference_config(self) -> PreferenceConfig:
        return PreferenceConfig.load(self.config_file)
