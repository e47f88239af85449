"""datatrove's Gopher, C4 and FineWeb rules through our wrappers, with the `web` profile's defaults (datatrove's
own); the `documents` profile's departures are in test_documents_profile.py."""
from refinery.filters.build import build_filter_steps
from refinery.filters.heuristics import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from refinery.filters.options import C4QualityOptions, FilterOptions
from tests.filters.texts import ENGLISH, MEMO, REPETITIVE, UNPUNCTUATED, WORD_SALAD


def step(cls, profile="web"):
    return next(s for s in build_filter_steps(FilterOptions(profile=profile)) if isinstance(s, cls))


def test_gopher_repetition(make_doc):
    f = step(GopherRepetition)
    assert f.filter_batch([make_doc(ENGLISH), make_doc(REPETITIVE)]) == [True, (False, "dup_line_frac")]
    # one long line repeating a phrase: caught by the n-gram rules instead
    phrase = " ".join(["best cheap watches online"] * 40)
    keep, reason = f.filter_batch([make_doc(phrase)])[0]
    assert not keep and reason.startswith(("top_", "duplicated_"))


def test_gopher_repetition_rejects_any_short_text(make_doc):
    # a datatrove quirk, hence gopher_quality running first and the note in GopherRepetitionOptions
    short = make_doc("Meeting moved to Thursday at noon in room four, please update your calendars.")
    keep, reason = step(GopherRepetition).filter(short)
    assert not keep and reason.startswith("top_")
    assert step(GopherQuality).filter(short) == (False, "gopher_short_doc")
    assert GopherRepetition(top_n_grams=()).filter(short) is True


def test_gopher_quality(make_doc):
    f = step(GopherQuality)
    out = f.filter_batch([make_doc(ENGLISH), make_doc("Thanks for the update, see you on Monday."),
                          make_doc(WORD_SALAD), make_doc("- item one\n" + "\n".join(f"- the {w} item and more"
                                                                                   for w in WORD_SALAD.split()))])
    assert out == [True, (False, "gopher_short_doc"), (False, "gopher_enough_stop_words"),
                   (False, "gopher_too_many_bullets")]


def test_c4_documents_profile_keeps_business_documents_intact(make_doc):
    f = step(C4Quality, "documents")
    doc = make_doc(MEMO)
    assert f.filter(doc) is True
    # headings and bullets without final punctuation survive (C4's own defaults would delete them)
    for line in ("Project Apollo Status", "Budget", "- Forecast unchanged"):
        assert line in doc.text


def test_c4_document_rules(make_doc):
    f = step(C4Quality)
    assert f.filter(make_doc(ENGLISH + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.")) == (
        False, "lorem_ipsum")
    assert f.filter(make_doc(ENGLISH + "\nThe config is {\"a\": 1} as usual.")) == (False, "curly_bracket")
    # line rules: javascript/cookie lines are removed, the rest kept
    doc = make_doc(ENGLISH + "\nPlease enable JavaScript to view this page.\nThis site uses cookies to improve it.")
    assert f.filter(doc) is True
    assert "JavaScript" not in doc.text and "cookies" not in doc.text and "warehouse project" in doc.text
    # nothing left after the line rules: dropped rather than kept empty
    assert f.filter(make_doc("Enable javascript.\nWe use cookies.")) == (False, "too_few_sentences")


def test_c4_web_settings_drop_short_memos(make_doc):
    f = C4Quality(**C4QualityOptions().model_dump(exclude={"enabled"}))
    assert f.filter(make_doc(MEMO)) == (False, "too_few_sentences")


def test_fineweb_quality(make_doc):
    f = step(FineWebQuality)
    short_lines = "\n".join(f"Item {w}." for w in WORD_SALAD.split())
    dup_lines = ENGLISH + "\n" + "\n".join(["Confidential - internal use only."] * 3)
    out = f.filter_batch([make_doc(ENGLISH), make_doc(UNPUNCTUATED), make_doc(short_lines), make_doc(dup_lines)])
    assert out == [True, (False, "line_punct_ratio"), (False, "short_line_ratio"), (False, "char_dup_ratio")]


def test_bare_false_gets_the_filter_name(make_doc):
    class Bare(GopherQuality):
        def filter(self, doc):
            return False

    assert Bare().filter_batch([make_doc("x")]) == [(False, "gopher_quality")]


def test_c4_sentence_shortcut_decides_exactly_like_datatrove(make_doc):
    """C4Quality skips spaCy's per-line sentence count when min_num_sentences <= 1; the decision and the
    kept text must be what datatrove's own C4QualityFilter gives, except that datatrove counts a blank line
    as a sentence and so keeps documents left with blank lines only, which we drop."""
    import random

    from datatrove.pipeline.filters import C4QualityFilter

    rng = random.Random(0)
    pieces = [ENGLISH, MEMO, UNPUNCTUATED, WORD_SALAD, "", "   ", "\n\n", "...", "- a bullet", "Enable javascript.",
              "We use cookies.", "Privacy policy applies.", "x" * 1200, "Ok.", "  \t  ", "Lorem ipsum dolor."]
    texts = ["\n".join(rng.sample(pieces, rng.randint(1, 5))) for _ in range(300)] + pieces
    for min_sentences in (0, 1):
        opts = C4QualityOptions(min_num_sentences=min_sentences).model_dump(exclude={"enabled", "preserve_line_format"})
        ours, theirs = C4Quality(**opts), C4QualityFilter(**opts)
        for text in texts:
            a, b = make_doc(text), make_doc(text)
            got, want = ours.filter(a), theirs.filter(b)
            if want is True and not b.text.strip() and min_sentences == 1:
                assert got == (False, "too_few_sentences") and a.text == text
                continue
            assert (got is True) == (want is True) and (got is True or got == want), (text, got, want)
            assert a.text == b.text
