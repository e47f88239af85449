"""The `quality_classifier` corpus filter: each document's excerpt is embedded and scored 0-5 by a trained
artifact (refinery/quality/artifact.py); documents under the threshold are dropped with the reason
`quality_classifier_low`, every document gets metadata["quality_score"], and the step counts a histogram of
scores (`score_0` .. `score_4`: [0,1) .. [4,5]) beside datatrove's dropped/forwarded counts.

datatrove runs each task in a worker process, with the step unpickled per task: the artifact and the embedding
model (~5 s to load) are kept per process, not per task or per document. Vectors are not written to the
embedding cache: each document is scored once per filter run, and a shard per batch and worker would only
grow the cache's index."""
from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from refinery.embed.options import EmbeddingOptions
from refinery.quality.sample import excerpt

REASON = "quality_classifier_low"
BINS = 5  # histogram bins of width 1 over 0-5 (5.0 counts in the last)
_LOADED: dict[tuple, tuple] = {}  # (root, endpoint, version, embedding options) -> (head, embedder), per process


def _load(root: str, endpoint_url: str | None, version: str, embeddings: EmbeddingOptions):
    key = (root, endpoint_url, version, embeddings.model_dump_json())
    if key not in _LOADED:
        from refinery.embed.embedder import open_embedder_in_worker
        from refinery.quality import artifact
        from refinery.storage import Layout

        head, card = artifact.load(Layout(root, endpoint_url), version)
        embedder = open_embedder_in_worker(embeddings)
        if embedder.model_id != card["embedding_model_id"]:
            raise RuntimeError(f"quality classifier {version} was trained on {card['embedding_model_id']} "
                               f"embeddings, the configured model is {embedder.model_id}: retrain it "
                               f"(materialise quality_classifier) or configure that embedding model")
        _LOADED[key] = (head, embedder)
    return _LOADED[key]


class QualityClassifierFilter(BaseFilter):
    name = "🎓 quality classifier"

    def __init__(self, root: str, version: str, threshold: float, embeddings: EmbeddingOptions, max_chars: int,
                 batch_size: int = 64, endpoint_url: str | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer, batch_size=batch_size)
        self.root, self.version, self.threshold = root, version, threshold
        self.embeddings, self.max_chars, self.endpoint_url = embeddings, max_chars, endpoint_url

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        head, embedder = _load(self.root, self.endpoint_url, self.version, self.embeddings)
        scores = head.scores(embedder.embed([excerpt(doc.text, self.max_chars) for doc in batch]))
        out: list[bool | tuple[bool, str]] = []
        for doc, score in zip(batch, scores.tolist()):
            doc.metadata["quality_score"] = round(score, 3)
            self.stat_update(f"score_{min(int(score), BINS - 1)}")
            out.append(True if score >= self.threshold else (False, REASON))
        return out


def score_histogram(step_stats: dict) -> dict[str, int]:
    """{"0-1": n, ..., "4-5": n} from the step's stats (as merged by refinery.stage.load_stats)."""
    return {f"{b}-{b + 1}": int(step_stats.get(f"score_{b}", 0)) for b in range(BINS)}


def quality_version(layout, options) -> str:
    """The artifact version the filter loads (`latest` resolved); raises when none is trained."""
    from refinery.quality import artifact

    return artifact.resolve(layout, options.version)


def quality_step(layout, options, embeddings: EmbeddingOptions):
    """build_filter_steps' `quality` argument: the step for `options` (None when the filter is off)."""
    if not options.enabled:
        return None
    from refinery.quality import artifact

    version = quality_version(layout, options)
    card = artifact.read_card(layout, version)

    def make(exclusion_writer) -> QualityClassifierFilter:
        return QualityClassifierFilter(layout.root, version, options.threshold, embeddings, card["max_chars"],
                                       options.batch_size, layout.endpoint_url, exclusion_writer)

    return make
