"""A preference round runs as two jobs: its data (prompts -> DPO/KTO dataset), then, once the loop sensor
(`sensor.py`) sees enough pairs, the paid step (training job + endpoint) and the evaluation of the new policy."""
import dagster as dg

from assets.preference.assets import rounds
from orchestration.profiles import k8s_tags
from refinery.catalog import preference

preference_round_job = dg.define_asset_job(
    "preference_round_job", partitions_def=rounds, tags={"refinery/flow": "preference", **k8s_tags("llm")},
    selection=dg.AssetSelection.assets(*(s.asset for s in preference.DATA_STAGES)),
)
preference_train_job = dg.define_asset_job(
    "preference_train_job", partitions_def=rounds, tags={"refinery/flow": "preference", **k8s_tags("train")},
    selection=dg.AssetSelection.assets(*(s.asset for s in preference.TRAIN_STAGES)),
)
