"""The corpus flow's configuration: a YAML file (see README, 'Configuration') or the defaults."""
from __future__ import annotations

import dagster as dg

from refinery.corpus.config import CorpusConfig


class CorpusSettings(dg.ConfigurableResource):
    config_file: str | None = None  # YAML with extract/filters/dedup/tokenize/execution sections

    def config(self) -> CorpusConfig:
        return CorpusConfig.load(self.config_file)
