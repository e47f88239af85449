import pytest

from refinery.llmdata.records import SFTRecord, Turn
from refinery.sft.filter_options import NearDuplicateOptions, SFTFilterOptions
from refinery.sft.filters import filter_records, near_duplicates

QUESTION = "How many days do customers have to return an unopened product for a full refund?"
ANSWER = ("Customers have thirty days from the delivery date to return an unopened product, and the refund is "
          "issued to the original payment method within five business days after the warehouse receives it.")


def rec(id: str, question: str = QUESTION, answer: str = ANSWER, roles=("user", "assistant"), **kw) -> SFTRecord:
    turns = [Turn(role=r, content=c) for r, c in zip(roles, (question, answer))]
    return SFTRecord(id=id, method="grounded_qa", messages=turns, **kw)


def reasons(dropped):
    return {d.record.id: d.reason for d in dropped}


def all_off() -> SFTFilterOptions:
    return SFTFilterOptions.model_validate({
        "empty_turn": False, "truncated": False, "identical_input_output": False,
        **{k: {"enabled": False} for k in ("malformed", "length", "pii", "toxicity", "language", "near_duplicate")}})


BAD = {
    "empty": rec("empty", answer="   "),
    "roles": rec("roles", roles=("assistant", "user")),
    "label": rec("label", answer="Answer: " + ANSWER),
    "evol": rec("evol", question="#Rewritten Prompt#: " + QUESTION),
    "jinja": rec("jinja", question="Using {{ chunk }}, " + QUESTION),
    "truncated": rec("truncated", meta={"truncated": True}),
    "echo": rec("echo", answer=QUESTION.lower().rstrip("?")),
    "short": rec("short", answer="Thirty days."),
    "long": rec("long", answer=ANSWER + " More." * 1500),
    "pii": rec("pii", answer=ANSWER + " Questions go to jane.doe@acme-corp.com."),
    "toxic": rec("toxic", answer=ANSWER + " This shit policy is final."),
    "german": rec("german", question="Wie viele Tage haben Kunden Zeit, ein ungeöffnetes Produkt zurückzugeben?",
                  answer="Kunden haben dreißig Tage ab dem Lieferdatum Zeit, ein ungeöffnetes Produkt zurückzugeben, "
                         "und die Erstattung erfolgt innerhalb von fünf Werktagen auf das ursprüngliche Zahlungsmittel."),
}
EXPECTED = {"empty": "empty_turn", "roles": "malformed", "label": "malformed", "evol": "malformed", "jinja": "malformed",
            "truncated": "truncated", "echo": "identical_input_output", "short": "too_short", "long": "too_long",
            "pii": "pii", "toxic": "toxicity", "german": "language"}


def test_each_filter_drops_with_its_reason():
    good = [rec("good"), rec("json", question="What does the order status API return?",
                             answer='It returns JSON such as {"order": {"id": 7, "status": "shipped"}} for each order.')]
    kept, dropped = filter_records(good + list(BAD.values()), SFTFilterOptions())
    assert [r.id for r in kept] == ["good", "json"]  # nested JSON braces are not template leftovers
    assert reasons(dropped) == EXPECTED
    assert all(d.stage == "filter" and d.detail for d in dropped)


def test_every_filter_can_be_switched_off():
    records = list(BAD.values()) + [rec("dup")]
    kept, dropped = filter_records(records, all_off())
    assert len(kept) == len(records) and not dropped


def test_cheap_checks_run_before_later_ones():
    # truncated AND containing PII: the first failing check in pipeline order names the drop
    _, dropped = filter_records([rec("x", answer=ANSWER + " Mail jane.doe@acme-corp.com", meta={"truncated": True})])
    assert reasons(dropped) == {"x": "truncated"}


def test_pii_redact_keeps_the_record_with_placeholders():
    options = SFTFilterOptions.model_validate({"pii": {"action": "redact"}})
    kept, dropped = filter_records([BAD["pii"]], options)
    assert not dropped
    assert "<EMAIL>" in kept[0].output() and "jane.doe" not in kept[0].output()
    assert kept[0].meta["pii_redactions"] == {"email": 1}


def test_near_duplicates_keep_the_first_of_each_cluster():
    near = ANSWER.replace("five business days", "5 business days")
    other = ("Orders placed before noon ship the same day from the central warehouse, and tracking numbers are "
             "emailed as soon as the carrier collects the parcel from the loading dock.")
    records = [rec("a"), rec("b", answer=near), rec("c", question="When do orders ship?", answer=other), rec("d")]
    kept, dropped = filter_records(records, SFTFilterOptions())
    assert [r.id for r in kept] == ["a", "c"]
    assert {d.record.id: d.detail for d in dropped} == {"b": "cluster=a", "d": "cluster=a"}


def test_near_duplicate_threshold_is_configurable():
    halfway = ANSWER.split()
    halfway[::3] = ["changed"] * len(halfway[::3])  # a third of the words differ: ~0.3 Jaccard on 5-grams
    records = [rec("a"), rec("b", answer=" ".join(halfway))]
    assert near_duplicates(records, NearDuplicateOptions()) == {}
    # 1-gram shingles and 40 bands of one row catch far looser matches
    assert near_duplicates(records, NearDuplicateOptions(n_grams=1, num_buckets=40, hashes_per_bucket=1)) == {1: "a"}


def test_texts_shorter_than_the_ngram_still_dedupe():
    records = [rec("a", question="Hi there", answer="Hello"), rec("b", question="Hi there!", answer="hello")]
    assert near_duplicates(records, NearDuplicateOptions()) == {1: "a"}


def test_invalid_marker_regex_fails_at_load():
    with pytest.raises(ValueError, match="invalid marker"):
        SFTFilterOptions.model_validate({"malformed": {"markers": ["("]}})
