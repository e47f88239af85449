"""A round's preference data as a Hugging Face dataset folder (local, S3 or a mount):

    <out>/dpo/{train,test}-<hash>.{parquet,jsonl}   prompt/chosen/rejected (+ messages, scores): DPO, and ORPO
                                                    without the `messages` column
    <out>/kto/{train,test}-<hash>.{parquet,jsonl}   prompt/completion/label: KTO
    <out>/README.md                                 dataset card with the round's provenance

`load_dataset(out, "dpo")` / `load_dataset(out, "kto")`. Splits go by prompt, so every row of a prompt lands
in the same split and a held-out prompt is never trained on through another pair.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
import yaml
from datatrove.io import DataFolder

from refinery.llmdata.dataset_files import size_category, split_of, write_configs

_TURNS = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
_COMMON = [("id", pa.string()), ("prompt_id", pa.string()), ("origin", pa.string()), ("round", pa.string())]
SCHEMAS = {
    "dpo": pa.schema([("prompt", _TURNS), ("chosen", _TURNS), ("rejected", _TURNS), ("messages", _TURNS),
                      ("score_chosen", pa.float64()), ("score_rejected", pa.float64()),
                      ("chosen_source", pa.string()), ("rejected_source", pa.string()),
                      ("chosen_model", pa.string()), ("rejected_model", pa.string()), *_COMMON]),
    "kto": pa.schema([("prompt", _TURNS), ("completion", _TURNS), ("label", pa.bool_()), ("score", pa.float64()),
                      ("source", pa.string()), ("model", pa.string()), *_COMMON]),
}


def export_preferences(dpo: Sequence[dict], kto: Sequence[dict], folder: DataFolder, test_fraction: float,
                       provenance: dict, salt: str = "") -> dict:
    """Writes both configs and the card; returns the counts."""
    split = split_of(sorted({r["prompt_id"] for r in (*dpo, *kto)}), test_fraction, salt)
    rows = {name: {"train": [], "test": []} for name in SCHEMAS}
    for name, config_rows in (("dpo", dpo), ("kto", kto)):
        for row in sorted(config_rows, key=lambda r: r["id"]):
            rows[name][split[row["prompt_id"]]].append(row)
    files = write_configs(folder, rows, SCHEMAS)
    counts = {"dpo": {s: len(v) for s, v in rows["dpo"].items()}, "kto": {s: len(v) for s, v in rows["kto"].items()},
              "dpo_by_origin": dict(Counter(r["origin"] for r in dpo)),
              "kto_labels": {"desirable": sum(r["label"] for r in kto), "undesirable": sum(not r["label"] for r in kto)},
              "kto_by_origin": dict(Counter(r["origin"] for r in kto))}
    with folder.open("README.md", "wt", encoding="utf-8") as f:
        f.write(card(files, counts, provenance, len(dpo) + len(kto)))
    return counts


def card(files: dict[str, dict[str, str]], counts: dict, provenance: dict, n: int) -> str:
    meta = {"language": list(provenance.get("language", ["en"])),  # a copy: no YAML anchor in the card "task_categories": ["text-generation"],
            "size_categories": [size_category(n)], "tags": ["dpo", "kto", "orpo", "preference", "synthetic"],
            "configs": [{"config_name": c, **({"default": True} if c == "dpo" else {}),
                         "data_files": [{"split": s, "path": p} for s, p in splits.items()]}
                        for c, splits in files.items()],
            "refinery": {**provenance, "counts": counts}}
    body = [f"# Preference data, {provenance.get('round', '')}", "",
            "Candidates from the deployed policy (and reference models), rated by AI judges (UltraFeedback aspects "
            "and/or pairwise with both orders) and by people where they annotated; human judgement overrides the "
            "AI's. Provenance in the `refinery` section of this card's metadata.", "",
            "```python", "from datasets import load_dataset",
            'dpo = load_dataset("<this folder>", "dpo")  # TRL DPOTrainer: prompt, chosen, rejected (+ scores)',
            'kto = load_dataset("<this folder>", "kto")  # TRL KTOTrainer: prompt, completion, label',
            'orpo = dpo.remove_columns("messages")        # TRL ORPOTrainer (it rejects extra chat columns)',
            "```", "", f"DPO pairs by split {counts['dpo']}, by origin {counts['dpo_by_origin']}.",
            f"KTO rows by split {counts['kto']}, labels {counts['kto_labels']}, by origin {counts['kto_by_origin']}.", ""]
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + "\n".join(body)
