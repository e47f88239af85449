"""The corpus flow's job and the sensor that starts it on new drops; backfills of old drops go through the
UI/CLI."""
import dagster as dg

from assets.corpus.partitions import drops
from orchestration.profiles import k8s_tags
from resources import StorageResource

# Runs of this job are tagged so dagster.yaml can queue them one at a time, oldest drop first: a drop is
# deduplicated against the drops before it. On Kubernetes the run pod's size follows the runner and workers.
corpus_job = dg.define_asset_job(
    "corpus_job",
    selection=dg.AssetSelection.groups("corpus"),
    partitions_def=drops,
    tags={"refinery/flow": "corpus", **k8s_tags("corpus")},
)


@dg.sensor(job=corpus_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Registers each new sub-folder of the raw root as a drop and runs the corpus flow on it.")
def new_drops_sensor(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(drops.name))
    new = [d for d in storage.list_drops() if d not in known]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=d, run_key=f"drop:{d}") for d in new],
        dynamic_partitions_requests=[drops.build_add_request(new)] if new else [],
    )
