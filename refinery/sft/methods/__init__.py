"""SFT generation methods. Each is `run(chunks, client, options, model, seed) -> MethodResult` with its own
options class; `run` below resolves one by name, validates its options and picks the model.

    from refinery.sft.methods import run
    result = run("grounded_qa", chunks, client, {"max_chunks": 20}, default_model="claude-haiku-4-5", seed=0)
    result.records, result.dropped
"""
from __future__ import annotations

from typing import Any, Callable

from refinery.llm.client import LLMClient
from refinery.llmdata.records import Chunk
from refinery.sft.methods import conversation, evol_instruct, grounded_qa, self_instruct, topic_tree
from refinery.sft.methods.base import MethodResult, SamplingOptions

RunFn = Callable[[list[Chunk], LLMClient, Any, str, int], MethodResult]

METHODS: dict[str, tuple[type[SamplingOptions], RunFn]] = {
    grounded_qa.METHOD: (grounded_qa.GroundedQAOptions, grounded_qa.run),
    self_instruct.METHOD: (self_instruct.SelfInstructOptions, self_instruct.run),
    evol_instruct.METHOD: (evol_instruct.EvolInstructOptions, evol_instruct.run),
    topic_tree.METHOD: (topic_tree.TopicTreeOptions, topic_tree.run),
    conversation.METHOD: (conversation.ConversationOptions, conversation.run),
}


def run(method_name: str, chunks: list[Chunk], client: LLMClient, options: SamplingOptions | dict | None = None,
        default_model: str = "", seed: int = 0) -> MethodResult:
    """One method over `chunks`; `options` is its options object or a dict (a YAML section) validated into one."""
    if method_name not in METHODS:
        raise ValueError(f"unknown generation method {method_name!r}; known: {sorted(METHODS)}")
    options_class, run_fn = METHODS[method_name]
    opts = options if isinstance(options, options_class) else options_class.model_validate(options or {})
    model = opts.model or default_model
    if not model:
        raise ValueError(f"{method_name}: no model (set options.model or pass default_model)")
    return run_fn(chunks, client, opts, model, seed)
