import gzip
import json

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.filters.bad_words import OfflineBadWordsFilter
from refinery.filters.build import FILTER_NAMES, build_filter_steps
from refinery.filters.heuristics import C4Quality, FineWebQuality, GopherQuality, GopherRepetition, ProseRepetition
from refinery.filters.language import OfflineLanguageFilter
from refinery.filters.metadata_filter import MetadataFilter
from refinery.filters.options import FilterOptions
from refinery.filters.pii import PIIRedactor, find_pii
from refinery.filters.prose_quality import ProseQuality
from tests.filters.texts import ENGLISH, GERMAN, MEMO, REPETITIVE, UNPUNCTUATED

ALL = [MetadataFilter, OfflineLanguageFilter, GopherQuality, GopherRepetition, C4Quality, FineWebQuality,
       OfflineBadWordsFilter, PIIRedactor]


def kinds(steps):
    return [type(s) for s in steps]


WEB = {"profile": "web"}


def test_default_steps_and_order():
    # the metadata filter has no rules by default, so it is not added
    assert kinds(build_filter_steps(FilterOptions(profile="web"))) == ALL[1:]
    opts = FilterOptions.model_validate({**WEB, "metadata": {"required_keys": ["source"]}})
    assert kinds(build_filter_steps(opts)) == ALL
    # documents: Gopher on the prose, FineWeb's line rules off
    steps = build_filter_steps(FilterOptions())
    assert kinds(steps) == [OfflineLanguageFilter, ProseQuality, ProseRepetition, C4Quality, OfflineBadWordsFilter,
                            PIIRedactor]
    assert steps[0].view == "prose" and build_filter_steps(FilterOptions(profile="web"))[0].view == "text"
    assert [s.short_name for s in steps[:-1]] == ["language", "gopher_quality", "gopher_repetition", "c4_quality",
                                                 "bad_words"]


def test_disabled_filters_are_left_out():
    opts = FilterOptions.model_validate({
        **WEB, "metadata": {"blocked_domains": ["x.com"], "enabled": False},
        "gopher_repetition": {"enabled": False}, "c4_quality": {"enabled": False},
        "bad_words": {"enabled": False}, "pii": {"enabled": False},
    })
    assert kinds(build_filter_steps(opts)) == [OfflineLanguageFilter, GopherQuality, FineWebQuality]
    opts = FilterOptions.model_validate({**WEB, "gopher_quality": {"enabled": False}, "language": {"enabled": False}})
    assert kinds(build_filter_steps(opts)) == [GopherRepetition, C4Quality, FineWebQuality, OfflineBadWordsFilter,
                                               PIIRedactor]
    none = FilterOptions.model_validate({name: {"enabled": False} for name in FILTER_NAMES + ("pii",)})
    assert build_filter_steps(none) == []


def test_pii_first_when_asked():
    opts = FilterOptions.model_validate({"pii": {"redact_before_filters": True}})
    assert kinds(build_filter_steps(opts))[0] is PIIRedactor


def test_options_reach_the_steps():
    opts = FilterOptions.model_validate({
        **WEB, "language": {"languages": ["de", "fr"], "threshold": 0.5},
        "gopher_quality": {"min_doc_words": 10, "stop_words": ["der", "die"]},
        "c4_quality": {"filter_curly_bracket": False},
        "bad_words": {"extra_words": ["synergy"]},
        "pii": {"kinds": ["email"], "placeholders": {"email": "[MAIL]"}},
    })
    lang, gq, _, c4, _, bw, pii = build_filter_steps(opts)
    assert lang.languages == ["de", "fr"] and lang.language_threshold == 0.5
    assert gq.min_doc_words == 10 and gq.stop_words == {"der", "die"}
    assert c4.filter_curly_bracket is False and c4.filter_no_terminal_punct is True
    assert bw.extra_words == ["synergy"]
    assert pii.kinds == ["email"] and pii.placeholders["email"] == "[MAIL]"


