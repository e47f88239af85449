import json

from refinery.sft import checks
from refinery.storage import data_folder


def _folder(tmp_path, rows):
    (tmp_path / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data_folder(str(tmp_path))


GOOD = {"id": "a", "method": "grounded_qa", "messages": [{"role": "user", "content": "Q?"},
                                                          {"role": "assistant", "content": "A."}],
        "judgement": {"verdicts": [], "score": 4.0}}


def test_checks_pass_on_good_rows_and_name_the_offenders(tmp_path):
    folder = _folder(tmp_path, [GOOD])
    assert all(c(folder).passed for c in (checks.schema_valid, checks.no_empty_turns, checks.judge_coverage))
    bad_roles = {**GOOD, "id": "b", "messages": GOOD["messages"][::-1]}
    empty = {**GOOD, "id": "c", "messages": [GOOD["messages"][0], {"role": "assistant", "content": "  "}]}
    unjudged = {**GOOD, "id": "d", "judgement": None}
    reviewed = {**GOOD, "id": "e", "judgement": None, "review": {"quality": 5}}
    folder = _folder(tmp_path, [GOOD, bad_roles, empty, unjudged, reviewed, {"id": "f"}])
    schema = checks.schema_valid(folder)
    assert not schema.passed and schema.checked == 6
    assert [f.get("id") for f in schema.failures] == ["b", None]
    assert [f["id"] for f in checks.no_empty_turns(folder).failures] == ["c"]
    assert [f["id"] for f in checks.judge_coverage(folder).failures] == ["d", "f"]
