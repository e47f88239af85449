"""`refinery explore` and `refinery neighbours` refuse what cannot work with one line and exit 2, before loading a
model or a table."""
from __future__ import annotations

import socket

import pytest

from orchestration.cli import main
from tests.explore.conftest import DROP


def _error(capsys, *args) -> str:
    capsys.readouterr()
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("yaml, expected", [
    ("embeddings:\n  backend: openai\n", "embeddings.backend openai needs embeddings.base_url"),
    ("embeddings:\n  batch_size: 0\n", "embeddings.batch_size: must be ≥ 1"),
    ("embeddings:\n  modle: x\n", "embeddings.modle: unknown key"),
    ("embeddings:\n  model: /nowhere/model\n", "embeddings.model /nowhere/model: not a sentence-transformers model"),
])
def test_configuration_errors(tmp_path, capsys, yaml, expected):
    config = tmp_path / "c.yaml"
    config.write_text(yaml)
    for command in (["explore", "sft"], ["neighbours", "some-id"]):
        line = _error(capsys, *command, "--root", str(tmp_path), "--config", str(config))
        assert expected in line and str(config) in line


def test_target_and_argument_errors(explore_root, tmp_path, capsys):
    assert "no SFT dataset under" in _error(capsys, "explore", "sft", "--root", str(tmp_path))
    assert "run `refinery sft` first" in _error(capsys, "explore", "sft", "--root", str(tmp_path))
    line = _error(capsys, "explore", "2026-13-x", "--root", str(explore_root))
    assert "no such deduplicated drop" in line and DROP in line  # says which drops there are
    assert "unknown SFT stage 'judgd'" in _error(capsys, "explore", "sft:judgd", "--root", str(explore_root))
    assert "no judged records of method 'topic_tree'" in _error(capsys, "explore", "sft:judged:topic_tree", "--root",
                                                                 str(explore_root))
    assert "--limit: must be ≥ 1" in _error(capsys, "explore", DROP, "--limit", "0", "--root", str(explore_root))
    assert "a record id or --query" in _error(capsys, "neighbours", "--root", str(explore_root))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        line = _error(capsys, "explore", DROP, "--port", str(taken.getsockname()[1]), "--root", str(explore_root))
    assert "cannot listen there" in line and "--port 0" in line


def test_an_unknown_record_is_not_found(explore_root, capsys):
    capsys.readouterr()
    assert main(["neighbours", "no-such-record", "--root", str(explore_root), "--target", "sft"]) == 1
    assert "no record 'no-such-record' in sft" in capsys.readouterr().err
