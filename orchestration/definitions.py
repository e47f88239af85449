"""The code location: every asset, check, job and sensor is loaded from the `assets` package; resources come
from the environment profile (and, from the CLI, its flags). No business logic here."""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg

import assets
from orchestration.profiles import executor_for, resources_for
from orchestration.run_control import console_logger


def build_definitions(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> dg.Definitions:
    """`overrides`: settings given on the command line (root, raw, config, llm, ...; see profiles.ENV_VARS)."""
    with warnings.catch_warnings():
        # Dagster 1.13 marks the package loader "preview"; its result is a plain Definitions, checked by
        # tests/test_orchestration.py (every asset, check, job and sensor is found)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return _load(env, overrides)


def _load(env: str | None, overrides: Mapping[str, Any] | None) -> dg.Definitions:
    return dg.load_definitions_from_package_module(
        assets,
        resources=resources_for(env, overrides),
        # Dagster's console logger, which the CLI keeps to one line per error unless --verbose
        loggers={"console": console_logger},
        # local: in-process (stages parallelise inside datatrove; one process per run keeps Dagster's
        # overhead small); prod / REFINERY_EXECUTOR=multiprocess: one process per step (profiles.executor_for)
        executor=executor_for(env, overrides),
    )


defs = build_definitions()
