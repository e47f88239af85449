"""The preference loop's sensor: opens round-001 once an SFT dataset exists, re-runs a round's feedback when
new annotation files arrive, starts training when a round has enough pairs, and opens the next round once
the new policy is deployed and evaluated. Stopped by default: it spends money (LLM calls, training jobs)."""
from __future__ import annotations

import dagster as dg

from assets.preference.assets import rounds
from assets.preference.jobs import preference_round_job, preference_train_job
from refinery.catalog.preference import DATASET, FEEDBACK
from refinery.catalog.sft import DATASET as SFT_DATASET
from refinery.preference import flow
from refinery.preference.policy import training_gate
from resources import SettingsResource, StorageResource

_FEEDBACK = [dg.AssetKey(FEEDBACK.asset), dg.AssetKey(DATASET.asset)]  # new annotations: these two again


def next_step(layout, keys: list[str], min_pairs: int) -> tuple[str, str, str | None, str] | None:
    """(action, round, run key, why) or None: one step of the loop, decided from the stage markers."""
    if not keys:
        if not SFT_DATASET.fingerprint_in(layout):
            return None
        return "open", flow.round_key(1), "open:round-001", "an SFT dataset exists: first round"
    last = max(keys, key=flow.round_number)
    done = flow.status(layout, last)
    if done["eval"]:
        nxt = flow.round_key(flow.round_number(last) + 1)
        return "open", nxt, f"open:{nxt}", f"{last} is deployed and evaluated"
    if done["feedback"] and not done["policy"]:
        returned = [list(x) for x in flow.returned_files(layout, last)]
        seen = (FEEDBACK.summary_in(layout, last) or {}).get("returned") or []
        if returned != seen:
            return "feedback", last, f"feedback:{last}:{flow.fingerprint(returned)[:16]}", "new annotation files"
    if done["dataset"] and not done["eval"]:
        pairs, why_not = training_gate(layout, last, min_pairs)
        if why_not:
            return None
        fp = DATASET.fingerprint_in(layout, last)
        return "train", last, f"train:{last}:{fp[:16]}", f"{last} has {pairs} pairs (min {min_pairs})"
    return None


@dg.sensor(jobs=[preference_round_job, preference_train_job], minimum_interval_seconds=300,
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Drives the preference loop: first round, new annotations, training, next round.")
def preference_loop_sensor(context: dg.SensorEvaluationContext, storage: StorageResource,
                           settings: SettingsResource) -> dg.SensorResult | dg.SkipReason:
    keys = list(context.instance.get_dynamic_partitions(rounds.name))
    step = next_step(storage.layout(), keys, settings.config().preference.training.min_pairs)
    if step is None:
        return dg.SkipReason("nothing to do: waiting for an SFT dataset, a round's data or enough pairs")
    action, key, run_key, why = step
    add = [rounds.build_add_request([key])] if key not in keys else []
    if action == "train":
        request = dg.RunRequest(job_name=preference_train_job.name, partition_key=key, run_key=run_key, tags={"why": why})
    else:
        request = dg.RunRequest(job_name=preference_round_job.name, partition_key=key, run_key=run_key, tags={"why": why},
                                asset_selection=_FEEDBACK if action == "feedback" else None)
    return dg.SensorResult(run_requests=[request], dynamic_partitions_requests=add)
