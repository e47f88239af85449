import dagster as dg

# One partition per raw drop (a dated folder or a named source). Added by the sensor or the CLI.
drops = dg.DynamicPartitionsDefinition(name="drops")


def earlier_drops(instance: dg.DagsterInstance, drop: str) -> list[str]:
    """Drops ordered before `drop` (name order): their accepted documents win dedup ties."""
    return sorted(k for k in instance.get_dynamic_partitions(drops.name) if k < drop)
