"""LLM labels: each sampled excerpt is scored 0-5 with the `quality_annotation` prompt (FineWeb-Edu's
additive rubric for internal documentation) through the shared client: cached answers are free, so a killed
run never pays twice. An answer without a readable score is repaired once by the client, then counted as
unparsable and dropped: a label is never guessed."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from refinery.llm.client import LLMClient
from refinery.llm.types import LLMRequest, user
from refinery.llmdata.prompts import load_template
from refinery.quality.sample import SampledDoc

TEMPLATE = "quality_annotation"
LEDGER = "quality_labels"

# "Educational score: 4", "score: **4**", "Educational score: [4]", "4/5", "4 out of 5", "4.0"; not 4.5, 6, 10,
# 90%, "four": a score the answer does not state as a whole number from 0 to 5 is not rounded into one
_SCORE = re.compile(r"\s*(?:educational\s+)?score\s*:\s*[*\[(]*\s*([0-5])(?:\.0+)?[*\])\t ]*"
                    r"(?:(?:/|out of)[\t ]*5[*\])\t ]*)?(?![\w.,]\d|\d|\w)", re.I)


def parse_score(text: str) -> int:
    m = _SCORE.match(text)
    if not m:
        raise ValueError("expected 'Educational score: <0-5>' on the first line, then 'Justification: ...'")
    return int(m.group(1))


@dataclass(frozen=True)
class Label:
    doc: SampledDoc
    score: int


def label_documents(docs: list[SampledDoc], client: LLMClient, model: str, temperature: float = 0.0,
                    max_tokens: int = 128) -> tuple[list[Label], dict]:
    """Labels of the documents whose answer parsed, in order, and {"requested", "labelled", "unparsable",
    "failures": {reason: n}, "template"}."""
    template = load_template(TEMPLATE)
    requests = []
    for doc in docs:
        system, text, prefill = template.render(text=doc.text)
        requests.append(LLMRequest(model=model, system=system, messages=(user(text),), temperature=temperature,
                                   max_tokens=max_tokens, prefill=prefill))
    outcomes = client.generate_structured(requests, parse_score, label=LEDGER)
    labels = [Label(doc, out.value) for doc, out in zip(docs, outcomes) if out.ok]
    failures = Counter(out.error for out in outcomes if not out.ok)
    return labels, {"requested": len(docs), "labelled": len(labels), "unparsable": failures.pop("invalid_output", 0),
                    "failures": dict(failures), "template": template.ref}
