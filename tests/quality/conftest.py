"""Real pages for the quality classifier: the committed realdocs slice extracted once per session, written as
the deduplicated output of its two drops, and the bundled embedding model loaded once."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from refinery.catalog.corpus import DEDUP, EXTRACT
from refinery.corpus import flow
from refinery.corpus.config import CorpusConfig
from refinery.corpus.report import iter_jsonl
from refinery.llm.types import LLMRequest
from refinery.quality.sample import excerpt
from refinery.runners import local_runner
from refinery.storage import Layout

SLICE = Path(__file__).parents[1] / "data" / "realdocs" / "raw"
DROPS = ("2026-01-a", "2026-01-b")
# The planted rule: pages of the SQLite and Octave manuals (as shipped, converted, edited or dumped to JSONL)
# are good (4-5), everything else (git, Debian reference, bash manuals, spam) is poor (0-2).
GOOD = re.compile(r"sqlite|octave")
GARBLED = 3  # answers without a readable score the judge gives (the first documents in hash order)


@pytest.fixture(scope="session")
def realdocs_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quality") / "root"
    corpus = flow.Corpus(Layout(str(root)), CorpusConfig(), local_runner(workers=1), str(SLICE))
    for drop in DROPS:
        flow.extract(corpus, drop)
    return root


@pytest.fixture
def layout(realdocs_root, tmp_path) -> Layout:
    """A fresh storage root whose drops are 'deduplicated' (the extracted slice, with a dedup marker)."""
    lay = Layout(str(tmp_path / "root"))
    for drop in DROPS:
        shutil.copytree(Path(EXTRACT.output_uri(Layout(str(realdocs_root)), drop)), Path(DEDUP.output_uri(lay, drop)))
        lay.write_json(DEDUP.marker_uri(lay, drop), {"fingerprint": f"dedup-{drop}", "summary": {}})
    return lay


@pytest.fixture(scope="session")
def pages(realdocs_root) -> list[dict]:
    lay = Layout(str(realdocs_root))
    return [d for drop in DROPS for d in iter_jsonl(lay.at(EXTRACT.output_uri(lay, drop)))]


def planted_score(source: str, doc_id: str) -> int:
    jitter = hashlib.sha256(doc_id.encode()).digest()[0]
    return (4 + jitter % 2) if GOOD.search(source) else jitter % 3


class PlantedJudge:
    """The scripted LLM's responder: finds the excerpt in the prompt, answers the planted rule's score
    (garbled answers for GARBLED documents, also to the repair request)."""

    def __init__(self, pages: list[dict], max_chars: int = 3000):
        self.by_excerpt = {excerpt(d["text"], max_chars).strip(): d for d in pages}
        self.garbled = set(sorted(d["id"] for d in pages)[:GARBLED])

    def doc_of(self, request: LLMRequest) -> dict:
        prompt = request.messages[0].content
        extract = prompt.split("The extract:\n", 1)[1].rsplit("\n\nAfter examining the extract", 1)[0]
        return self.by_excerpt[extract.strip()]

    def __call__(self, request: LLMRequest) -> str:
        doc = self.doc_of(request)
        if doc["id"] in self.garbled:
            return " I would say this page is rather good."
        return f" {planted_score(doc['metadata']['source'], doc['id'])}\nJustification: planted rule."
