"""The `web` profile is FineWeb/Gopher/C4 as published: on real documents its steps decide exactly as
datatrove's own filters with their default settings (the language filter on the same offline lid.176 model,
since datatrove's would download it; bad words are our offline list, so not compared)."""
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
)
from datatrove.pipeline.filters.base_filter import get_filter_result

from refinery.extract.dispatch import extract_bytes
from refinery.extract.options import ExtractOptions
from refinery.filters.build import build_filter_steps
from refinery.filters.language import OfflineFastTextLID
from refinery.filters.options import FilterOptions
from tests.filters.texts import ENGLISH, GERMAN, MEMO, REPETITIVE, UNPUNCTUATED, WORD_SALAD

DATA = Path(__file__).parent.parent / "data"


def real_texts(limit: int = 80) -> list[str]:
    """Documents of the committed real-document slice and the snippets, as our extractors give them (the
    first `limit`: spaCy in datatrove's filters costs ~0.2 s per document)."""
    texts = [p.read_text() for p in sorted((DATA / "snippets").glob("*.md"))]
    for path in sorted((DATA / "realdocs" / "raw").rglob("*")) if (DATA / "realdocs").exists() else []:
        if path.is_file() and path.suffix in (".html", ".txt", ".md", ".docx", ".pdf"):
            try:
                texts += [d.text for d in extract_bytes(path.name, path.read_bytes(), ExtractOptions())
                          if hasattr(d, "text")]
            except Exception:  # quarantined files are not the filters' business
                continue
    return texts[:limit]


def datatrove_filters():
    language = LanguageFilter(languages=["en"], language_threshold=0.65)
    language.model = OfflineFastTextLID(["en"])
    return {"language": language, "gopher_quality": GopherQualityFilter(),
            "gopher_repetition": GopherRepetitionFilter(), "c4_quality": C4QualityFilter(),
            "fineweb_quality": FineWebQualityFilter()}


def test_web_profile_decides_exactly_as_datatrove():
    texts = real_texts() + [ENGLISH, GERMAN, MEMO, REPETITIVE, UNPUNCTUATED, WORD_SALAD]
    assert len(texts) >= 8
    ours = {s.short_name: s for s in build_filter_steps(FilterOptions(profile="web")) if hasattr(s, "short_name")}
    theirs = datatrove_filters()
    decided = 0
    for i, text in enumerate(texts):
        a, b = Document(text=text, id=str(i), metadata={}), Document(text=text, id=str(i), metadata={})
        for name, reference in theirs.items():
            got, want = get_filter_result(ours[name].filter(a)), get_filter_result(reference.filter(b))
            assert got[0] == bool(want[0]), (name, text[:200], got, want)
            if want[1]:
                assert got[1] == want[1]
            assert a.text == b.text  # C4 rewrites lines: the same way
            decided += 1
            if not got[0]:
                break
    assert decided >= len(texts)


@pytest.mark.parametrize("profile", ["web", "documents"])
def test_profile_choice_is_recorded_in_the_language_metadata(profile, make_doc):
    lang = next(s for s in build_filter_steps(FilterOptions(profile=profile)) if s.short_name == "language")
    doc = make_doc(ENGLISH)
    assert lang.filter(doc) is True and doc.metadata["language"] == "en"
