"""The code location: assets and checks are discovered from the asset modules, resources come from the
environment profile. No business logic here."""
from __future__ import annotations

import dagster as dg

import assets.corpus
import assets.corpus_checks
import assets.preference
import assets.preference_checks
import assets.sft
import assets.sft_checks
from orchestration.jobs import (corpus_job, preference_round_job, preference_train_job, sft_chunks_job,
                                sft_dataset_job, sft_method_job)
from orchestration.preference_sensor import preference_loop_sensor
from orchestration.profiles import resources_for
from orchestration.run_control import console_logger
from orchestration.sensors import new_drops_sensor


def build_definitions(env: str | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets.corpus, assets.sft, assets.preference]),
        asset_checks=dg.load_asset_checks_from_modules([assets.corpus_checks, assets.sft_checks,
                                                         assets.preference_checks]),
        jobs=[corpus_job, sft_chunks_job, sft_method_job, sft_dataset_job, preference_round_job,
              preference_train_job],
        sensors=[new_drops_sensor, preference_loop_sensor],
        resources=resources_for(env),
        # Dagster's console logger, which the CLI keeps to one line per error unless --verbose
        loggers={"console": console_logger},
        # stages parallelise inside datatrove; one process per run keeps Dagster's overhead small
        executor=dg.in_process_executor,
    )


defs = build_definitions()
