"""The preference loop's stages, one set per round (`round-001`, ...):

prompts -> candidates -> ai_feedback -> feedback (human annotations over AI) -> dataset (DPO/KTO); then
`policy.py`: training job and endpoint, and the evaluation of the new policy.

Each stage reads its input from storage, writes JSONL, and is skipped when its fingerprint is unchanged;
LLM answers come from the request cache on a re-run, so a resumed round never pays twice.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from refinery.catalog.preference import AI_FEEDBACK, CANDIDATES, DATASET, FEEDBACK, POLICY, PROMPTS, STAGES
from refinery.catalog.sft import DATASET as SFT_DATASET
from refinery.filters.pii import redact_pii
from refinery.llm.client import LLMClient
from refinery.llm.failures import check_llm_stage, stage_llm_summary
from refinery.llm.limits import stage_budget
from refinery.llm.pricing import Pricing
from refinery.llm.provider import LLMProvider
from refinery.llmdata.dataset_files import SplitOptions
from refinery.llmdata.io import data_files, file_digest, read_records, write_records
from refinery.llmdata.judge import judge_summary, judge_templates
from refinery.llmdata.records import SFTRecord
from refinery.preference import annotation, prompt_sources
from refinery.preference.candidates import Source, generate_candidates
from refinery.preference.config import PreferenceConfig, SourceSpec
from refinery.preference.export import export_preferences
from refinery.preference.feedback import all_pairs, as_record, compare, pairwise_summary, pairwise_template, rate
from refinery.preference.pairs import ai_scores, dpo_rows, kto_rows, merge
from refinery.preference.records import Candidate, Comparison, ControlRecord, Prompt, PromptScores
from refinery.stage import StageSpec, fingerprint, run_once
from refinery.storage import Layout, check_partition_key

EXTERNAL_BACKENDS = ("anthropic", "openai")


def round_key(n: int) -> str:
    return f"round-{n:03d}"


def round_number(key: str) -> int:
    if not key.startswith("round-") or not key[6:].isdigit():
        raise ValueError(f"round keys look like round-001, got {key!r}")
    return int(key[6:])


@dataclass
class Round:
    layout: Layout
    config: PreferenceConfig
    sft_export: SplitOptions  # the SFT dataset's split: which SFT prompts were held out, its language
    key: str
    llm: LLMProvider
    pricing: Pricing

    def __post_init__(self):
        round_number(check_partition_key(self.key))

    @property
    def external_llm(self) -> bool:
        """Some model (judge, policy or reference) is an external API: text leaves the organisation."""
        sources = [self.config.candidates.policy, *self.config.candidates.references]
        return self.llm.is_external() or any(s.backend in EXTERNAL_BACKENDS for s in sources)

    def clients(self, spec: SourceSpec | None) -> tuple[LLMClient, str]:
        """(client, model) of a candidate source, or of the judges (None), each with a fresh ledger and progress
        line, under the loop's budget."""
        if spec is None:
            client, model = self.llm.client(self.layout, self.pricing), self.llm.default_model()
        else:
            client = self.llm.client(self.layout, self.pricing, backend=spec.backend, base_url=spec.base_url,
                                     endpoint_name=spec.endpoint_name)
            model = self.llm.model_for(spec.backend, spec.model, spec.endpoint_name)
        client.add_budget(stage_budget(self.llm, self.config.llm.budget_usd, "preference"))
        client.progress.name = f"{self.key} {spec.name if spec else 'judge'}"
        return client, model

    def uri(self, *parts: str) -> str:
        return self.layout.preference("rounds", self.key, *parts)

    def folder(self, *parts: str):
        return self.layout.at(self.uri(*parts))

    def out(self, spec: StageSpec):
        """The folder of the round's output of a stage."""
        return self.layout.at(spec.output_uri(self.layout, self.key))

    def marker(self, spec: StageSpec) -> str | None:
        """The fingerprint of the round's completed stage (None: not completed)."""
        return spec.fingerprint_in(self.layout, self.key)

    def summary(self, spec: StageSpec) -> dict | None:
        return spec.summary_in(self.layout, self.key)

    def run(self, spec: StageSpec, upstream: object, body: Callable[[], dict]) -> dict:
        return run_once(self.layout, spec.marker(self.key), fingerprint(upstream, self.config.seed), body, spec.flow)

    def earlier(self) -> list[str]:
        """Earlier rounds that have prompts (a round can be skipped or deleted)."""
        n = round_number(self.key)
        return [round_key(i) for i in range(1, n) if PROMPTS.fingerprint_in(self.layout, round_key(i))]

    def read(self, spec: StageSpec, name: str, model):
        return list(read_records(self.out(spec), name, model))


