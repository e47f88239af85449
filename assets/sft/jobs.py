"""The SFT flow runs as three jobs because its assets are partitioned differently: the chunks (all drops),
one run per generation method (generated -> filtered -> judged), then the dataset over all methods."""
import dagster as dg

from assets.sft.assets import sft_methods
from orchestration.profiles import k8s_tags
from refinery.catalog import sft

sft_chunks_job = dg.define_asset_job("sft_chunks_job", selection=dg.AssetSelection.assets(sft.CHUNKS.asset),
                                     tags={"refinery/flow": "sft", **k8s_tags("sft")})
sft_method_job = dg.define_asset_job(
    "sft_method_job", selection=dg.AssetSelection.assets(*(s.asset for s in sft.METHOD_STAGES)),
    partitions_def=sft_methods, tags={"refinery/flow": "sft", **k8s_tags("llm")},
)
sft_dataset_job = dg.define_asset_job("sft_dataset_job", selection=dg.AssetSelection.assets(sft.DATASET.asset),
                                      tags={"refinery/flow": "sft", **k8s_tags("sft")})
