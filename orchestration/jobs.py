import dagster as dg

from assets.partitions import drops

# Runs of this job are tagged so dagster.yaml can queue them one at a time, oldest drop first: a drop is
# deduplicated against the drops before it.
corpus_job = dg.define_asset_job(
    "corpus_job",
    selection=dg.AssetSelection.groups("corpus"),
    partitions_def=drops,
    tags={"refinery/flow": "corpus"},
)
