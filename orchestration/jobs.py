import dagster as dg

from assets.partitions import drops
from assets.preference import rounds
from assets.sft import sft_methods

# Runs of this job are tagged so dagster.yaml can queue them one at a time, oldest drop first: a drop is
# deduplicated against the drops before it.
corpus_job = dg.define_asset_job(
    "corpus_job",
    selection=dg.AssetSelection.groups("corpus"),
    partitions_def=drops,
    tags={"refinery/flow": "corpus"},
)

# The SFT flow runs as three jobs because its assets are partitioned differently: the chunks (all drops),
# one run per generation method (generated -> filtered -> judged), then the dataset over all methods.
sft_chunks_job = dg.define_asset_job("sft_chunks_job", selection=dg.AssetSelection.assets("sft_chunks"),
                                     tags={"refinery/flow": "sft"})
sft_method_job = dg.define_asset_job(
    "sft_method_job", selection=dg.AssetSelection.assets("sft_generated", "sft_filtered", "sft_judged"),
    partitions_def=sft_methods, tags={"refinery/flow": "sft"},
)
sft_dataset_job = dg.define_asset_job("sft_dataset_job", selection=dg.AssetSelection.assets("sft_dataset"),
                                      tags={"refinery/flow": "sft"})

# A preference round runs as two jobs: its data (prompts -> DPO/KTO dataset), then, once the loop sensor sees
# enough pairs, the paid step (training job + endpoint) and the evaluation of the new policy.
preference_round_job = dg.define_asset_job(
    "preference_round_job", partitions_def=rounds, tags={"refinery/flow": "preference"},
    selection=dg.AssetSelection.assets("preference_prompts", "preference_candidates", "preference_ai_feedback",
                                       "preference_feedback", "preference_dataset"),
)
preference_train_job = dg.define_asset_job(
    "preference_train_job", partitions_def=rounds, tags={"refinery/flow": "preference"},
    selection=dg.AssetSelection.assets("preference_policy", "preference_eval"),
)