def test_exclusion_writers(tmp_path):
    opts = FilterOptions.model_validate({**WEB, "metadata": {"required_keys": ["source"]}})
    steps = build_filter_steps(opts, str(tmp_path / "dropped"))
    filters = [s for s in steps if not isinstance(s, PIIRedactor)]
    assert [s.exclusion_writer.output_folder.path for s in filters] == [
        str(tmp_path / "dropped" / name) for name in FILTER_NAMES if name != "quality_classifier"]  # off by default
    assert all(s.exclusion_writer.output_filename.template == "${rank}.jsonl.gz" for s in filters)
    assert all(s.exclusion_writer is None for s in build_filter_steps(opts) if hasattr(s, "exclusion_writer"))


def read_jsonl_gz(folder):
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl.gz"))
            for line in gzip.open(path, "rt") if line.strip()]


def test_end_to_end(tmp_path):
    pii_prose = ENGLISH + ("\n\nFor questions, write to jane.doe@acme-corp.com or call (555) 123-4567. "
                           "The invoice was paid with card 4111 1111 1111 1111 on 2024-03-05.")
    docs = {
        "keep-pii": (pii_prose, {"source": "a.txt"}),
        "keep-memo": (MEMO, {"source": "memo.docx"}),
        "no-source": (ENGLISH, {}),
        "blocked-site": (ENGLISH, {"source": "b", "url": "https://www.spam.example/page"}),
        "german": (GERMAN, {"source": "c"}),
        "repetitive": (REPETITIVE, {"source": "d"}),
        "too-short": (ENGLISH.split("\n\n")[0], {"source": "e"}),
        "curly": (ENGLISH + "\nThe payload was {\"a\": 1} as agreed.", {"source": "f"}),
        "unpunctuated": (UNPUNCTUATED, {"source": "g"}),
        "profane": (ENGLISH + " Frankly, the old plan was bullshit.", {"source": "h"}),
        "hashtags": (ENGLISH + " " + " ".join(f"#deal{i}" for i in range(30)), {"source": "i"}),
    }
    src = tmp_path / "in"
    src.mkdir()
    with open(src / "docs.jsonl", "w") as f:
        for doc_id, (text, meta) in docs.items():
            f.write(json.dumps({"id": doc_id, "text": text, "metadata": meta}) + "\n")

    opts = FilterOptions.model_validate({**WEB, "metadata": {"required_keys": ["source"],
                                                             "blocked_domains": ["spam.example"]}})
    dropped = tmp_path / "dropped"
    pipeline = [JsonlReader(str(src)), *build_filter_steps(opts, str(dropped)),
                JsonlWriter(str(tmp_path / "out"), output_filename="${rank}.jsonl.gz")]
    LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(tmp_path / "logs")).run()

    kept = {d["id"]: d for d in read_jsonl_gz(tmp_path / "out")}
    assert set(kept) == {"keep-pii"}  # web: C4 drops the short memo (the documents profile keeps it)
    text = kept["keep-pii"]["text"]
    assert "<EMAIL>" in text and "<PHONE>" in text and "<CREDIT_CARD>" in text and "2024-03-05" in text
    assert find_pii(text) == []
    assert kept["keep-pii"]["metadata"]["pii_redactions"] == {"email": 1, "phone": 1, "ip_address": 0,
                                                              "credit_card": 1, "us_ssn": 0}
    assert kept["keep-pii"]["metadata"]["language"] == "en"
    assert "filter_reason" not in kept["keep-pii"]["metadata"]

    expected = {
        "metadata": {"no-source": "missing_metadata:source", "blocked-site": "blocked_domain"},
        "language": {"german": "language_below_threshold"},
        "gopher_repetition": {"repetitive": "dup_line_frac"},
        "gopher_quality": {"too-short": "gopher_short_doc", "hashtags": "gopher_too_many_hashes"},
        "c4_quality": {"curly": "curly_bracket", "keep-memo": "too_few_sentences", "unpunctuated": "too_few_sentences"},
        "bad_words": {"profane": "document_removed_with_badwords"},
    }
    got = {name: {d["id"]: d["metadata"]["filter_reason"] for d in read_jsonl_gz(dropped / name)}
           for name in FILTER_NAMES if (dropped / name).exists()}
    assert got == expected
    german = read_jsonl_gz(dropped / "language")[0]
    assert german["metadata"]["language"] == "de" and german["text"] == GERMAN

    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    counters = {k for step in stats for k in step["stats"]}
    assert {"dropped_language_below_threshold", "dropped_document_removed_with_badwords", "pii_email",
            "pii_phone", "pii_credit_card"} <= counters
