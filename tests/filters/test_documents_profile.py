"""The `documents` profile on real documentation (SQLite's pages, public domain, extracted by our HTML
extractor: tests/data/snippets/) and on spam: manuals with code, tables and commands are kept; spam, other
languages and empty pages are not. The `web` profile drops the same manuals, as datatrove's filters do."""
from pathlib import Path

import pytest
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result

from refinery.filters.build import build_filter_steps
from refinery.filters.language import lid_text
from refinery.filters.options import FilterOptions
from refinery.filters.prose_quality import quality_scores
from tests.filters.texts import ENGLISH, GERMAN, MEMO, REPETITIVE, WORD_SALAD

SNIPPETS = Path(__file__).parent.parent / "data" / "snippets"
SERIES = (SNIPPETS / "sqlite-series.md").read_text()  # SQL examples collapsed onto lines, identifiers
QUICKSTART = (SNIPPETS / "sqlite-quickstart.md").read_text()  # a shell session and a C program

RUNBOOK = """# Restarting the ingest service

Run these commands on the primary host, then check that the queue drains:

```bash
$ sudo systemctl restart ingest.service
$ journalctl -u ingest.service --since "5 min ago" | grep -i error
$ curl -s http://localhost:8080/healthz | jq .status
```

| Setting | Default | Meaning |
|---|---|---|
| `queue.max_batch` | `500` | documents per batch |
| `queue.timeout_s` | `30` | seconds before a batch is retried |

If `jq` prints `"degraded"`, see the [on-call guide](https://wiki.example.org/oncall) and page the owner of
`/etc/ingest/config.yaml`. The service reads its settings only at start, so a restart is needed after any
change to the file, and the old workers finish their batches before they exit."""

SHEET = "\n".join(["| region | q1 | q2 | q3 | q4 |", "|---|---|---|---|---|"] +
                  [f"| {r} | {i * 10} | {i * 11} | {i * 12} | {i * 13} |" for i, r in
                   enumerate(["north", "south", "east", "west", "central", "online"], 1)])

STUFFING = " ".join(["cheap watches best cheap watches online buy cheap watches discount watches"] * 12)
LINK_FARM = "\n".join(f"Best deals {w} http://deals{i}.example.com/{w} click now" for i, w in
                      enumerate(WORD_SALAD.split()[:40]))


def verdict(text: str, profile: str = "documents") -> str:
    from datatrove.data import Document

    doc = Document(text=text, id="d", metadata={})
    for step in build_filter_steps(FilterOptions(profile=profile)):
        if isinstance(step, BaseFilter):
            keep, reason = get_filter_result(step.filter(doc))
            if not keep:
                return f"{step.short_name}:{reason}"
    return "kept"


@pytest.mark.parametrize("name,text", [("sqlite-series", SERIES), ("sqlite-quickstart", QUICKSTART),
                                       ("runbook", RUNBOOK), ("sheet", SHEET), ("memo", MEMO), ("prose", ENGLISH)])
def test_documents_with_code_tables_and_commands_are_kept(name, text):
    assert verdict(text) == "kept"


def test_the_web_profile_drops_the_same_manuals_as_published_filters_do():
    assert verdict(SERIES, "web") == "gopher_quality:gopher_below_alpha_threshold"
    assert verdict(QUICKSTART, "web") == "gopher_quality:gopher_below_alpha_threshold"
    assert verdict(RUNBOOK, "web") != "kept" and verdict(SHEET, "web") != "kept"


