"""The classifier as a versioned artifact under the storage root:

    <root>/models/quality_classifier/<version>/weights.npz   the head's arrays (numpy only, no pickle)
                                              /card.json     embedding model, label model, prompt, sample, metrics
                                              /labels.jsonl  every LLM label it was trained on (id, drop, score)
    <root>/models/quality_classifier/latest.json             {"version": ...} of the last complete training

The version is a hash of the training inputs, so the same inputs find their artifact and do not train again.
card.json is written last: a folder without it is an interrupted training and is never loaded."""
from __future__ import annotations

import io
import json
import posixpath

import numpy as np

from refinery.quality.train import QualityHead
from refinery.storage import Layout

NAME = "quality_classifier"


def version_uri(layout: Layout, version: str, *parts: str) -> str:
    return layout.model(NAME, version, *parts)


def save(layout: Layout, version: str, head: QualityHead, card: dict, labels: list[dict]) -> None:
    folder = layout.at(version_uri(layout, version))
    folder.makedirs("", exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **head.arrays())
    with folder.open("weights.npz", "wb") as f:
        f.write(buffer.getvalue())
    with folder.open("labels.jsonl", "wt") as f:
        f.writelines(json.dumps(row, sort_keys=True) + "\n" for row in labels)
    layout.write_json(version_uri(layout, version, "card.json"), card)
    if card.get("complete"):
        layout.write_json(layout.model(NAME, "latest.json"), {"version": version})


def read_card(layout: Layout, version: str) -> dict | None:
    return layout.read_json(version_uri(layout, version, "card.json"))


def resolve(layout: Layout, version: str) -> str:
    """A version's name, `latest` resolved; raises with what to do when there is none."""
    if version == "latest":
        latest = layout.read_json(layout.model(NAME, "latest.json"))
        if not latest:
            raise RuntimeError(f"no quality classifier trained under {layout.model(NAME)}: materialise the "
                               f"quality_classifier asset first, or set filters.quality_classifier.enabled: false")
        version = latest["version"]
    if not read_card(layout, version):
        raise RuntimeError(f"quality classifier version {version} not found (no card.json under "
                           f"{version_uri(layout, version)})")
    return version


def load(layout: Layout, version: str) -> tuple[QualityHead, dict]:
    card = read_card(layout, version)
    if card is None:
        raise RuntimeError(f"quality classifier version {version} not found under {layout.model(NAME)}")
    folder = layout.at(version_uri(layout, version))
    with folder.open("weights.npz", "rb") as f, np.load(io.BytesIO(f.read()), allow_pickle=False) as npz:
        return QualityHead.from_arrays(npz), card


def versions(layout: Layout) -> list[str]:
    folder = layout.at(layout.model(NAME))
    if not folder.exists(""):
        return []
    return sorted(posixpath.dirname(p) for p in folder.list_files(recursive=True) if p.endswith("/card.json"))
