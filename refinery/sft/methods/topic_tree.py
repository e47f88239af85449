"""Topic tree: root topics are expanded into subtopics, those into finer topics (`depth` levels of
`branching` children), and each leaf gets `prompts_per_leaf` user requests, each answered. Breadth comes
from the tree, so the prompts cover the domain instead of circling one favourite subject.

Roots default to the corpus's own subjects (document titles or file names) when chunks are given.
The frontier is capped at every level so that no more than `max_leaves` leaves are ever expanded:
a small run makes few calls, spread round-robin across branches.
"""
from __future__ import annotations

import math
import posixpath
import re

from pydantic import Field

from refinery.llm.client import LLMClient
from refinery.llmdata.prompts import load_template
from refinery.llmdata.records import Chunk
from refinery.sft.methods.base import (
    MethodResult,
    SamplingOptions,
    answer,
    build_request,
    derive_seed,
    drop,
    failed,
    list_items,
    parse_list,
    record,
    rng,
    words,
)

METHOD = "topic_tree"
GENERIC_ROOTS = ("writing and editing at work", "meetings and project management", "spreadsheets and data analysis",
                 "customer communication", "workplace policies and HR", "IT tools and troubleshooting")


class TopicTreeOptions(SamplingOptions):
    root_topics: list[str] | None = None  # None: from the chunks' documents, else GENERIC_ROOTS
    depth: int = Field(2, ge=0)  # expansion levels below a root; 0 makes the roots the leaves
    branching: int = Field(2, ge=1)
    max_leaves: int = Field(4, ge=1)
    prompts_per_leaf: int = Field(1, ge=1)


def roots_from_chunks(chunks: list[Chunk]) -> list[str]:
    """One topic per document: its first line when it reads like a title, else its file name."""
    first: dict[str, Chunk] = {}
    for c in chunks:
        if c.doc_id not in first or c.index < first[c.doc_id].index:
            first[c.doc_id] = c
    topics: list[str] = []
    for c in first.values():
        line = next((ln.strip(" #*\t") for ln in c.text.splitlines() if ln.strip(" #*\t")), "")
        if not 1 <= words(line) <= 10:
            stem = posixpath.splitext(posixpath.basename(c.source or c.doc_id))[0]
            line = re.sub(r"[-_.]+", " ", stem).strip()
        if line and line.casefold() not in {t.casefold() for t in topics}:
            topics.append(line)
    return topics


def _round_robin(groups: list[list[list[str]]], k: int) -> list[list[str]]:
    """Up to k paths, taking each parent's first child before any second child."""
    picked: list[list[str]] = []
    for i in range(max(map(len, groups), default=0)):
        picked.extend(g[i] for g in groups if i < len(g))
    return picked[:k]


def run(chunks: list[Chunk], client: LLMClient, options: TopicTreeOptions, model: str, seed: int) -> MethodResult:
    expand, prompts_t, respond = (load_template(n) for n in ("topic_tree_expand", "topic_tree_prompts", "respond"))
    result = MethodResult()
    roots = options.root_topics or roots_from_chunks(chunks) or list(GENERIC_ROOTS)
    roots = rng(seed, METHOD, "roots").sample(roots, len(roots))

    def cap(level: int) -> int:  # nodes worth expanding at `level` to end with at most max_leaves leaves
        return math.ceil(options.max_leaves / options.branching ** (options.depth - level))

    frontier = [[r] for r in roots[:cap(0)]]
    for level in range(1, options.depth + 1):
        requests = [build_request(expand, options, model, derive_seed(seed, METHOD, "expand", *path),
                                  path=path, n=options.branching) for path in frontier]
        groups = []
        for path, out in zip(frontier, client.generate_structured(requests, parse_list, label=METHOD)):
            if (bad := failed(out, expand, topic_path=path)) is not None:
                result.dropped.append(bad)
                continue
            groups.append([[*path, child] for child in list_items(out)[:options.branching]])
        frontier = _round_robin(groups, cap(level))
    leaves = frontier[:options.max_leaves]

    requests = [build_request(prompts_t, options, model, derive_seed(seed, METHOD, "prompts", *path),
                              path=path, n=options.prompts_per_leaf) for path in leaves]
    tasks = []
    for path, out in zip(leaves, client.generate_structured(requests, parse_list, label=METHOD)):
        if (bad := failed(out, prompts_t, topic_path=path)) is not None:
            result.dropped.append(bad)
            continue
        for i, prompt in enumerate(list_items(out)[:options.prompts_per_leaf]):
            if words(prompt) < 3:
                result.dropped.append(drop("too_short", out.request, prompts_t, prompt, topic_path=path))
            else:
                tasks.append((path, i, prompt))

    requests = [build_request(respond, options, model, derive_seed(seed, METHOD, "response", *path, i),
                              instruction=prompt) for path, i, prompt in tasks]
    for (path, i, prompt), out in zip(tasks, client.generate(requests, label=METHOD)):
        response, bad = answer(out, respond, topic_path=path)
        if bad:
            result.dropped.append(bad)
            continue
        used = [expand, prompts_t, respond] if options.depth else [prompts_t, respond]
        result.records.append(record(METHOD, [("user", prompt), ("assistant", response)], model, used, options,
                                     {"topic_path": path, "prompt_index": i}))
    return result
