"""The configuration every asset reads: one YAML file (see README, 'Configuration') or the defaults, parsed and
validated once per file version by `refinery.config.load_config`, with the CLI's own one-line messages."""
from __future__ import annotations

import dagster as dg

from refinery.config import RefineryConfig, load_config


class SettingsResource(dg.ConfigurableResource):
    config_file: str | None = None  # YAML: extract/filters/dedup/tokenize/execution, `sft` and `preference`

    def config(self) -> RefineryConfig:
        return load_config(self.config_file)
