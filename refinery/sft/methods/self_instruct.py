"""Self-Instruct (Wang et al. 2022): bootstrap new tasks from a pool of human-written seed tasks.

Each round: prompts listing tasks sampled from the pool (human seeds plus earlier machine tasks) ask
for new instructions; candidates pass the paper's filters (ROUGE-L < 0.7 against the whole pool,
keyword blacklist, length, start) and join the pool; the model says which are classification tasks;
instances are generated input-first, or output-first (class label, then input) for classification
so that labels are not skewed toward the one the model thinks of first.
"""
from __future__ import annotations

import math
import re
import string

from pydantic import Field

from refinery.llm.client import LLMClient
from refinery.llmdata.prompts import load_template
from refinery.llmdata.records import Chunk, stable_id
from refinery.sft.methods.base import (
    MethodResult,
    SamplingOptions,
    build_request,
    derive_seed,
    drop,
    failed,
    list_items,
    parse_fields,
    parse_list,
    record,
    rng,
    seed_tasks,
    words,
)

METHOD = "self_instruct"
INSTANCE_EXAMPLES = 4  # in-context examples per instance prompt; the paper's prompts hold a handful too
# The paper's blacklist: tasks a text-only model cannot do (see/produce media, act in the world).
_BLACKLIST = re.compile(r"\b(?:images?|graphs?|pictures?|files?|maps?|draw|plot|go to|video|audio|music|flowchart"
                        r"|diagram)\b", re.I)


class SelfInstructOptions(SamplingOptions):
    rounds: int = Field(1, ge=1)
    instructions_per_round: int = Field(4, ge=1)
    instructions_per_prompt: int = Field(2, ge=1)  # new tasks asked of each prompt
    seed_examples_per_prompt: int = Field(8, ge=1)  # in-context tasks per prompt (paper: 8 ...)
    machine_examples_per_prompt: int = Field(2, ge=0)  # ... of which from earlier rounds (paper: 2)
    instances_per_instruction: int = Field(1, ge=1)
    rouge_threshold: float = Field(0.7, gt=0, le=1)
    min_instruction_words: int = Field(4, ge=1)  # paper: more than 3 words
    max_instruction_words: int = Field(150, ge=1)


def parse_yes_no(text: str) -> bool:
    m = re.match(r"\W*(yes|no)\b", text.split("classification?", 1)[-1], re.I)
    if not m:
        raise ValueError("answer with Yes or No")
    return m.group(1).lower() == "yes"


def parse_instances(text: str) -> list[dict[str, str]]:
    """Instances as {input, output}; the prefill at the start of the text says which order was asked.
    A model continuing the few-shot pattern with a next "Task:" is cut there."""
    text = re.split(r"^\s*Task\s*:", text, maxsplit=1, flags=re.M)[0]
    if text.lstrip().lower().startswith("class label"):
        return [{"input": b["Input"], "output": b["Class label"]} for b in parse_fields(text, ("Class label", "Input"))]
    return [{"input": "" if b["Input"].lower() in {"none", "n/a", "-", "(none)", "no input"} else b["Input"],
             "output": b["Output"]} for b in parse_fields(text, ("Input", "Output"), optional=("Input",))]


class _Pool:
    """Every instruction so far, human and machine; new ones must not resemble any of them."""

    def __init__(self, threshold: float):
        from rouge_score import rouge_scorer  # here: it pulls in nltk (a second), config loading must not

        self.scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        self.threshold = threshold
        self.human = list(seed_tasks())
        self.machine: list[dict] = []

    def instructions(self) -> list[str]:
        return [t["instruction"] for t in self.human + self.machine]

    def rejection(self, inst: str, options: SelfInstructOptions) -> tuple[str, str] | None:
        """(reason, detail) for a candidate the paper's filters remove, else None."""
        n = words(inst)
        if n < options.min_instruction_words:
            return "too_short", f"{n} words"
        if n > options.max_instruction_words:
            return "too_long", f"{n} words"
        if m := _BLACKLIST.search(inst):
            return "keyword", m.group(0)
        if inst.startswith("Write a program") or inst[0] in string.punctuation or not inst[0].isascii():
            return "bad_start", inst[:30]
        best, score = max(((other, self.scorer.score(other, inst)["rougeL"].fmeasure)
                           for other in self.instructions()), key=lambda x: x[1])
        if score >= self.threshold:
            return "rouge_similar", f"ROUGE-L {score:.2f} with: {best}"
        return None


def run(chunks: list[Chunk], client: LLMClient, options: SelfInstructOptions, model: str, seed: int) -> MethodResult:
    pool = _Pool(options.rouge_threshold)
    result = MethodResult()
    for round_ in range(1, options.rounds + 1):
        accepted = _new_instructions(round_, pool, client, options, model, seed, result)
        _instances(round_, accepted, client, options, model, seed, result)
    return result


