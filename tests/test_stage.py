"""Stage bookkeeping: reuse when unchanged, resume when interrupted, clean restart when inputs change."""
import pytest

from refinery.stage import Stage, StageSpec
from refinery.storage import Layout

DEMO = StageSpec("corpus", "demo", output="demo", asset="demo_documents", partition="drop")


def _stage(tmp_path, fp):
    layout = Layout(str(tmp_path))
    return layout, Stage(layout, "d1", DEMO, fp, [DEMO.output_uri(layout, "d1")])


def _body(calls):
    def body(stage):
        calls.append(stage.fp)
        out = stage.layout.at(DEMO.output_uri(stage.layout, "d1"))
        with out.open(f"{stage.fp}.txt", "wt") as f:
            f.write("x")
        return {"n": len(calls)}
    return body


def test_unchanged_inputs_reuse_the_previous_output(tmp_path):
    calls = []
    _, stage = _stage(tmp_path, "fp1")
    assert stage.run(_body(calls)).skipped is False
    again = _stage(tmp_path, "fp1")[1].run(_body(calls))
    assert again.skipped is True and again.summary["n"] == 1 and calls == ["fp1"]


def test_changed_inputs_clear_old_outputs_and_marker_first(tmp_path):
    calls = []
    layout, stage = _stage(tmp_path, "fp1")
    stage.run(_body(calls))

    def crash(stage):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        _stage(tmp_path, "fp2")[1].run(crash)
    # a crashed re-run must not leave the old marker vouching for outputs that are gone
    assert _stage(tmp_path, "fp1")[1].completed() is None
    assert not (tmp_path / "corpus" / "d1" / "demo" / "fp1.txt").exists()
    _stage(tmp_path, "fp2")[1].run(_body(calls))
    assert sorted(p.name for p in (tmp_path / "corpus" / "d1" / "demo").iterdir()) == ["fp2.txt"]


def test_interrupted_run_keeps_partial_outputs_for_resume(tmp_path):
    calls = []
    layout, stage = _stage(tmp_path, "fp1")

    def partial_then_crash(stage):
        _body(calls)(stage)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        stage.run(partial_then_crash)
    _stage(tmp_path, "fp1")[1].run(_body(calls))  # same inputs: nothing wiped, the runner skips done tasks
    assert (tmp_path / "corpus" / "d1" / "demo" / "fp1.txt").exists() and calls == ["fp1", "fp1"]
