"""The preference loop in Dagster: one asset per declared stage (partitioned by round), checks, the round and
training jobs, and the loop sensor."""