def _new_instructions(round_: int, pool: _Pool, client: LLMClient, options: SelfInstructOptions, model: str,
                      seed: int, result: MethodResult) -> list[dict]:
    template = load_template("self_instruct_instructions")
    requests, example_ids = [], []
    for p in range(math.ceil(options.instructions_per_round / options.instructions_per_prompt)):
        r = rng(seed, METHOD, round_, p)
        n_machine = min(options.machine_examples_per_prompt, len(pool.machine))
        n_human = min(options.seed_examples_per_prompt - n_machine, len(pool.human))
        examples = r.sample(pool.machine, n_machine) + r.sample(pool.human, max(0, n_human))
        r.shuffle(examples)
        example_ids.append([e["id"] for e in examples])
        requests.append(build_request(template, options, model, derive_seed(seed, METHOD, round_, p),
                                      tasks=[e["instruction"] for e in examples], n=options.instructions_per_prompt))
    accepted: list[dict] = []
    for ids, out in zip(example_ids, client.generate_structured(requests, parse_list, label=METHOD)):
        if (bad := failed(out, template, round=round_)) is not None:
            result.dropped.append(bad)
            continue
        for inst in list_items(out)[:options.instructions_per_prompt]:
            rejected = pool.rejection(inst, options)
            if rejected is None and len(accepted) >= options.instructions_per_round:
                rejected = ("over_quota", "")
            if rejected:
                result.dropped.append(drop(rejected[0], out.request, template, rejected[1], round=round_,
                                           instruction=inst))
                continue
            task = {"id": f"machine-{stable_id(METHOD, inst)}", "instruction": inst, "round": round_, "seed_ids": ids}
            pool.machine.append(task)  # later candidates (this round too) are compared with it
            accepted.append(task)
    return accepted


def _instances(round_: int, tasks: list[dict], client: LLMClient, options: SelfInstructOptions, model: str,
               seed: int, result: MethodResult) -> None:
    classify = load_template("self_instruct_classify")
    clf_seeds = [t for t in seed_tasks() if t["is_classification"]]
    other_seeds = [t for t in seed_tasks() if not t["is_classification"]]
    # a fixed, balanced few-shot set (the paper shows 12 classification and 19 other tasks)
    examples = [t for pair in zip(other_seeds, clf_seeds) for t in pair]
    # "is it classification?" is a judgement, not creative writing: greedy, as in the paper
    judge = options.model_copy(update={"temperature": 0.0, "top_p": None, "max_tokens": 16})
    requests = [build_request(classify, judge, model, derive_seed(seed, METHOD, "classify", t["id"]),
                              examples=examples, instruction=t["instruction"]) for t in tasks]
    classified = []
    for task, out in zip(tasks, client.generate_structured(requests, parse_yes_no, label=METHOD)):
        if (bad := failed(out, classify, round=round_, instruction=task["instruction"])) is not None:
            result.dropped.append(bad)
        else:
            classified.append((task, out.value))

    templates = {True: load_template("self_instruct_output_first"), False: load_template("self_instruct_input_first")}
    sampling = options.model_copy(update={"max_tokens": options.max_tokens * options.instances_per_instruction})
    requests = []
    for task, is_clf in classified:
        same_kind = clf_seeds if is_clf else other_seeds
        shots = rng(seed, METHOD, "shots", task["id"]).sample(same_kind, min(INSTANCE_EXAMPLES, len(same_kind)))
        requests.append(build_request(
            templates[is_clf], sampling, model, derive_seed(seed, METHOD, "instances", task["id"]),
            examples=[{"instruction": s["instruction"], **s["instances"][0]} for s in shots],
            instruction=task["instruction"], n=options.instances_per_instruction))
    parsed = client.generate_structured(requests, parse_instances, label=METHOD)
    for (task, is_clf), out in zip(classified, parsed):
        template = templates[is_clf]
        if (bad := failed(out, template, round=round_, instruction=task["instruction"])) is not None:
            result.dropped.append(bad)
            continue
        seen = set()
        instances = out.value[:options.instances_per_instruction]
        for i, inst in enumerate(instances):
            key = (inst["input"].casefold(), inst["output"].casefold())
            reason = ("truncated" if out.response.truncated and i == len(out.value) - 1
                      else "output_equals_input" if inst["input"].strip() == inst["output"].strip()
                      else "duplicate" if key in seen else None)
            seen.add(key)
            if reason:
                result.dropped.append(drop(reason, out.request, template, f"{inst}", round=round_,
                                           instruction=task["instruction"]))
                continue
            prompt = f"{task['instruction']}\n\n{inst['input']}" if inst["input"] else task["instruction"]
            result.records.append(record(
                METHOD, [("user", prompt), ("assistant", inst["output"])], model,
                [load_template("self_instruct_instructions"), classify, template], options,
                {"round": round_, "seed_ids": task["seed_ids"], "instruction_id": task["id"],
                 "is_classification": is_clf, "generation": "output-first" if is_clf else "input-first",
                 "instance_index": i}))
