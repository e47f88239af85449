"""The quality classifier: trained on LLM labels of documents sampled from every drop deduplicated so far,
saved as a versioned artifact the `quality_classifier` filter loads (refinery/quality/)."""
import dagster as dg

from refinery.catalog.corpus import DEDUP
from refinery.quality import flow
from refinery.quality.train import confusion_markdown
from resources import EmbeddingsResource, LLMResource, SettingsResource, StorageResource


def quality_metadata(card: dict, storage: StorageResource) -> dict:
    held_out = card["held_out"]
    md = {
        "version": dg.MetadataValue.text(card["version"]),
        "reused_previous_output": card["reused_previous_output"],
        "held_out_accuracy": dg.MetadataValue.float(held_out["accuracy"]),
        "held_out_macro_f1": dg.MetadataValue.float(held_out["macro_f1"]),
        "held_out_binary_f1": dg.MetadataValue.float(held_out["binary_f1"]),  # keep = score >= threshold
        "threshold": dg.MetadataValue.float(held_out["threshold"]),
        "held_out_documents": dg.MetadataValue.int(held_out["n"]),
        "train_documents": dg.MetadataValue.int(card["train_size"]),
        "confusion_matrix": dg.MetadataValue.md(
            "Held-out documents; rows: LLM label, columns: predicted score.\n\n" + confusion_markdown(held_out["confusion_matrix"])),
        "label_histogram": dg.MetadataValue.json(card["label_histogram"]),
        "labelling": dg.MetadataValue.json(card["labelling"]),
        "sampling": dg.MetadataValue.json(card["sampling"]),
        "embedding_model_id": dg.MetadataValue.text(card["embedding_model_id"]),
        "label_model": dg.MetadataValue.text(card["label_model"]),
        "prompt_template": dg.MetadataValue.text(card["prompt_template"]),
        "cpu_seconds": dg.MetadataValue.json(card["cpu_seconds"]),
        "path_artifact": dg.MetadataValue.path(storage.layout().uri(card["artifact"])),
    }
    if card.get("warning"):
        md["warning"] = dg.MetadataValue.text(card["warning"])
    return md


@dg.asset(name=flow.ASSET, group_name="quality", deps=[DEDUP.asset], kinds={"llm", "sklearn"}, pool="llm",
          description="Quality classifier (0-5) trained on LLM labels of sampled deduplicated documents: held-out "
                      "metrics, versioned artifact under <root>/models/quality_classifier/.")
def quality_classifier(storage: StorageResource, llm: LLMResource, settings: SettingsResource,
                       embeddings: EmbeddingsResource) -> dg.MaterializeResult:
    config = settings.config()
    layout = storage.layout()
    options = config.corpus.filters.quality_classifier
    client = llm.client(layout, config.sft.pricing)
    try:
        card = flow.train_classifier(layout, flow.deduplicated_drops(layout, storage.list_drops()), options, client,
                                     llm.model_for(model=options.label_model), embeddings.embedder(config.embeddings, layout))
    finally:
        client.finish()
    return dg.MaterializeResult(metadata=quality_metadata(card, storage))
