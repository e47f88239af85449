"""A round's policy: a training job on the round's pairs, then the endpoint created or updated, then the new
policy's win rate against the one that answered the round. The policy record is written only once the
endpoint serves the new model: a failed job or update leaves no half-published round."""
from __future__ import annotations

from refinery.catalog.preference import CANDIDATES, DATASET, EVAL, POLICY
from refinery.llm.failures import stage_llm_summary
from refinery.llm.limits import raise_if_budget_reached
from refinery.llmdata.io import read_records, write_records
from refinery.preference.candidates import Source, generate_candidates
from refinery.preference.feedback import compare, pairwise_summary
from refinery.preference.flow import Round, pairwise_template_ref, round_key, round_number
from refinery.preference.records import Candidate, Prompt
from refinery.preference.training import Deployment, TrainedModel, Trainer
from refinery.storage import Layout


# -- policy: train, then deploy ----------------------------------------------------------------------------
def training_options(r: Round):
    """The configured training options, with model artifacts and the uploaded entry point under the storage
    root when it is on S3 (the training role may read `code/*` and write `preference/models/*` there)."""
    options = r.config.training
    if r.layout.root.startswith("s3://"):
        derived = {"output_s3_uri": r.layout.preference("models"), "code_s3_uri": r.layout.uri("code", "training")}
        options = options.model_copy(update={k: v for k, v in derived.items() if not getattr(options, k)})
    return options


def training_gate(layout: Layout, key: str, min_pairs: int) -> tuple[int, str | None]:
    """(DPO pairs, why the round cannot train yet): None when it can. The loop sensor, `refinery preference`
    and the training step all ask this."""
    dataset = DATASET.summary_in(layout, key)
    if not dataset:
        return 0, f"{key} has no preference dataset yet: materialise {DATASET.asset} first"
    pairs = dataset.get("pairs", 0)
    if pairs < min_pairs:
        return pairs, f"{key} has {pairs} DPO pairs, fewer than training.min_pairs={min_pairs}"
    return pairs, None


def train_and_deploy(r: Round, trainer: Trainer, local: bool) -> dict:
    """Trains on the round's dataset and deploys it; the next round's policy is the new endpoint (or, with
    the local trainer, which trains nothing, the configured policy)."""
    pairs, why_not = training_gate(r.layout, r.key, r.config.training.min_pairs)
    if why_not:
        raise RuntimeError(why_not)
    upstream = (r.marker(DATASET), r.config.training.model_dump(), local)

    def body() -> dict:
        name = f"refinery-{r.key}-{r.marker(DATASET)[:8]}"
        model: TrainedModel = trainer.train(name, DATASET.output_uri(r.layout, r.key))
        deployment: Deployment = trainer.deploy(model)
        next_policy = ({} if local else
                       {"backend": "sagemaker", "endpoint_name": deployment.endpoint_name,
                        "model": deployment.model_name})
        record = {"training": model.to_dict(), "deployment": deployment.to_dict(), "next_policy": next_policy}
        r.layout.write_json(r.uri(POLICY.output, "policy.json"), record)  # last: the round is published only when all worked
        return {"training_job": model.job_name, "artifact": model.artifact_uri, "endpoint": deployment.endpoint_name,
                "model_name": deployment.model_name, "trained_on_pairs": pairs, "local": local}

    return r.run(POLICY, upstream, body)


# -- evaluation: the new policy against the one that answered this round -----------------------------------
def evaluate(r: Round) -> dict:
    record = r.layout.read_json(r.uri(POLICY.output, "policy.json"))
    if not record:
        raise RuntimeError(f"{r.key} has no deployed policy yet: materialise preference_policy first")
    new = r.config.candidates.policy.model_copy(update={**record["next_policy"], "samples": 1})
    judge_client, judge_model = r.clients(None)
    upstream = (r.marker(POLICY), r.marker(CANDIDATES), [j.model_dump() for j in r.config.eval_judges],
                judge_model, pairwise_template_ref())

    def body() -> dict:
        held_out = {p.id: p for p in read_records(r.layout.at(r.layout.preference("eval")), "prompts.jsonl", Prompt)}
        previous = {c.prompt_id: c for c in r.read(CANDIDATES, "eval_answers.jsonl", Candidate)}
        client, model = r.clients(new)
        answers, failures = generate_candidates(list(held_out.values()), [Source(new, client, model)],
                                                f"{r.key}-eval-new", r.config.seed)
        answers = [a.model_copy(update={"source": "new_policy"}) for a in answers]
        pairs = [(a, previous[a.prompt_id]) for a in answers if a.prompt_id in previous]
        comparisons, failed = compare(held_out, pairs, judge_client, r.config.eval_judges, judge_model, label="eval")
        wins = sum(c.winner == "a" for c in comparisons)
        losses = sum(c.winner == "b" for c in comparisons)
        ties = len(comparisons) - wins - losses
        write_records(r.out(EVAL), "comparisons.jsonl", comparisons)
        win_rate = (wins + ties / 2) / len(comparisons) if comparisons else None
        llm = stage_llm_summary([client, judge_client], r.config.llm.max_failure_share)
        llm.pop("llm_failures")  # the evaluation reports its failures as `failed`
        return {"win_rate": None if win_rate is None else round(win_rate, 4), "wins": wins, "losses": losses,
                "ties": ties, "compared": len(comparisons), "failed": len(failures) + len(failed),
                "new_policy": new.model_dump(), "pairwise": pairwise_summary(comparisons, failed), **llm}

    summary = r.run(EVAL, upstream, body)
    raise_if_budget_reached(f"{r.key} {EVAL.name}", summary.get("llm_budget"))
    return summary


def history(layout: Layout, up_to: str) -> list[dict]:
    """Every round's evaluation so far, for the progress plot."""
    out = []
    for n in range(1, round_number(up_to) + 1):
        summary = EVAL.summary_in(layout, round_key(n))
        if summary:
            out.append({"round": round_key(n), "win_rate": summary["win_rate"], "compared": summary["compared"]})
    return out
