"""The corpus flow in Dagster: one asset per declared stage (partitioned by drop), checks, the corpus job and
the new-drops sensor."""
