import pytest

from refinery.filters.bad_words import PROSE_ALLOWLIST, OfflineBadWordsFilter, load_bad_words, profanity_wordlist_path
from tests.filters.texts import ENGLISH

REASON = (False, "document_removed_with_badwords")


def test_list_is_better_profanitys_shipped_file():
    path = profanity_wordlist_path()
    assert path.parent.name == "better_profanity" and path.is_file()
    raw = {w.strip().lower() for w in path.read_text().splitlines()}
    words = load_bad_words()
    assert "bullshit" in raw and "bullshit" in words
    assert words <= raw and not words & PROSE_ALLOWLIST
    assert "sexual" in raw and "sexual" not in words


def test_drops_bad_words_keeps_clean_text(make_doc):
    f = OfflineBadWordsFilter()
    out = f.filter_batch([make_doc(ENGLISH), make_doc(ENGLISH + " Honestly, this plan is BULLSHIT."),
                          make_doc("bullshit, all of it")])
    assert out == [True, REASON, REASON]


def test_c4_word_boundaries(make_doc):
    f = OfflineBadWordsFilter()
    # bad words inside other words do not count (the Scunthorpe problem)
    for text in ("We met in Scunthorpe to discuss the classic assessment of the shitake harvest.",
                 "Passing the grass and glasses around."):
        assert f.filter(make_doc(text)) is True


def test_allowlist_and_extra_words(make_doc):
    hr = make_doc("Our policy on sexual harassment applies to everyone; she graduated magna cum laude.")
    assert OfflineBadWordsFilter().filter(hr) is True
    assert OfflineBadWordsFilter(use_default_allowlist=False).filter(hr) == REASON
    assert OfflineBadWordsFilter(allow_words=["bullshit"]).filter(make_doc("bullshit")) is True
    assert OfflineBadWordsFilter(extra_words=["Synergize"]).filter(make_doc("We must synergize now.")) == REASON


def test_languages_without_a_list(make_doc):
    german = make_doc("Das ist bullshit.", language="de")
    assert OfflineBadWordsFilter().filter(german) is True  # no German list: passes unchecked
    assert OfflineBadWordsFilter(languages=["en", "de"]).filter(german) == REASON
    with pytest.raises(ValueError, match="No bad-words list"):
        OfflineBadWordsFilter(fail_on_missing_language=True).filter(german)
    # no language metadata (language filter disabled): default_language applies
    assert OfflineBadWordsFilter(default_language="de").filter(make_doc("bullshit")) is True


def test_keep_fraction(make_doc):
    f = OfflineBadWordsFilter(keep_fraction=1.0, seed=0)
    assert f.filter(make_doc("bullshit")) is True


def test_documents_profile_needs_three_hits(make_doc):
    from refinery.filters.build import build_filter_steps
    from refinery.filters.options import FilterOptions

    def step(profile):
        return next(s for s in build_filter_steps(FilterOptions(profile=profile)) if s.short_name == "bad_words")

    # Octave's manual credits a contributor named Fook Fah Yap; "fook" is on better-profanity's list
    credits = make_doc("Contributors: Eddy Xiao, Sahil Yadav, Fook Fah Yap, Sean Young and many others.")
    assert step("web").filter(credits) == (False, "document_removed_with_badwords")
    assert step("documents").filter(credits) is True
    assert step("documents").filter(make_doc("fook this, fook that, what a fook.")) == (
        False, "document_removed_with_badwords")
