"""The exported dataset's README.md: YAML front matter the Hub and `datasets` read (configs, task,
language, size, tags) with our provenance under `refinery:` (machine-readable), and a short human summary."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import yaml

from refinery.llmdata.dataset_files import size_category
from refinery.llmdata.judge import JudgeOptions, judge_summary, judge_templates
from refinery.llmdata.records import Dropped, SFTRecord
from refinery.sft.filter_options import SFTFilterOptions

if TYPE_CHECKING:
    from refinery.sft.export import ExportOptions

MAX_PARAM_VALUES = 10  # per parameter: per-record values (seeds) would otherwise list every record


def _params(records: list[SFTRecord]) -> dict[str, dict[str, int]]:
    values: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        for key, value in r.params.items():
            values[key][str(value)] += 1
    out = {}
    for key, counts in sorted(values.items()):
        top = dict(counts.most_common(MAX_PARAM_VALUES))
        if rest := sum(counts.values()) - sum(top.values()):
            top["(other values)"] = rest
        out[key] = top
    return out


def provenance(records: Sequence[SFTRecord], counts: dict, *, dropped: Sequence[Dropped] = (),
               filter_options: SFTFilterOptions | None = None, judge_options: JudgeOptions | None = None,
               generation: dict | None = None, semantic_dedup: dict | None = None) -> dict:
    by_method: dict[str, list[SFTRecord]] = defaultdict(list)
    for r in records:
        by_method[r.method].append(r)
    methods = {m: {"records": len(rs), "models": dict(Counter(r.model for r in rs if r.model)),
                   "templates": dict(Counter(ref for r in rs for ref in r.templates.values())),
                   "params": _params(rs)}
               for m, rs in sorted(by_method.items())}
    drops: dict[str, Counter] = defaultdict(Counter)
    for d in dropped:
        drops[d.stage][d.reason] += 1
    judges = sorted({v.judge for r in records if r.judgement for v in r.judgement.verdicts})
    reviews = Counter((r.review or {}).get("status") for r in records if r.review)
    out = {**counts, "methods": methods,
           "models": {"generation": sorted({r.model for r in records if r.model}), "judges": judges},
           "dropped": {stage: dict(reasons) for stage, reasons in sorted(drops.items())},
           "judge": {"summary": judge_summary(records, [d for d in dropped if d.stage == "judge"])}}
    if judge_options:
        out["judge"].update(judge_options.model_dump(mode="json"),
                            templates=judge_templates(judge_options))
    if filter_options:
        out["filters"] = filter_options.model_dump(mode="json")
    if reviews:
        out["human_review"] = dict(reviews)
    if generation:
        out["generation"] = generation
    if semantic_dedup:
        out["semantic_dedup"] = semantic_dedup
    return out


def dataset_card(records: Sequence[SFTRecord], files: dict[str, dict[str, str]], counts: dict,
                 options: ExportOptions, **sources) -> str:
    """`files`: config -> split -> parquet path; `sources`: what `provenance` takes."""
    meta: dict = {}
    if options.pretty_name:
        meta["pretty_name"] = options.pretty_name
    if options.license:
        meta["license"] = options.license
    meta.update({
        "language": options.language, "task_categories": ["text-generation"],
        "size_categories": [size_category(len(records))], "tags": ["synthetic", "sft"],
        "configs": [{"config_name": config, **({"default": True} if config == "messages" else {}),
                     "data_files": [{"split": s, "path": p} for s, p in splits.items()]}
                    for config, splits in files.items()],
        "refinery": provenance(records, counts, **sources),
    })
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + _body(meta)


def _body(meta: dict) -> str:
    p = meta["refinery"]
    summary = p["judge"]["summary"]
    lines = [f"# {meta.get('pretty_name') or 'Synthetic SFT dataset'}", "",
             "Instruction-tuning data generated from an organisation's documents by llm-refinery, filtered and "
             "rated by LLM judges (UltraFeedback aspects). Full provenance is in the `refinery` section of "
             "this card's metadata.", "",
             "```python", "from datasets import load_dataset",
             'ds = load_dataset("<this repo or folder>")            # conversational `messages` (TRL SFTTrainer)',
             'alpaca = load_dataset("<this repo or folder>", "alpaca")  # single-turn instruction/input/output',
             "```", "", "| method | records | models |", "|---|---|---|"]
    lines += [f"| {m} | {s['records']} | {', '.join(s['models']) or '-'} |" for m, s in p["methods"].items()]
    lines += ["", f"Splits: {p['splits']}. Records left out of `alpaca` (multi-turn or with a system prompt): "
                  f"{p['alpaca_skipped']}.", ""]
    if p["dropped"]:
        lines += ["| stage | reason | dropped |", "|---|---|---|"]
        lines += [f"| {stage} | {reason} | {n} |"
                  for stage, reasons in p["dropped"].items() for reason, n in reasons.items()]
        lines.append("")
    if (semantic := p.get("semantic_dedup")) and semantic.get("enabled"):
        d = semantic["diversity"]
        lines += [f"Semantic dedup ({semantic['model']}, {semantic['field']} cosine >= {semantic['threshold']}): "
                  f"{semantic['dropped']} dropped {semantic['dropped_by_method']}. Diversity of what is left: mean "
                  f"nearest-neighbour distance {d.get('mean_nn_distance')}, {d.get('clusters')} k-means clusters, the "
                  f"largest holding {d.get('largest_cluster_share')} of the records (top 3: {d.get('top3_clusters_share')}).", ""]
    if p["models"]["judges"]:
        lines += [f"Judges: {', '.join(p['models']['judges'])}. Mean score {summary['mean_score']}, "
                  f"histogram (rounded score: records) {summary['score_histogram']}, "
                  f"aspect means {summary['aspect_means']}."]
        if agreement := summary["agreement"]:
            lines.append(f"Inter-judge agreement (Krippendorff's alpha, {agreement['metric']}): "
                         f"{agreement['overall']}.")
    return "\n".join(lines) + "\n"
