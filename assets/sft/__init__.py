"""The SFT flow in Dagster: one asset per declared stage (generation stages partitioned by method), checks and
its three jobs."""
