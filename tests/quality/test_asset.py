"""The quality_classifier asset in Dagster: trains from the drops deduplicated so far through the LLM resource
(an OpenAI-compatible fake serving the planted judge), with its metrics, confusion matrix and label histogram
in the materialisation's metadata; a second materialisation reuses the artifact and sends nothing."""
from __future__ import annotations

import dagster as dg

from assets.corpus.quality import quality_classifier
from refinery.llm.types import LLMRequest, user
from resources import EmbeddingsResource, LLMResource, SettingsResource, StorageResource
from tests.fakes.openai_server import FakeOpenAIServer
from tests.quality.conftest import SLICE, PlantedJudge


def test_asset_trains_and_reports(layout, pages, tmp_path):
    judge = PlantedJudge(pages)

    def responder(body: dict) -> str:
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return judge(LLMRequest(model=body["model"], messages=(user(prompt),)))

    config = tmp_path / "c.yaml"
    config.write_text("filters:\n  quality_classifier: {sample_size: 60, test_fraction: 0.3, max_failure_share: 0.1}\n")
    with FakeOpenAIServer(responder) as server:
        resources = {"storage": StorageResource(root=layout.root, raw_root=str(SLICE)),
                     "llm": LLMResource(backend="openai", base_url=f"{server.base_url}/v1", model="fake-judge",
                                        api_key="k"),
                     "settings": SettingsResource(config_file=str(config)), "embeddings": EmbeddingsResource()}
        result = dg.materialize([quality_classifier], resources=resources)
        assert result.success
        md = result.asset_materializations_for_node("quality_classifier")[0].metadata
        assert md["reused_previous_output"].value is False
        assert md["held_out_documents"].value + md["train_documents"].value == md["labelling"].value["labelled"]
        assert 0 <= md["held_out_binary_f1"].value <= 1 and "| **5** |" in md["confusion_matrix"].value
        assert sum(md["label_histogram"].value.values()) == md["labelling"].value["labelled"]
        assert md["labelling"].value["llm"]["calls"] > 0 and md["label_model"].value == "fake-judge"
        sent = len(server.records)
        again = dg.materialize([quality_classifier], resources=resources)
        md2 = again.asset_materializations_for_node("quality_classifier")[0].metadata
        assert md2["reused_previous_output"].value is True and md2["version"].value == md["version"].value
        assert len(server.records) == sent
