"""New raw drops become partitions and get a corpus run; backfills of old drops go through the UI/CLI."""

import dagster as dg

from assets.partitions import drops
from orchestration.jobs import corpus_job
from resources import StorageResource


@dg.sensor(job=corpus_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Registers each new sub-folder of the raw root as a drop and runs the corpus flow on it.")
def new_drops_sensor(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(drops.name))
    new = [d for d in storage.list_drops() if d not in known]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=d, run_key=f"drop:{d}") for d in new],
        dynamic_partitions_requests=[drops.build_add_request(new)] if new else [],
    )
