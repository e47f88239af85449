import dagster as dg

# One partition per raw drop (a dated folder or a named source). Added by the sensor or the CLI.
drops = dg.DynamicPartitionsDefinition(name="drops")


def earlier_drops(instance: dg.DagsterInstance, drop: str, in_raw_root: list[str]) -> list[str]:
    """Registered drops ordered before `drop` (name order) that exist under the current raw root: their
    accepted documents win dedup ties. An instance may have seen drops of other raw roots; those don't count."""
    present = set(in_raw_root)
    return sorted(k for k in instance.get_dynamic_partitions(drops.name) if k < drop and k in present)
