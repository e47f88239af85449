"""What can be explored, by name: the SFT dataset, an SFT stage (per method, with the records it dropped), or a
corpus drop's deduplicated documents. Parsing and existence checks are cheap (no model, no dataframe), so the CLI
can refuse a wrong target with one line before loading anything."""
from __future__ import annotations

from dataclasses import dataclass

from refinery.catalog.corpus import DEDUP
from refinery.catalog.sft import DATASET, FILTERED, GENERATED, JUDGED
from refinery.storage import Layout

SFT_STAGES = {"dataset": DATASET, "generated": GENERATED, "filtered": FILTERED, "judged": JUDGED}
RECORDS, DROPPED = "records.jsonl", "dropped.jsonl"  # the SFT stages' files (refinery.sft.flow)
FORMS = ("sft (= sft:dataset), sft:generated|filtered|judged[:<method>], corpus (every drop), corpus:<drop> "
         "or a drop's name")


class TargetError(ValueError):
    """A target that cannot be explored, as one line."""


@dataclass(frozen=True)
class Target:
    kind: str  # sft | corpus
    stage: str  # sft: dataset, generated, filtered, judged; corpus: deduplicated
    part: str | None = None  # sft stages: one method; corpus: one drop (None: all)

    def __str__(self) -> str:
        if self.kind == "corpus":
            return f"corpus:{self.part}" if self.part else "corpus"
        name = "sft" if self.stage == "dataset" else f"sft:{self.stage}"
        return f"{name}:{self.part}" if self.part else name


def parse_target(text: str) -> Target:
    parts = [p for p in text.strip().split(":")]
    head = parts[0].lower()
    if head == "sft":
        stage = parts[1] if len(parts) > 1 and parts[1] else "dataset"
        if stage not in SFT_STAGES:
            raise TargetError(f"target {text!r}: unknown SFT stage {stage!r}; one of {', '.join(SFT_STAGES)}")
        method = parts[2] if len(parts) > 2 and parts[2] else None
        if len(parts) > 3 or (method and stage == "dataset"):
            raise TargetError(f"target {text!r}: expected {FORMS}")
        return Target("sft", stage, method)
    if head == "corpus":
        if len(parts) > 2:
            raise TargetError(f"target {text!r}: expected {FORMS}")
        return Target("corpus", "deduplicated", parts[1] if len(parts) > 1 and parts[1] else None)
    if len(parts) == 1 and parts[0]:
        return Target("corpus", "deduplicated", parts[0])  # a drop's name
    raise TargetError(f"target {text!r}: expected {FORMS}")


def corpus_drops(layout: Layout) -> list[str]:
    """Drops whose deduplication completed (its marker written), oldest name first."""
    folder = layout.at(layout.uri("corpus"))
    if not folder.exists(""):
        return []
    names = sorted({p.split("/")[0] for p in folder.list_files(glob_pattern="*/_state/markers/dedup.json")})
    return [d for d in names if not d.startswith("_") and DEDUP.fingerprint_in(layout, d)]


def sft_methods(layout: Layout, stage: str) -> list[str]:
    """Methods with a records file in an SFT stage's folder."""
    folder = layout.at(layout.sft(SFT_STAGES[stage].output))
    if not folder.exists(""):
        return []
    return sorted({p.split("/")[0] for p in folder.list_files(glob_pattern=f"*/{RECORDS}")})


def check_target(layout: Layout, target: Target) -> None:
    """Raises TargetError (one line, with what there is instead) when the target has nothing to show."""
    if target.kind == "corpus":
        drops = corpus_drops(layout)
        have = f"deduplicated drops under {layout.root}: {', '.join(drops) or 'none (run `refinery corpus` first)'}"
        if not drops:
            raise TargetError(f"target {target}: no {have}")
        if target.part and target.part not in drops:
            raise TargetError(f"target {target}: no such deduplicated drop; {have}")
        return
    if target.stage == "dataset":
        if not layout.at(DATASET.output_uri(layout)).isfile(RECORDS):
            raise TargetError(f"target {target}: no SFT dataset under {layout.sft(DATASET.output)} "
                              f"(run `refinery sft` first)")
        return
    methods = sft_methods(layout, target.stage)
    if not methods:
        raise TargetError(f"target {target}: no {target.stage} SFT records under {layout.root} (run `refinery sft`)")
    if target.part and target.part not in methods:
        raise TargetError(f"target {target}: no {target.stage} records of method {target.part!r}; "
                          f"methods there: {', '.join(methods)}")
