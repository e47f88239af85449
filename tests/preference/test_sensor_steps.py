"""The loop sensor's decisions from the stage markers alone: open, re-run feedback on new annotation files,
wait for enough pairs, train, open the next round."""
import hashlib

from assets.preference.sensor import next_step
from refinery.stage import run_once
from refinery.storage import Layout

FLOW = "preference"  # the flow whose markers the loop sensor reads


def _done(layout: Layout, stage: str, key: str, **summary) -> None:
    """A completed stage as its marker records it (a new summary is a new fingerprint)."""
    run_once(layout, f"{stage}-{key}", f"fp-{stage}-{key}-{summary}", lambda: dict(summary), FLOW)


def test_the_loop_step_by_step(tmp_path):
    layout = Layout(str(tmp_path))
    assert next_step(layout, [], 10) is None  # no SFT dataset yet
    run_once(layout, "dataset", "sft", lambda: {})
    assert next_step(layout, [], 10)[:2] == ("open", "round-001")
    for stage in ("prompts", "candidates", "ai_feedback"):
        _done(layout, stage, "round-001")
    _done(layout, "feedback", "round-001", returned=[])
    _done(layout, "dataset", "round-001", pairs=4)
    assert next_step(layout, ["round-001"], 10) is None  # 4 pairs < 10: wait for annotations
    returned = tmp_path / "preference" / "rounds" / "round-001" / "annotation" / "returned"
    returned.mkdir(parents=True)
    (returned / "alice.csv").write_text("record_id,annotator\n")
    assert next_step(layout, ["round-001"], 10)[:2] == ("feedback", "round-001")
    assert next_step(layout, ["round-001"], 4)[0] == "feedback"  # new annotations first, then training
    _done(layout, "feedback", "round-001", returned=[["alice.csv", _sha(returned / "alice.csv")]])
    assert next_step(layout, ["round-001"], 4)[:2] == ("train", "round-001")
    _done(layout, "policy", "round-001")
    assert next_step(layout, ["round-001"], 4)[0] == "train"  # evaluation still missing: the same job again
    _done(layout, "eval", "round-001", win_rate=0.5, compared=2)
    assert next_step(layout, ["round-001"], 4)[:2] == ("open", "round-002")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