@pytest.mark.parametrize("text,reason", [
    (GERMAN, "language:language_below_threshold"),
    (WORD_SALAD, "gopher_quality:gopher_enough_stop_words"),
    (STUFFING, "gopher_quality:gopher_enough_stop_words"),
    (REPETITIVE, "gopher_repetition:dup_line_frac"),
    ("Hi all, see you.", "gopher_quality:gopher_short_doc"),
    (ENGLISH + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", "c4_quality:lorem_ipsum"),
])
def test_spam_other_languages_and_empty_pages_are_dropped(text, reason):
    assert verdict(text) == reason


def test_link_farm_is_dropped():
    assert verdict(LINK_FARM) != "kept"


def test_ratios_are_computed_on_the_prose():
    s = quality_scores(RUNBOOK)
    # the code block, the table, inline code, the URL and the path are not prose words
    assert s["prose_words"] < s["words"] and s["alpha_words_ratio"] > 0.95
    assert "systemctl" not in lid_text(RUNBOOK) and "queue.max_batch" not in lid_text(RUNBOOK)


def test_language_of_a_table_only_document_comes_from_its_words_and_too_little_text_is_kept():
    from datatrove.data import Document

    lang = next(s for s in build_filter_steps(FilterOptions()) if s.short_name == "language")
    doc = Document(text="| id | qty |\n|---|---|\n| 7 | 12 |", id="d", metadata={})
    assert lang.filter(doc) is True and doc.metadata["language"] == "und"
    german_table = "\n".join(f"| {line} |" for line in GERMAN.split(". "))
    assert get_filter_result(lang.filter(Document(text=german_table, id="g", metadata={})))[0] is False


def test_an_unsure_but_most_likely_english_table_is_kept_and_the_web_profile_drops_it(make_doc):
    # a real sheet of Octave's manual (GPL): fastText gives English 0.46, ahead of every other language
    sheet = ("| Type | Function | Source Code |\n|---|---|---|\n| RowVector | row_vector_value | dRowVector.h |\n"
             "| ComplexRowVector | complex_row_vector_value | CRowVector.h |\n| ColumnVector | column_vector_value | "
             "dColVector.h |\n| Matrix | matrix_value | dMatrix.h |\n| ComplexMatrix | complex_matrix_value | CMatrix.h |\n"
             "| boolMatrix | bool_matrix_value | boolMatrix.h |\n| charMatrix | char_matrix_value | chMatrix.h |")
    docs = next(s for s in build_filter_steps(FilterOptions()) if s.short_name == "language")
    doc = make_doc(sheet)
    assert docs.filter(doc) is True and doc.metadata["language"] == "en" and doc.metadata["language_score"] < 0.65
    strict = next(s for s in build_filter_steps(FilterOptions.model_validate(
        {"language": {"accept_top_language": False}})) if s.short_name == "language")
    assert strict.filter(make_doc(sheet)) == (False, "language_below_threshold")


def test_documents_profile_keeps_code_indentation(make_doc):
    c4 = next(s for s in build_filter_steps(FilterOptions()) if s.short_name == "c4_quality")
    text = "Define the helper first:\n\n    def area(r):\n        return 3.14159 * r * r\n\nThen call it."
    doc = make_doc(text)
    assert c4.filter(doc) is True and doc.text == text  # C4 as published strips every line it keeps


def test_a_sheet_repeating_a_few_names_is_too_little_language_to_tell(make_doc):
    # SQLite's speed.html as a workbook (public domain): eight tables of four product names and timings;
    # fastText read "PostgreSQL MySQL SQLite nosync" x 8 as German (0.50). Five distinct words are no language.
    sheet = "\n\n".join(
        f"## Table {n}\n\n| PostgreSQL: | {n}.373 |\n|---|---|\n| MySQL: | 0.{n}14 |\n| SQLite 2.7.6: | 1{n}.061 |\n"
        f"| SQLite 2.7.6 (nosync): | 0.2{n}3 |" for n in range(1, 9))
    lang = next(s for s in build_filter_steps(FilterOptions()) if s.short_name == "language")
    doc = make_doc(sheet)
    assert lang.filter(doc) is True and doc.metadata["language"] == "und"
    assert lid_text("Der Server speichert alle Zeiten in koordinierter Weltzeit und nichts anderes.") is not None