# -- prompts ---------------------------------------------------------------------------------------------
def _file_source(layout: Layout, uri: str | None):
    """(folder, files, listing with content hashes) of a collection/log location: a file or a folder."""
    if not uri:
        return None, [], []
    if uri.endswith((".jsonl", ".csv")):
        parent, name = uri.rsplit("/", 1) if "/" in uri else (".", uri)
        folder = layout.at(parent)
        files = [name] if folder.isfile(name) else []
    else:
        folder = layout.at(uri)
        files = data_files(folder)
    return folder, files, [(f, file_digest(folder, f)) for f in files]


def build_prompts(r: Round) -> dict:
    opts = r.config.prompts
    sft_records_uri = SFT_DATASET.output_uri(r.layout)
    collection = _file_source(r.layout, opts.collection)
    logs = _file_source(r.layout, opts.logs or r.layout.preference("logs"))
    for name, uri, found in (("collection", opts.collection, collection), ("logs", opts.logs, logs)):
        if uri and not found[1]:  # a configured source that is not there is a mistake, not an empty round
            raise FileNotFoundError(f"preference.prompts.{name}: no .jsonl or .csv file at {uri}")
    redact = opts.pii_redaction == "always" or (opts.pii_redaction == "auto" and r.external_llm)
    upstream = (SFT_DATASET.fingerprint_in(r.layout) if opts.sft_test else None, collection[2], logs[2],
                opts.model_dump(), r.earlier(), r.sft_export.model_dump(), redact)

    def body() -> dict:
        pool: list[Prompt] = []
        problems: dict = {}
        if opts.sft_test:
            records = read_records(r.layout.at(sft_records_uri), "records.jsonl", SFTRecord)
            pool += prompt_sources.sft_test_prompts(records, r.sft_export.test_fraction,
                                                    r.sft_export.split_salt)
        if collection[1]:
            found, problems["collection"] = prompt_sources.read_collection(collection[0], collection[1])
            pool += found
        eval_folder = r.layout.at(r.layout.preference("eval"))
        held_out = list(read_records(eval_folder, "prompts.jsonl", Prompt))
        if not held_out and opts.eval_prompts:  # chosen once, by the first round, for every round; at most half
            # the pool, so a small first round still has prompts to train on
            picked = [p.model_copy(update={"source": "eval", "meta": {**p.meta, "from": p.source}})
                      for p in prompt_sources.pick_eval(pool, min(opts.eval_prompts, len(pool) // 2), r.config.seed)]
            write_records(eval_folder, "prompts.jsonl", _redacted(picked) if redact else picked)
            held_out = picked
        held_ids = {p.id for p in held_out}
        pool = [p for p in pool if p.id not in held_ids]
        used = {p.id for k in r.earlier() for p in read_records(r.layout.at(PROMPTS.output_uri(r.layout, k)),
                                                                "prompts.jsonl", Prompt)}
        chosen = prompt_sources.pick_round(pool, used, r.key, opts.per_round, opts.topic_quotas, r.config.seed)
        consumed = {f for k in r.earlier()
                    for f in (r.layout.read_json(PROMPTS.output_uri(r.layout, k, "logs.json")) or [])}
        new_logs = [f for f in logs[1] if f not in consumed]
        log_prompts, log_candidates, problems["logs"] = (prompt_sources.read_logs(logs[0], new_logs) if new_logs
                                                         else ([], [], {}))
        ids = {p.id for p in chosen}
        chosen += [p for p in log_prompts if p.id not in ids and p.id not in held_ids]
        if redact:
            chosen, log_candidates = _redacted(chosen), [c.model_copy(update={"text": redact_pii(c.text)[0]})
                                                         for c in log_candidates]
        if not chosen:
            raise RuntimeError(f"{r.key} has no prompts: no SFT dataset with held-out prompts under "
                               f"{r.layout.sft('dataset')}, no preference.prompts.collection and no new log files")
        out = r.out(PROMPTS)
        write_records(out, "prompts.jsonl", chosen)
        write_records(out, "log_candidates.jsonl", log_candidates)
        r.layout.write_json(r.uri(PROMPTS.output, "logs.json"), new_logs)
        return {"prompts": len(chosen), "by_source": dict(Counter(p.source for p in chosen)), "eval_prompts": len(held_out),
                "log_responses": len(log_candidates), "log_files": new_logs,
                "fresh": sum(p.id not in used for p in chosen), "pii_redacted": redact,
                "problems": {k: v for k, v in problems.items() if v}}

    return r.run(PROMPTS, upstream, body)


def _redacted(prompts: list[Prompt]) -> list[Prompt]:
    return [p.model_copy(update={"messages": [t.model_copy(update={"content": redact_pii(t.content)[0]})
                                              for t in p.messages]}) for p in prompts]


# -- candidates ------------------------------------------------------------------------------------------
def policy_spec(r: Round) -> SourceSpec:
    """The round's policy: the endpoint the previous round deployed, else the configured one."""
    for k in reversed(r.earlier()):
        record = r.layout.read_json(POLICY.output_uri(r.layout, k, "policy.json"))
        if record:
            return r.config.candidates.policy.model_copy(update=record["next_policy"])
    return r.config.candidates.policy


def generate(r: Round) -> dict:
    policy = policy_spec(r)
    specs = [policy, *r.config.candidates.references]
    upstream = (r.marker(PROMPTS), [s.model_dump() for s in specs])

    def body() -> dict:
        prompts = r.read(PROMPTS, "prompts.jsonl", Prompt)
        sources = [Source(spec, *r.clients(spec)) for spec in specs]
        candidates, failures = generate_candidates(prompts, sources, r.key, r.config.seed)
        held_out = list(read_records(r.layout.at(r.layout.preference("eval")), "prompts.jsonl", Prompt))
        one = [Source(sources[0].spec.model_copy(update={"samples": 1}), sources[0].client, sources[0].model)]
        eval_answers, eval_failures = generate_candidates(held_out, one, f"{r.key}-eval", r.config.seed)
        logged = r.read(PROMPTS, "log_candidates.jsonl", Candidate)
        out = r.out(CANDIDATES)
        write_records(out, "candidates.jsonl", candidates + logged)
        write_records(out, "eval_answers.jsonl", eval_answers)
        r.layout.write_json(r.uri(CANDIDATES.output, "failures.json"), failures + eval_failures)
        by_source = dict(Counter(c.source for c in candidates + logged))
        return {"candidates": len(candidates) + len(logged), "by_source": by_source,
                "policy": {**policy.model_dump(), "resolved_model": sources[0].model},
                "eval_answers": len(eval_answers), "failed": len(failures) + len(eval_failures),
                **stage_llm_summary([s.client for s in sources], r.config.llm.max_failure_share)}

    return _checked(r, CANDIDATES, r.run(CANDIDATES, upstream, body))


# -- AI feedback -----------------------------------------------------------------------------------------
def ai_feedback(r: Round) -> dict:
    opts = r.config.ai_feedback
    client, judge_model = r.clients(None)
    upstream = (r.marker(CANDIDATES), opts.model_dump(), judge_model,
                pairwise_template_ref())

    def body() -> dict:
        prompts = {p.id: p for p in r.read(PROMPTS, "prompts.jsonl", Prompt)}
        candidates = r.read(CANDIDATES, "candidates.jsonl", Candidate)
        failures: list[dict] = []
        summary: dict = {}
        if opts.mode in ("ratings", "both"):
            rated, failed = rate(prompts, candidates, client, opts.ratings, judge_model)
            rated_ids = {c.id for c in rated}
            candidates = rated + [c for c in candidates if c.id not in rated_ids]
            failures += failed
            summary["ratings"] = judge_summary([_scored(c, prompts) for c in rated])
        comparisons: list[Comparison] = []
        if opts.mode in ("pairwise", "both"):
            comparisons, failed = compare(prompts, all_pairs(candidates), client, opts.pairwise, judge_model)
            failures += failed
            summary["pairwise"] = pairwise_summary(comparisons, failed)
        out = r.out(AI_FEEDBACK)
        write_records(out, "candidates.jsonl", sorted(candidates, key=lambda c: c.id))
        write_records(out, "comparisons.jsonl", comparisons)
        r.layout.write_json(r.uri(AI_FEEDBACK.output, "failures.json"), failures)
        return {"candidates": len(candidates), "failed": len(failures), **summary,
                **stage_llm_summary([client], r.config.llm.max_failure_share)}

    return _checked(r, AI_FEEDBACK, r.run(AI_FEEDBACK, upstream, body))


def _checked(r: Round, spec: StageSpec, summary: dict) -> dict:
    """The stage's outputs are written; a reached budget or too many failed LLM requests still fail the run."""
    check_llm_stage(f"{r.key} {spec.name}", summary)
    return summary


def _scored(c: Candidate, prompts: dict[str, Prompt]) -> SFTRecord:
    return as_record(prompts[c.prompt_id], c).model_copy(update={"judgement": c.ai})


def pairwise_template_ref() -> str:
    return pairwise_template().ref


# -- human feedback over AI feedback ---------------------------------------------------------------------
RETURNED = ("annotation", "returned")


def controls(r: Round) -> list[ControlRecord]:
    """The configured control records, plus automatic ones: an SFT answer against the answer to another
    prompt (the off-topic answer is wrong by construction)."""
    out: list[ControlRecord] = []
    if r.config.human.controls:
        folder, files, _ = _file_source(r.layout, r.config.human.controls)
        for name in files:
            with folder.open(name, "rt", encoding="utf-8") as f:
                out += [ControlRecord.model_validate_json(line) for line in f if line.strip()]
    n = r.config.human.auto_controls
    if n:
        sft = [x for x in read_records(r.layout.at(SFT_DATASET.output_uri(r.layout)), "records.jsonl", SFTRecord)
               if x.instruction() and x.output()]
        sft.sort(key=lambda x: prompt_sources.rank(r.config.seed, r.key, "control", x.id))
        for i in range(min(n, len(sft) - 1) if len(sft) > 1 else 0):
            good, other = sft[i], sft[i + 1]
            if good.output().strip() == other.output().strip():
                continue
            out.append(ControlRecord(id=f"auto-{good.id}", prompt=good.instruction(),
                                     responses=[good.output(), other.output()], best=0))
    return out


def returned_files(layout: Layout, key: str) -> list[tuple[str, str]]:
    """(name, sha256) of the annotation files returned for a round, in name order."""
    folder = layout.at(layout.preference("rounds", key, *RETURNED))
    return [(f, file_digest(folder, f)) for f in data_files(folder)]


def feedback(r: Round) -> dict:
    human = r.config.human
    returned = returned_files(r.layout, r.key)
    upstream = (r.marker(AI_FEEDBACK), human.model_dump(), returned, r.config.ai_feedback.mode,
                SFT_DATASET.fingerprint_in(r.layout) if human.auto_controls else None)

    def body() -> dict:
        prompts = r.read(PROMPTS, "prompts.jsonl", Prompt)
        candidates = r.read(AI_FEEDBACK, "candidates.jsonl", Candidate)
        comparisons = r.read(AI_FEEDBACK, "comparisons.jsonl", Comparison)
        by_prompt: dict[str, list[Candidate]] = {}
        for c in candidates:
            by_prompt.setdefault(c.prompt_id, []).append(c)
        export = r.folder("annotation", "export")
        exported = annotation.export_for_annotation([p for p in prompts if p.id in by_prompt], by_prompt, controls(r),
                                                    export, seed=f"{r.config.seed}:{r.key}")
        mapping = r.layout.read_json(r.uri("annotation", "export", "mapping.json")) or {}
        rows: list[dict] = []
        for name, _ in returned:
            rows += annotation.read_rows(r.folder(*RETURNED), name)
        annotations, import_stats = annotation.read_annotations(rows, mapping)
        annotators = annotation.score_annotators(annotations, mapping, human.min_control_accuracy, human.min_controls)
        trusted = {a for a, s in annotators.items() if not s.get("flagged")}
        human_scores = annotation.human_scores(annotations, mapping, trusted)
        scores = merge(ai_scores(candidates, comparisons, r.config.ai_feedback.mode), human_scores)
        out = r.out(FEEDBACK)
        write_records(out, "scores.jsonl", scores.values())
        r.layout.write_json(r.uri(FEEDBACK.output, "annotators.json"), annotators)
        origin = dict(Counter(s.origin for s in scores.values()))
        return {"prompts_scored": len(scores), "by_origin": origin, "annotation_export": exported,
                "returned": [list(x) for x in returned], "annotations": len(annotations), "import": import_stats,
                "annotators": annotators, "flagged_annotators": sorted(set(annotators) - trusted)}

    return r.run(FEEDBACK, upstream, body)


# -- datasets --------------------------------------------------------------------------------------------
def build_dataset(r: Round) -> dict:
    opts = r.config.pairs
    upstream = (r.marker(FEEDBACK), opts.model_dump(), r.sft_export.language)

    def body() -> dict:
        prompts = {p.id: p for p in r.read(PROMPTS, "prompts.jsonl", Prompt)}
        candidates = r.read(AI_FEEDBACK, "candidates.jsonl", Candidate)
        scores = {s.prompt_id: s for s in r.read(FEEDBACK, "scores.jsonl", PromptScores)}
        dpo = dpo_rows(prompts, {c.id: c for c in candidates}, scores, opts, r.key)
        kto = kto_rows(prompts, candidates, scores, opts, r.key)
        out = r.out(DATASET)
        if out.exists(""):
            out.rm("", recursive=True)  # a split that became empty must not survive from the last export
        summary = r.summary(CANDIDATES) or {}
        feedback = r.summary(FEEDBACK) or {}
        mode = r.config.ai_feedback.mode
        templates = judge_templates(r.config.ai_feedback.ratings) if mode in ("ratings", "both") else {}
        if mode in ("pairwise", "both"):
            templates["judge_pairwise"] = pairwise_template_ref()
        provenance = {"round": r.key, "policy": summary.get("policy"), "language": r.sft_export.language,
                      "references": [s.model_dump() for s in r.config.candidates.references],
                      "judge_model": r.clients(None)[1], "ai_feedback": r.config.ai_feedback.model_dump(mode="json"),
                      "pairs": opts.model_dump(), "templates": templates,
                      "scores_by_origin": feedback.get("by_origin"), "annotations": feedback.get("annotations"),
                      "flagged_annotators": feedback.get("flagged_annotators")}
        counts = export_preferences(dpo, kto, out, opts.test_fraction, provenance, salt=r.key)
        return {"pairs": len(dpo), "kto_rows": len(kto), **counts}

    return r.run(DATASET, upstream, body)


def status(layout: Layout, key: str) -> dict[str, bool]:
    """Which stages of a round are complete (for the loop sensor)."""
    return {spec.name: bool(spec.fingerprint_in(layout, key)) for spec in STAGES}
